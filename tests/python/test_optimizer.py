"""mx.optimizer: updates against hand-computed NumPy (SGD with momentum, wd, rescale and clip;
Adam with bias correction), every optimizer against MXNet 1.9 itself, multipliers, states,
the Updater's saved states, multi_precision, and Python optimizers (registered, driven through
the C++ optimizer)."""
import json

import numpy as np
import pytest

import mixnet as mx
from mxnet19_ref import run_mxnet

RNG = np.random.RandomState(7)
W0 = RNG.randn(3, 4).astype(np.float32)
GRADS = [RNG.randn(3, 4).astype(np.float32) for _ in range(5)]


def _run(opt, steps=5, index=0):
    w = mx.nd.array(W0)
    updater = mx.optimizer.get_updater(opt)
    for g in GRADS[:steps]:
        updater(index, mx.nd.array(g), w)
    return w.asnumpy()


def test_sgd_momentum_wd_numpy():
    lr, mom, wd, rescale, clip = 0.1, 0.9, 0.01, 0.5, 0.4
    opt = mx.optimizer.SGD(learning_rate=lr, momentum=mom, wd=wd, rescale_grad=rescale,
                           clip_gradient=clip)
    w = W0.astype(np.float64)
    m = np.zeros_like(w)
    for g in GRADS:
        g = np.clip(rescale * g, -clip, clip)
        m = mom * m - lr * (g + wd * w)
        w = w + m
    np.testing.assert_allclose(_run(opt), w, rtol=1e-5, atol=1e-6)


def test_sgd_plain_numpy():
    opt = mx.optimizer.create("sgd", learning_rate=0.2, wd=0.1)
    w = W0.astype(np.float64)
    for g in GRADS:
        w = w - 0.2 * (g + 0.1 * w)
    np.testing.assert_allclose(_run(opt), w, rtol=1e-5, atol=1e-6)
    assert opt.create_state(0, mx.nd.array(W0)) is None  # no momentum: no state


def test_nag_numpy():
    # MXNet's documented NAG: state = momentum * state + g + wd * weight;
    # weight -= lr * (g + wd * weight + momentum * state)
    lr, mom, wd = 0.1, 0.8, 0.05
    w = W0.astype(np.float64)
    m = np.zeros_like(w)
    for g in GRADS:
        g = g + wd * w
        m = mom * m + g
        w = w - lr * (g + mom * m)
    np.testing.assert_allclose(_run(mx.optimizer.NAG(learning_rate=lr, momentum=mom, wd=wd)),
                               w, rtol=1e-5, atol=1e-6)


def test_adam_numpy():
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.99, 1e-6, 0.02
    opt = mx.optimizer.Adam(learning_rate=lr, beta1=b1, beta2=b2, epsilon=eps, wd=wd)
    w = W0.astype(np.float64)
    mean = np.zeros_like(w)
    var = np.zeros_like(w)
    for t, g in enumerate(GRADS, start=1):
        g = g + wd * w
        mean = b1 * mean + (1 - b1) * g
        var = b2 * var + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - lr_t * mean / (np.sqrt(var) + eps)
    np.testing.assert_allclose(_run(opt), w, rtol=1e-4, atol=1e-6)  # float32 steps


def test_create_state_and_update():
    # MXNet's pattern: the state from create_state is the one update() advances.
    opt = mx.optimizer.Adam(learning_rate=0.1)
    weight = mx.nd.array(W0)
    state = opt.create_state(0, weight)
    assert isinstance(state, tuple) and len(state) == 2
    grad = mx.nd.array(GRADS[0])
    opt.update(0, weight, grad, state)
    np.testing.assert_allclose(state[0].asnumpy(), 0.1 * GRADS[0], rtol=1e-6)  # (1 - beta1) g
    np.testing.assert_allclose(state[1].asnumpy(), 0.001 * GRADS[0] ** 2, rtol=1e-4)
    opt.update(0, weight, grad, state)
    assert opt.num_update == 2
    kept = opt._states(0)
    assert len(kept) == 2 and all(k.asnumpy().tolist() == s.asnumpy().tolist()
                                  for k, s in zip(kept, state))
    with pytest.raises(ValueError, match="already has states"):
        opt.update(0, weight, grad, opt.create_state(0, weight))
    with pytest.raises(ValueError, match="does not fit"):
        opt.update(1, weight, grad, (mx.nd.zeros((2,)), mx.nd.zeros((2,))))


OPTIMIZER_CASES = [
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}),
    ("sgd", {"learning_rate": 0.1, "clip_gradient": 0.5, "rescale_grad": 2.0}),
    # wd 0: MXNet 1.9.1's nag_mom_update with out=weight reads the already updated weight
    # for the state's decay term (test_nag_numpy checks the documented formula instead).
    ("nag", {"learning_rate": 0.1, "momentum": 0.8}),
    ("adam", {"learning_rate": 0.01, "wd": 0.001}),
    ("adagrad", {"learning_rate": 0.1, "eps": 1e-6}),
    ("rmsprop", {"learning_rate": 0.01}),
    ("rmsprop", {"learning_rate": 0.01, "centered": True, "gamma2": 0.8}),
    ("adadelta", {"rho": 0.9, "epsilon": 1e-5, "wd": 0.01}),
    ("ftrl", {"learning_rate": 0.1, "lamda1": 0.01, "beta": 1.0}),
    ("adamax", {"learning_rate": 0.002}),
    ("nadam", {"learning_rate": 0.001}),
    ("signum", {"learning_rate": 0.01, "momentum": 0.9, "wd_lh": 0.01}),
    ("lamb", {"learning_rate": 0.01, "wd": 0.01}),
]


