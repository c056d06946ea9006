"""Hybridized inference folds Convolution -> BatchNorm [-> relu] into one convolution
(NOTE [ Conv BatchNorm folding ]): predictions equal the eager ones, also after training
changed the parameters and moving statistics the folded graph reads."""
import numpy as np

import mixnet as mx
from mixnet import autograd, gluon


def _net():
    net = gluon.model_zoo.vision.resnet18_v1(thumbnail=True, classes=10)
    net.initialize(mx.init.Xavier())
    return net


def _randomise_norms(net, seed):
    rng = np.random.RandomState(seed)
    for name, p in net.collect_params().items():
        if name.endswith(("gamma", "beta", "running_mean", "running_var")):
            p.set_data(mx.nd.array(rng.uniform(0.5, 1.5, p.shape).astype(np.float32)))


def test_hybridized_predictions_equal_eager_with_folded_batchnorm():
    mx.random.seed(0)
    net = _net()
    x = mx.nd.array(np.random.RandomState(1).normal(size=(3, 3, 32, 32)).astype(np.float32))
    net(x)  # deferred initialisation
    _randomise_norms(net, 2)
    eager = net(x).asnumpy()
    net.hybridize()
    net(x)  # traces the graph
    np.testing.assert_allclose(net(x).asnumpy(), eager, rtol=1e-4, atol=1e-4)
    # A training step changes weights and moving statistics: the folded graph follows them.
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    with autograd.record():
        loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(x), mx.nd.array([1, 2, 3]))
    loss.backward()
    trainer.step(3)
    hybrid = net(x).asnumpy()
    net.hybridize(active=False)
    np.testing.assert_allclose(hybrid, net(x).asnumpy(), rtol=1e-4, atol=1e-4)


def test_folded_predictions_equal_in_every_conv_layout(monkeypatch):
    # NOTE [ Conv layouts ]: "auto" times blocked against plain on each shape's first call
    # (these convolutions are large enough), writing into the output it then overwrites.
    mx.random.seed(0)
    net = _net()
    x = mx.nd.array(np.random.RandomState(3).normal(size=(8, 3, 32, 32)).astype(np.float32))
    net(x)
    _randomise_norms(net, 4)
    net.hybridize(static_alloc=True, static_shape=True)
    got = {}
    for layout in ("plain", "blocked", "auto"):
        monkeypatch.setenv("MIXNET_CONV_LAYOUT", layout)
        got[layout] = [net(x).asnumpy() for _ in range(2)]  # timed (auto), then cached
    for layout in ("blocked", "auto"):
        for out in got[layout]:
            np.testing.assert_allclose(out, got["plain"][0], rtol=1e-4, atol=1e-4)


def test_blocked_inference_follows_weight_changes(monkeypatch, tmp_path):
    # NOTE [ Step state ]: an inference step keeps its blocked convolution's reordered weights
    # while they are unchanged; a training step or set_data must make it reorder them again.
    # The net stays hybridized (the same executor steps); an eager copy gives the reference.
    monkeypatch.setenv("MIXNET_CONV_LAYOUT", "blocked")
    mx.random.seed(0)
    net, ref = _net(), _net()
    x = mx.nd.array(np.random.RandomState(5).normal(size=(2, 3, 32, 32)).astype(np.float32))
    net(x)
    ref(x)
    _randomise_norms(net, 6)
    net.hybridize(static_alloc=True, static_shape=True)

    def check():
        hybrid = [net(x).asnumpy() for _ in range(2)]  # reorders and keeps, then reuses
        net.save_parameters(str(tmp_path / "p.params"))
        ref.load_parameters(str(tmp_path / "p.params"))
        eager = ref(x).asnumpy()
        for out in hybrid:
            np.testing.assert_allclose(out, eager, rtol=1e-4, atol=1e-4)
        return eager

    before = check()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    with autograd.record():
        loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(x), mx.nd.array([1, 2]))
    loss.backward()
    trainer.step(2)
    after_step = check()
    assert not np.allclose(after_step, before, rtol=1e-4, atol=1e-4)
    conv = [p for n, p in net.collect_params().items() if n.endswith("conv0_weight")][0]
    conv.set_data(conv.data() * 0.5)
    after_set = check()
    assert not np.allclose(after_set, after_step, rtol=1e-4, atol=1e-4)
