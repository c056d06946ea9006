"""mx.random.seed and mx.nd.random samplers: names, shapes, ranges and reproducibility."""
import numpy as np
import pytest

import mixnet as mx


def draw():
    return [mx.nd.random.uniform(-1, 2, shape=(50,)).asnumpy(),
            mx.nd.random.normal(1, 3, shape=(2, 25)).asnumpy(),
            mx.nd.random.randint(0, 10, shape=(40,)).asnumpy(),
            mx.random.uniform(shape=(5,)).asnumpy()]


def test_seed_reproduces_and_different_seeds_differ():
    mx.random.seed(128)
    first = draw()
    mx.random.seed(128)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    mx.random.seed(129)
    third = draw()
    assert not np.array_equal(first[0], third[0])


def test_seed_per_context():
    mx.random.seed(7, ctx=mx.cpu(0))
    a = mx.nd.random.uniform(shape=(10,)).asnumpy()
    mx.random.seed(7, ctx=mx.cpu(0))
    b = mx.nd.random.uniform(shape=(10,)).asnumpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        mx.random.seed(1.5)


def test_samplers_shapes_dtypes_and_ranges():
    mx.random.seed(0)
    u = mx.nd.random.uniform(2, 3, shape=(1000,))
    assert u.shape == (1000,) and u.dtype == np.float32
    v = u.asnumpy()
    assert v.min() >= 2 and v.max() < 3
    n = mx.nd.random.normal(5, 0.5, shape=(20000,), dtype="float64")
    assert n.dtype == np.float64
    assert abs(n.asnumpy().mean() - 5) < 0.05 and abs(n.asnumpy().std() - 0.5) < 0.05
    r = mx.nd.random.randint(-3, 4, shape=(500,)).asnumpy()
    assert r.min() >= -3 and r.max() <= 3 and set(np.unique(r)) == set(range(-3, 4))
    assert mx.nd.random.uniform().shape == (1,)  # MXNet's default shape
    assert mx.nd.random.randn(2, 3).shape == (2, 3)
    e = mx.nd.random.exponential(scale=2.0, shape=(20000,)).asnumpy()
    assert abs(e.mean() - 2.0) < 0.1
    g = mx.nd.random.gamma(2.0, 3.0, shape=(20000,)).asnumpy()
    assert abs(g.mean() - 6.0) < 0.3
    p = mx.nd.random.poisson(4.0, shape=(20000,)).asnumpy()
    assert abs(p.mean() - 4.0) < 0.15
    out = mx.nd.zeros((3, 4))
    assert mx.nd.random.uniform(shape=(3, 4), out=out) is out
    assert out.asnumpy().max() > 0


def test_shuffle_and_multinomial():
    mx.random.seed(3)
    x = mx.nd.arange(20).reshape((10, 2))
    s = mx.nd.random.shuffle(x).asnumpy()
    assert sorted(s[:, 0].tolist()) == list(range(0, 20, 2))
    np.testing.assert_array_equal(s[:, 1] - s[:, 0], np.ones(10))
    np.testing.assert_array_equal(x.asnumpy(), np.arange(20).reshape(10, 2))  # input untouched
    probs = mx.nd.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    m = mx.nd.random.multinomial(probs, shape=100).asnumpy()
    assert m.shape == (2, 100)
    assert (m[0] == 1).all() and set(np.unique(m[1])) <= {0, 2}
    m, logp = mx.nd.random.multinomial(probs, get_prob=True)
    assert m.shape == (2,) and logp.shape == (2,)


def test_ndarray_parameters_are_rejected_clearly():
    with pytest.raises(NotImplementedError):
        mx.nd.random.uniform(mx.nd.zeros((2,)), mx.nd.ones((2,)))


def test_dropout_follows_the_seed():
    x = mx.nd.ones((1000,))
    mx.random.seed(11)
    with_seed = mx.nd.Dropout(x, p=0.5, mode="always").asnumpy()
    mx.random.seed(11)
    again = mx.nd.Dropout(x, p=0.5, mode="always").asnumpy()
    np.testing.assert_array_equal(with_seed, again)
    assert 300 < (with_seed == 0).sum() < 700
