"""mx.test_utils: comparisons that fail when they should (with the location and values in the
message), random data helpers, contexts, and the symbolic checks (which need mx.sym)."""
import os

import numpy as np
import pytest

import mixnet as mx
from mixnet import test_utils as tu



def test_assert_almost_equal_passes():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    tu.assert_almost_equal(mx.nd.array(a), a)
    tu.assert_almost_equal(a, a + 1e-6)  # within float32's default tolerance
    tu.assert_almost_equal(a, a + 0.05, rtol=0, atol=0.1)
    tu.assert_almost_equal(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), equal_nan=True)
    tu.assert_almost_equal(np.ones((2, 3)), np.ones((3,)))  # broadcasts


def test_assert_almost_equal_message():
    a = np.zeros((3, 4))
    b = np.zeros((3, 4))
    b[1, 2] = 0.5
    b[2, 3] = 1e-9
    with pytest.raises(AssertionError) as info:
        tu.assert_almost_equal(mx.nd.array(a, dtype=np.float64), b, rtol=1e-5, atol=1e-8,
                               names=("ours", "ref"))
    msg = str(info.value)
    assert "Location of maximum error: (1, 2)" in msg
    assert "ours=0.00000000" in msg and "ref=0.50000000" in msg
    assert "mismatch 8.333333%" in msg  # one element of twelve
    assert "rtol=1.000000e-05" in msg


def test_assert_almost_equal_failures():
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(np.array([1.0]), np.array([1.1]), rtol=1e-3, atol=1e-3)
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(np.array([np.nan]), np.array([np.nan]))  # equal_nan off
    with pytest.raises(AssertionError, match="Shape mismatch"):
        tu.assert_almost_equal(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(AssertionError, match="Shape mismatch"):
        tu.assert_almost_equal(np.ones((2, 3)), np.ones((3,)), use_broadcast=False)
    # float16 defaults are looser than float64's
    tu.assert_almost_equal(np.float16([1.0]), np.float16([1.005]))
    with pytest.raises(AssertionError):
        tu.assert_almost_equal(np.float64([1.0]), np.float64([1.005]))


def test_almost_equal_same_and_violation():
    assert tu.almost_equal(np.ones(3), mx.nd.ones((3,)))
    assert not tu.almost_equal(np.ones(3), np.array([1, 2, 1.0]))
    assert tu.same(mx.nd.array([1, 2]), np.array([1, 2], dtype=np.float32))
    assert not tu.same(np.array([1, 2]), np.array([1, 3]))
    assert not tu.same(np.ones(2), np.ones(3))
    index, rel = tu.find_max_violation(np.array([1.0, 1.0, 1.0]), np.array([1.0, 3.0, 1.1]),
                                       rtol=0.01, atol=0.0)
    assert index == (1,)
    assert rel == pytest.approx(2.0 / 0.03)
    tu.assert_almost_equal_ignore_nan(np.array([np.nan, 1.0]), np.array([5.0, 1.0]))


def test_rand_shapes():
    for _ in range(20):
        s = tu.rand_shape_nd(4, dim=3)
        assert len(s) == 4 and all(1 <= d <= 3 for d in s)
        a, b = tu.rand_shape_2d(2, 5)
        assert 1 <= a <= 2 and 1 <= b <= 5
        assert all(1 <= d <= 4 for d in tu.rand_shape_3d(4, 4, 4))
    assert any(0 in tu.rand_shape_nd(6, dim=1, allow_zero_size=True) for _ in range(20))


def test_random_arrays_and_rand_ndarray():
    a = tu.random_arrays((2, 3))
    assert a.shape == (2, 3) and a.dtype == np.float32
    b, c = tu.random_arrays((4,), ())
    assert b.shape == (4,) and c.shape == ()
    x = tu.rand_ndarray((30, 40), dtype=np.float64)
    assert isinstance(x, mx.nd.NDArray)
    assert x.shape == (30, 40) and x.dtype == np.float64 and x.context == mx.cpu()
    assert 0.8 < x.asnumpy().std() < 1.2
    sparse = tu.rand_ndarray((50, 50), density=0.1).asnumpy()
    assert 0.03 < np.count_nonzero(sparse) / sparse.size < 0.2
    with pytest.raises(NotImplementedError, match="csr"):
        tu.rand_ndarray((3, 3), stype="csr")
    assert len(tu.random_sample([1, 2, 3, 4], 2)) == 2


def test_default_context():
    assert tu.default_context() == mx.cpu()
    try:
        tu.set_default_context(mx.cpu(1))
        assert tu.default_context() == mx.cpu(1)
        assert tu.rand_ndarray((2,)).context == mx.cpu(1)
    finally:
        tu._default_ctx[0] = None
    with pytest.raises(TypeError):
        tu.set_default_context("cpu")


def test_assert_exception():
    tu.assert_exception(int, ValueError, "x")
    with pytest.raises(AssertionError, match="did not raise"):
        tu.assert_exception(int, ValueError, "3")
    with pytest.raises(AssertionError, match="TypeError"):
        tu.assert_exception(int, ValueError, None)
    tu.assert_exception(mx.init.create, ValueError, "nosuch")


def test_environment_and_np_reduce():
    os.environ.pop("MIXNET_TEST_UTILS_X", None)
    with tu.environment("MIXNET_TEST_UTILS_X", "7"):
        assert os.environ["MIXNET_TEST_UTILS_X"] == "7"
    assert "MIXNET_TEST_UTILS_X" not in os.environ
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(tu.np_reduce(x, (0, 2), True, np.sum),
                                  x.sum(axis=(0, 2), keepdims=True))
    np.testing.assert_array_equal(tu.np_reduce(x, None, False, np.max), x.max())


def test_check_symbolic_forward_and_backward():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    y = a * 2 + b
    av, bv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    tu.check_symbolic_forward(y, [av, bv], [2 * av + bv])
    with pytest.raises(AssertionError, match="Location of maximum error"):
        tu.check_symbolic_forward(y, {"a": av, "b": bv}, [2 * av])
    og = np.array([1.0, -1.0])
    tu.check_symbolic_backward(y, [av, bv], [og], [2 * og, og])
    tu.check_symbolic_backward(y, [av, bv], [og], {"a": 2 * og, "b": og}, grad_req="add")
    with pytest.raises(AssertionError):
        tu.check_symbolic_backward(y, [av, bv], [og], [og, og])


def test_check_numeric_gradient():
    x = mx.sym.Variable("x")
    w = mx.sym.Variable("w")
    y = mx.sym.tanh(mx.sym.FullyConnected(x, w, num_hidden=3, no_bias=True))
    loc = {"x": np.random.randn(2, 4), "w": np.random.randn(3, 4) * 0.3}
    tu.check_numeric_gradient(y, loc, numeric_eps=1e-3, rtol=1e-2, atol=1e-3)
    tu.check_numeric_gradient(y, loc, grad_nodes=["w"], dtype=np.float64)
    # BlockGrad hides half of d(x*x)/dx from backward: the finite differences see it
    wrong = mx.sym.BlockGrad(x) * x
    with pytest.raises(AssertionError, match="NUMERICAL_x"):
        tu.check_numeric_gradient(wrong, [np.array([1.0, 2.0, -3.0])], dtype=np.float64)


def test_check_consistency():
    x = mx.sym.Variable("x")
    y = mx.sym.sigmoid(x) * 3
    ctx_list = [{"ctx": mx.cpu(0), "x": (3, 4), "type_dict": {"x": np.float32}},
                {"ctx": mx.cpu(0), "x": (3, 4), "type_dict": {"x": np.float64}}]
    tu.check_consistency(y, ctx_list)