def test_all_against_mxnet():
    code = f"""
    import json, numpy as np, mxnet as mx
    w0 = np.array({json.dumps(W0.tolist())}, dtype=np.float32)
    grads = [np.array(g, dtype=np.float32) for g in {json.dumps([g.tolist() for g in GRADS])}]
    out = []
    for name, kw in json.loads('{json.dumps(OPTIMIZER_CASES)}'):
        opt = mx.optimizer.create(name, **kw)
        upd = mx.optimizer.get_updater(opt)
        w = mx.nd.array(w0)
        for g in grads:
            upd(0, mx.nd.array(g), w)
        out.append(w.asnumpy().tolist())
    print(json.dumps(out))
    """
    ref = run_mxnet(code)
    for (name, kwargs), want in zip(OPTIMIZER_CASES, ref):
        got = _run(mx.optimizer.create(name, **kwargs))
        np.testing.assert_allclose(got, np.array(want, dtype=np.float32), rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name} {kwargs}")


def test_classes_and_registry():
    for name, klass in [("sgd", mx.optimizer.SGD), ("adam", mx.optimizer.Adam),
                        ("NAG", mx.optimizer.NAG), ("RMSProp", mx.optimizer.RMSProp),
                        ("lamb", mx.optimizer.LAMB), ("ftrl", mx.optimizer.Ftrl)]:
        opt = mx.optimizer.create(name)
        assert type(opt) is klass
        assert isinstance(opt, mx.optimizer.Optimizer)
    assert mx.optimizer.Optimizer.create_optimizer("adagrad").name == "adagrad"
    with pytest.raises(ValueError, match="nosuch"):
        mx.optimizer.create("nosuch")
    with pytest.raises(ValueError, match="momentun"):
        mx.optimizer.SGD(momentun=0.9)
    with pytest.raises(ValueError, match="momentum"):
        mx.optimizer.SGD(momentum=1.5)
    assert mx.optimizer.SGD().learning_rate == pytest.approx(0.01)
    assert mx.optimizer.Adam().learning_rate == pytest.approx(0.001)


def test_attributes_and_set_learning_rate():
    opt = mx.optimizer.SGD(learning_rate=0.5, wd=0.1, rescale_grad=0.25, clip_gradient=2.0,
                           begin_num_update=3, multi_precision=True)
    assert (opt.lr, opt.wd, opt.rescale_grad, opt.clip_gradient) == (0.5, 0.1, 0.25, 2.0)
    assert (opt.begin_num_update, opt.num_update, opt.multi_precision) == (3, 3, True)
    opt.set_learning_rate(0.05)
    assert opt.learning_rate == pytest.approx(0.05)
    opt.rescale_grad = 1.0
    w = mx.nd.zeros((2,))
    mx.optimizer.get_updater(opt)(0, mx.nd.ones((2,)), w)
    np.testing.assert_allclose(w.asnumpy(), [-0.05, -0.05], rtol=1e-6)
    assert opt.num_update == 4


def test_lr_wd_mult():
    opt = mx.optimizer.SGD(learning_rate=1.0, wd=0.5,
                           param_idx2name={0: "fc_weight", 1: "fc_bias", 2: "fc2_weight"})
    opt.set_lr_mult({"fc2_weight": 0.1})
    opt.set_wd_mult({"fc2_weight": 2.0})
    assert opt.lr_mult == {"fc2_weight": 0.1}
    ws = [mx.nd.ones((2,)) for _ in range(3)]
    updater = mx.optimizer.get_updater(opt)
    updater([0, 1, 2], [mx.nd.zeros((2,))] * 3, ws)
    # fc_weight: w -= 1.0 * 0.5 * w; fc_bias: no decay by MXNet's rule; fc2: 0.1 * (2 * 0.5) * w
    np.testing.assert_allclose([w.asnumpy()[0] for w in ws], [0.5, 1.0, 0.9], rtol=1e-6)
    assert opt._get_lr(2) == pytest.approx(0.1)
    assert opt._get_wd(1) == 0.0 and opt._get_wd(2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="index 7"):
        opt.set_lr_mult({7: 2.0})


