"""NDArray.__getitem__ / __setitem__ against NumPy, and MXNet's view semantics."""
import numpy as np
import pytest

import mixnet as mx

X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)


def mxnet_shape(shape):
    return shape if shape else (1,)  # MXNet 1.x indexing never gives a 0-dim array


BASIC_KEYS = [
    0, 1, -1, slice(None), slice(1, None), slice(0, 1), slice(None, None, -1),
    (0, 1), (1, 2, 3), (1, 2, 3, 4), (-1, -2, -3, -4), (slice(None), 1), (slice(None), slice(1, 3)),
    (Ellipsis, 1), (0, Ellipsis, 2), (Ellipsis,), (None,), (0, None, 1), (None, Ellipsis, None),
    (slice(None), slice(None), slice(None, None, 2)), (1, slice(2, 0, -1), slice(None), 0),
    (slice(None, None, 2), Ellipsis, slice(1, 5, 3)), (np.int64(1), np.int32(2)), (slice(5, 9),),
    (0, 1, slice(1, 3)), (1, slice(1, 2), slice(None)), (slice(0, 0),), (), (0, 0, 0, slice(2, 3)),
]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=[repr(k) for k in BASIC_KEYS])
def test_basic_getitem_matches_numpy(key):
    a = mx.nd.array(X)
    got = a[key]
    want = X[key]
    assert got.shape == mxnet_shape(want.shape)
    np.testing.assert_array_equal(got.asnumpy().reshape(want.shape), want)


def test_contiguous_keys_give_views_that_write_through():
    for key in [1, slice(0, 1), (1, 2), (1, slice(1, 3)), (0, 1, 2, slice(1, 4)), (Ellipsis,)]:
        a = mx.nd.array(X)
        v = a[key]
        v[:] = -7
        want = X.copy()
        want[key] = -7
        np.testing.assert_array_equal(a.asnumpy(), want, err_msg=repr(key))
    a = mx.nd.array(X)
    row = a[1][2]  # a view of a view
    row += 100
    want = X.copy()
    want[1][2] += 100
    np.testing.assert_array_equal(a.asnumpy(), want)


def test_strided_keys_copy():
    a = mx.nd.array(X)
    c = a[:, :, 1]  # not contiguous: MXNet copies
    c[:] = -1
    np.testing.assert_array_equal(a.asnumpy(), X)


def test_one_dim_int_index_gives_shape_1():
    a = mx.nd.array([1, 2, 3])
    assert a[0].shape == (1,) and a[-1].asscalar() == 3


@pytest.mark.parametrize("key", [3, -4, (0, 4), (slice(None), 4)])
def test_out_of_range_is_index_error(key):
    with pytest.raises(IndexError):
        mx.nd.array(X[0])[key]


def test_bad_keys():
    a = mx.nd.array(X)
    with pytest.raises(IndexError):
        a[0, 0, 0, 0, 0]
    with pytest.raises(IndexError):
        a[..., 0, ...]
    with pytest.raises(IndexError):
        a["x"]
    s = mx.nd.ones((2,)).sum()  # shape (1,)
    assert s[0].shape == (1,)


ADVANCED_KEYS = [
    [0, 1, 0], np.array([1, 0]), (slice(None), [2, 0, 1]), ([0, 1], [1, 2]), ([0, 1], slice(None), [1, 3]),
    ([[0], [1]], [0, 2]), (1, [0, 2], slice(1, 3)), (Ellipsis, [4, 0]), ([1, 0], None, 2),
    (slice(None), [[0, 1], [2, 1]], 0), ([-1, 0],), (None, [1]), (range(2), 0),
    (slice(1, None), np.array([[2]]), slice(None, None, 2), [3, 1]),
]


@pytest.mark.parametrize("key", ADVANCED_KEYS, ids=[repr(k) for k in ADVANCED_KEYS])
def test_advanced_getitem_matches_numpy(key):
    a = mx.nd.array(X)
    nkey = tuple(list(k) if isinstance(k, range) else k for k in key) if isinstance(key, tuple) else key
    want = X[nkey]
    got = a[key]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.asnumpy(), want)


def test_advanced_index_with_ndarrays_of_any_dtype():
    a = mx.nd.array(X)
    for dtype in ["int32", "int64", "float32"]:
        idx = mx.nd.array([1, 0, 1], dtype=dtype)
        np.testing.assert_array_equal(a[idx].asnumpy(), X[[1, 0, 1]])
        np.testing.assert_array_equal(a[:, idx, 2].asnumpy(), X[:, [1, 0, 1], 2])
    c = a[[0]]
    c[:] = 0  # a gather is a copy
    np.testing.assert_array_equal(a.asnumpy(), X)


