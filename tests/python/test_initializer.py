"""mx.init: each initializer's values or statistics, MXNet's name rules, InitDesc, dumps/create,
and Python subclasses seen from C++ (through Mixed, which calls them by pointer)."""
import json
import math

import numpy as np
import pytest

import mixnet as mx


def _init(initializer, name, shape):
    arr = mx.nd.zeros(shape)
    initializer(name, arr)
    return arr.asnumpy()


def test_alias_module():
    assert mx.init is mx.initializer
    assert isinstance(mx.init.Uniform(), mx.init.Initializer)


def test_uniform_bounds_and_spread():
    w = _init(mx.init.Uniform(scale=0.5), "fc_weight", (200, 500))
    assert np.abs(w).max() <= 0.5
    assert np.abs(w).max() > 0.49
    assert abs(w.mean()) < 0.01
    assert abs(w.std() - 0.5 / math.sqrt(3)) < 0.005


def test_normal_sigma():
    w = _init(mx.init.Normal(sigma=0.2), "fc_weight", (200, 500))
    assert abs(w.std() - 0.2) < 0.003
    assert abs(w.mean()) < 0.003


@pytest.mark.parametrize("factor_type", ["avg", "in", "out"])
def test_xavier_uniform_bound(factor_type):
    shape = (64, 32, 3, 3)
    fan_in, fan_out = 32 * 9, 64 * 9
    factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[factor_type]
    bound = math.sqrt(3.0 / factor)
    init = mx.init.Xavier(rnd_type="uniform", factor_type=factor_type, magnitude=3)
    assert init._scale("w", list(shape)) == pytest.approx(bound)
    w = _init(init, "conv_weight", shape)
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_xavier_gaussian_std_and_msra():
    w = _init(mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2), "fc_weight",
              (400, 300))
    assert abs(w.std() - math.sqrt(2.0 / 300)) < 0.02 * math.sqrt(2.0 / 300)
    w = _init(mx.init.MSRAPrelu(factor_type="avg", slope=0.25), "fc_weight", (400, 300))
    expected = math.sqrt(2.0 / (1 + 0.25 ** 2) / 350.0)
    assert abs(w.std() - expected) < 0.02 * expected


def test_xavier_needs_two_dims():
    with pytest.raises(ValueError):
        _init(mx.init.Xavier(), "fc_weight", (10,))


def test_constant_zero_one():
    np.testing.assert_array_equal(_init(mx.init.Constant(0.3), "a_weight", (2, 3)),
                                  np.full((2, 3), 0.3, np.float32))
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(_init(mx.init.Constant(values), "a_weight", (2, 3)), values)
    np.testing.assert_array_equal(_init(mx.init.Zero(), "a_weight", (4,)), np.zeros(4))
    np.testing.assert_array_equal(_init(mx.init.One(), "a_weight", (4,)), np.ones(4))


@pytest.mark.parametrize("shape", [(20, 50), (50, 20), (8, 4, 3, 3)])
def test_orthogonal(shape):
    w = _init(mx.init.Orthogonal(scale=1.5), "fc_weight", shape).reshape(shape[0], -1)
    w = w.astype(np.float64)
    if w.shape[0] <= w.shape[1]:
        gram = w @ w.T
    else:
        gram = w.T @ w
    np.testing.assert_allclose(gram, 1.5 ** 2 * np.eye(gram.shape[0]), atol=1e-4)