def test_updater_states_roundtrip():
    a = mx.optimizer.Adam(learning_rate=0.05)
    ua = mx.optimizer.get_updater(a)
    w = mx.nd.array(W0)
    for g in GRADS[:3]:
        ua(0, mx.nd.array(g), w)
    saved = ua.get_states()
    b = mx.optimizer.Adam(learning_rate=0.05)
    ub = mx.optimizer.get_updater(b)
    ub.set_states(saved)
    assert b.num_update == 3
    w2 = mx.nd.array(w.asnumpy())
    for g in GRADS[3:]:
        ua(0, mx.nd.array(g), w)
        ub(0, mx.nd.array(g), w2)
    np.testing.assert_array_equal(w.asnumpy(), w2.asnumpy())
    with pytest.raises(NotImplementedError):
        ua.get_states(dump_optimizer=True)


def test_multi_precision_keeps_small_updates():
    w16 = np.ones((4,), dtype=np.float16)
    g = mx.nd.array(np.ones((4,), dtype=np.float16), dtype=np.float16)
    plain = mx.nd.array(w16, dtype=w16.dtype)
    master = mx.nd.array(w16, dtype=w16.dtype)
    u_plain = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=1e-4))
    u_master = mx.optimizer.get_updater(mx.optimizer.SGD(learning_rate=1e-4,
                                                         multi_precision=True))
    for _ in range(10):
        u_plain(0, g, plain)
        u_master(0, g, master)
    assert np.all(plain.asnumpy() == 1.0)  # 1 - 1e-4 rounds back to 1 in float16
    np.testing.assert_allclose(master.asnumpy().astype(np.float64), 0.999, atol=5e-4)
    assert master.dtype == np.float16


@mx.optimizer.register
class PyMomentum(mx.optimizer.Optimizer):
    """SGD with momentum written in Python, as MXNet users write optimizers."""

    def __init__(self, momentum=0.5, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        return mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        state *= self.momentum
        state -= lr * (grad * self.rescale_grad + wd * weight)
        weight += state


def _momentum_reference(lr, mom, wd, steps):
    w = W0.astype(np.float64)
    m = np.zeros_like(w)
    for g in GRADS[:steps]:
        m = mom * m - lr * (g + wd * w)
        w = w + m
    return w


def test_python_optimizer_via_updater():
    opt = mx.optimizer.create("pymomentum", momentum=0.7, learning_rate=0.1, wd=0.01)
    assert isinstance(opt, PyMomentum)
    np.testing.assert_allclose(_run(opt), _momentum_reference(0.1, 0.7, 0.01, 5), rtol=1e-5,
                               atol=1e-6)
    assert opt.num_update == 5


def test_python_optimizer_direct_update_and_state():
    opt = PyMomentum(momentum=0.7, learning_rate=0.1, wd=0.01)
    weight = mx.nd.array(W0)
    state = opt.create_state(0, weight)
    for g in GRADS:
        opt.update(0, weight, mx.nd.array(g), state)
    np.testing.assert_allclose(weight.asnumpy(), _momentum_reference(0.1, 0.7, 0.01, 5),
                               rtol=1e-5, atol=1e-6)
    assert np.abs(state.asnumpy()).sum() > 0  # the caller's state is the one advanced
    assert opt.num_update == 5


def test_python_optimizer_schedule_mult_and_states():
    sched = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=0.2)
    opt = PyMomentum(momentum=0.0, lr_scheduler=sched, param_idx2name={0: "a_weight"})
    opt.set_lr_mult({"a_weight": 0.5})
    w = mx.nd.zeros((1,))
    upd = mx.optimizer.get_updater(opt)
    for _ in range(5):
        upd(0, mx.nd.ones((1,)), w)
    # rates 0.2, 0.2, 0.1, 0.1, 0.05 (FactorScheduler), each halved by lr_mult
    np.testing.assert_allclose(w.asnumpy(), [-0.5 * (0.2 + 0.2 + 0.1 + 0.1 + 0.05)], rtol=1e-6)

    opt2 = PyMomentum(momentum=0.9, learning_rate=0.1)
    u2 = mx.optimizer.get_updater(opt2)
    w2 = mx.nd.array(W0)
    for g in GRADS[:3]:
        u2(0, mx.nd.array(g), w2)
    saved = u2.get_states()
    opt3 = PyMomentum(momentum=0.9, learning_rate=0.1)
    u3 = mx.optimizer.get_updater(opt3)
    u3.set_states(saved)
    w3 = mx.nd.array(w2.asnumpy())
    for g in GRADS[3:]:
        u2(0, mx.nd.array(g), w2)
        u3(0, mx.nd.array(g), w3)
    np.testing.assert_allclose(w2.asnumpy(), w3.asnumpy(), rtol=1e-6)
    assert opt3.num_update == 5


def test_python_optimizer_without_update_fails():
    class NoUpdate(mx.optimizer.Optimizer):
        pass

    with pytest.raises(Exception):
        mx.optimizer.get_updater(NoUpdate())(0, mx.nd.ones((1,)), mx.nd.ones((1,)))
    with pytest.raises(TypeError, match="unexpected"):
        PyMomentum(momentum=0.5, bogus=1)


def test_subclassing_builtin_update_rejected():
    with pytest.raises(TypeError, match="built-in"):
        class MySGD(mx.optimizer.SGD):
            def update(self, index, weight, grad, state):
                pass