def test_advanced_errors():
    a = mx.nd.array(X)
    with pytest.raises(IndexError):
        a[[0, 2]]  # 2 is out of range for axis 0 (size 2)
    with pytest.raises(IndexError):
        a[[0, 1], [0, 1, 2]]  # shapes do not broadcast
    with pytest.raises(IndexError):
        a[np.array([True, False])]  # MXNet 1.x has no boolean indexing
    with pytest.raises(IndexError):
        a[mx.nd.array([1, 0], dtype="bool")]


SET_CASES = [
    (slice(None), 5.0), (1, -1.0), ((0, 1), np.arange(20, dtype=np.float32).reshape(4, 5)),
    (slice(1, 2), np.ones((1, 3, 4, 5))), ((slice(None), 1), 3), ((Ellipsis, 2), np.arange(24).reshape(2, 3, 4)),
    ((slice(None), slice(None), 1), np.arange(5)), ((0, slice(None, None, 2), 1, slice(1, 4)), 9.5),
    ((slice(None, None, -1), 0, 0), [[1, 2, 3, 4, 5]]), ((1, 2, 3, 4), 11), ((1, None, 2), 4.0),
    ([1, 0], 2.0), (([0, 1], [1, 2]), np.arange(10).reshape(2, 1, 5)), ((slice(None), [2, 0], 1), [[7], [8]]),
    ((Ellipsis, [0, 4]), 6.0), ((np.array([1]), slice(None), [3]), np.arange(3).reshape(3, 1)),
]


SET_PARAMS = [(k, v, kind) for k, v in SET_CASES for kind in ("scalar_or_numpy", "ndarray")
              if kind == "scalar_or_numpy" or not np.isscalar(v)]


@pytest.mark.parametrize("key,value,kind", SET_PARAMS,
                         ids=[f"{kind}-{k!r}" for k, _, kind in SET_PARAMS])
def test_setitem_matches_numpy(key, value, kind):
    value_mx = mx.nd.array(np.asarray(value, dtype=np.float32)) if kind == "ndarray" else value
    a = mx.nd.array(X)
    a[key] = value_mx
    want = X.copy()
    want[key] = np.asarray(value, dtype=np.float32)
    np.testing.assert_array_equal(a.asnumpy(), want)


def test_setitem_converts_dtype_and_context():
    a = mx.nd.zeros((2, 3), dtype="int32")
    a[0] = mx.nd.array([1.9, 2.1, -3.5], ctx=mx.cpu(1))
    np.testing.assert_array_equal(a.asnumpy(), [[1, 2, -3], [0, 0, 0]])
    a[:, 1] = np.array([7.0, 8.0])
    np.testing.assert_array_equal(a.asnumpy(), [[1, 7, -3], [0, 8, 0]])


def test_setitem_whole_array_keeps_identity_and_self_assign():
    a = mx.nd.array(X)
    b = a
    a[:] = a
    a[:] = mx.nd.ones(X.shape)
    assert b is a
    np.testing.assert_array_equal(a.asnumpy(), np.ones(X.shape))


def test_setitem_zero_dim_and_empty():
    s = mx.nd.array(np.float32(2.0).reshape(()))
    assert s.shape == ()
    s[()] = 3
    assert s.asnumpy()[()] == 3
    s[:] = mx.nd.array([4])
    assert s.asnumpy()[()] == 4
    assert s[()] is s
    with pytest.raises(IndexError):
        s[0] = 1
    e = mx.nd.zeros((0, 3))
    e[:] = 1  # nothing to write
    assert e.shape == (0, 3)


def test_setitem_bad_value_shape():
    a = mx.nd.zeros((2, 3))
    with pytest.raises(ValueError):
        a[0] = mx.nd.ones((2,))
    with pytest.raises(ValueError):
        a[:, 1] = np.ones((3,))


def test_setitem_is_ordered_with_pending_reads():
    a = mx.nd.ones((300, 300))
    b = mx.nd.dot(a, a)  # reads a
    a[:] = 0
    a[1:3, ::2] = 5
    assert b.asnumpy()[0, 0] == 300
    assert a.asnumpy()[2, 2] == 5 and a.asnumpy()[2, 1] == 0