def test_bilinear_kernel():
    shape = (2, 1, 4, 4)
    w = _init(mx.init.Bilinear(), "up_weight", shape)
    f = math.ceil(shape[3] / 2.0)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    expected = np.zeros(int(np.prod(shape)))
    for i in range(expected.size):
        x = i % shape[3]
        y = (i // shape[3]) % shape[2]
        expected[i] = (1 - abs(x / f - c)) * (1 - abs(y / f - c))
    np.testing.assert_allclose(w.ravel(), expected, rtol=1e-6)


def test_lstm_bias():
    arr = mx.nd.zeros((20,))
    mx.init.LSTMBias(forget_bias=2.5)._init_weight("l0_i2h_bias", arr)
    expected = np.zeros(20)
    expected[5:10] = 2.5
    np.testing.assert_array_equal(arr.asnumpy(), expected)
    # called by a bias name it gives zeros, as in MXNet
    np.testing.assert_array_equal(_init(mx.init.LSTMBias(2.5), "l0_i2h_bias", (20,)),
                                  np.zeros(20))


def test_name_rules():
    init = mx.init.Uniform(1.0)
    assert np.all(_init(init, "fc_bias", (3,)) == 0)
    assert np.all(_init(init, "bn_gamma", (3,)) == 1)
    assert np.all(_init(init, "bn_beta", (3,)) == 0)
    assert np.all(_init(init, "bn_moving_mean", (3,)) == 0)
    assert np.all(_init(init, "bn_moving_var", (3,)) == 1)
    with pytest.raises(ValueError, match="fc_something"):
        _init(init, "fc_something", (3,))


def test_initdesc_own_init_attribute():
    arr = mx.nd.zeros((8,))
    desc = mx.init.InitDesc("lstm_i2h_bias", attrs={"__init__": mx.init.LSTMBias(3.0).dumps()})
    mx.init.Uniform()(desc, arr)
    np.testing.assert_array_equal(arr.asnumpy(), [0, 0, 3, 3, 0, 0, 0, 0])
    assert desc.global_init is not None


def test_dumps_and_create():
    x = mx.init.Xavier(rnd_type="gaussian", magnitude=2)
    assert json.loads(x.dumps()) == ["xavier", {"rnd_type": "gaussian", "magnitude": 2}]
    y = mx.init.create(x.dumps())
    assert isinstance(y, mx.init.Xavier)
    assert (y.rnd_type, y.factor_type, y.magnitude) == ("gaussian", "avg", 2.0)
    assert isinstance(mx.init.create("zeros"), mx.init.Zero)
    assert json.loads(mx.init.Constant([1.0, 2.0]).dumps()) == ["constant",
                                                                {"value": [1.0, 2.0]}]
    with pytest.raises(ValueError, match="nosuch"):
        mx.init.create("nosuch")
    assert "Uniform" in repr(mx.init.Uniform(0.1))


def test_mixed():
    init = mx.init.Mixed([".*fc1.*", ".*"], [mx.init.Constant(2.0), mx.init.Constant(-1.0)])
    assert np.all(_init(init, "fc1_weight", (3,)) == 2)
    assert np.all(_init(init, "fc2_weight", (3,)) == -1)
    assert np.all(_init(init, "fc1_bias", (3,)) == 0)  # the chosen one's name rules
    with pytest.raises(ValueError):
        _init(mx.init.Mixed(["fc.*"], [mx.init.One()]), "conv_weight", (3,))


def test_load():
    params = {"arg:fc_weight": mx.nd.array([[1.0, 2.0]]), "fc_bias": np.array([5.0])}
    init = mx.init.Load(params, default_init=mx.init.Constant(7.0))
    np.testing.assert_array_equal(_init(init, "fc_weight", (1, 2)), [[1, 2]])
    np.testing.assert_array_equal(_init(init, "fc_bias", (1,)), [5])
    np.testing.assert_array_equal(_init(init, "other_weight", (2,)), [7, 7])
    with pytest.raises(ValueError, match="shape"):
        _init(init, "fc_weight", (2, 2))
    with pytest.raises(ValueError, match="no default"):
        _init(mx.init.Load({}), "x_weight", (2,))


class HalfInit(mx.init.Initializer):
    """Weights 0.5, biases 0.25: a custom initializer as MXNet users write them."""

    def __init__(self, value=0.5):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, name, arr):
        mx.init.Constant(self.value)._init_weight(name, arr)

    def _init_bias(self, name, arr):
        mx.init.Constant(self.value / 2)._init_weight(name, arr)


def test_python_subclass():
    init = HalfInit()
    assert np.all(_init(init, "fc_weight", (3,)) == 0.5)
    assert np.all(_init(init, "fc_bias", (3,)) == 0.25)
    assert np.all(_init(init, "bn_gamma", (3,)) == 1)  # base rule kept
    assert json.loads(init.dumps()) == ["halfinit", {"value": 0.5}]


def test_python_subclass_called_from_cpp():
    # Mixed is C++: it holds the Python initializer by shared_ptr and calls its virtuals.
    init = mx.init.Mixed(["a.*", ".*"], [HalfInit(0.75), mx.init.Zero()])
    assert np.all(_init(init, "a_weight", (3,)) == 0.75)
    assert np.all(_init(init, "a_bias", (3,)) == 0.375)
    assert np.all(_init(init, "b_weight", (3,)) == 0)


def test_register_custom():
    @mx.init.register
    class MyOnes(mx.init.Initializer):
        def _init_weight(self, name, arr):
            mx.init.One()._init_weight(name, arr)

    init = mx.init.create("myones")
    assert isinstance(init, MyOnes)
    assert np.all(_init(init, "x_weight", (2,)) == 1)


def test_subclass_without_init_weight_fails():
    class Empty(mx.init.Initializer):
        pass

    with pytest.raises(Exception, match="_init_weight"):
        _init(Empty(), "x_weight", (2,))
