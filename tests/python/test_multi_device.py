"""Data parallelism in one process: gluon.Trainer over [mx.cpu(0), mx.cpu(1)] with
split_and_load trains as one context on the whole batch, through the kvstore ('device',
'local' or a KVStore object; update_on_kvstore False or True)."""
import numpy as np
import pytest

import mixnet as mx
from mixnet import autograd, gluon
from mixnet.gluon import nn

CTXS = [mx.cpu(0), mx.cpu(1)]
BATCH = 8


def make_net(path, ctx):
    net = nn.HybridSequential()
    net.add(nn.Dense(6, activation="relu", in_units=4), nn.Dense(1, in_units=6))
    if path is None:
        net.initialize(mx.init.Xavier(), ctx=ctx)
    else:
        net.load_parameters(path, ctx=ctx)
    return net


def data(steps):
    rng = np.random.RandomState(3)
    return [(mx.nd.array(rng.uniform(-1, 1, (BATCH, 4))), mx.nd.array(rng.uniform(-1, 1, (BATCH, 1))))
            for _ in range(steps)]


def train(net, trainer, ctxs, batches):
    loss_fn = gluon.loss.L2Loss()
    for x, y in batches:
        xs = gluon.utils.split_and_load(x, ctxs)
        ys = gluon.utils.split_and_load(y, ctxs)
        with autograd.record():
            losses = [loss_fn(net(a), b) for a, b in zip(xs, ys)]
        autograd.backward(losses)
        trainer.step(BATCH)


def weights(net, ctx):
    return [p.data(ctx).asnumpy() for p in net.collect_params().values()]


@pytest.fixture(scope="module")
def init_params(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("md") / "init.params")
    make_net(None, mx.cpu(0)).save_parameters(path)
    return path


def reference(init_params, steps):
    net = make_net(init_params, mx.cpu(0))
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
    assert trainer._kvstore is None  # one context: no store
    train(net, trainer, [mx.cpu(0)], data(steps))
    return weights(net, mx.cpu(0))


@pytest.mark.parametrize("kvstore", ["device", "local", "object"])
@pytest.mark.parametrize("update_on_kvstore", [False, True])
def test_two_contexts_equal_one(init_params, kvstore, update_on_kvstore):
    steps = 5
    want = reference(init_params, steps)
    net = make_net(init_params, CTXS)
    kv = mx.kv.create("device") if kvstore == "object" else kvstore
    # The second context starts elsewhere: the trainer pulls the first context's values.
    for p in net.collect_params().values():
        p.data(CTXS[1])[:] = 5
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01},
                            kvstore=kv, update_on_kvstore=update_on_kvstore)
    train(net, trainer, CTXS, data(steps))
    assert trainer._update_on_kvstore is update_on_kvstore
    assert trainer._distributed is False
    if kvstore == "object":
        assert trainer._kvstore is kv
    else:
        assert trainer._kvstore.type == kvstore
    for ctx in CTXS:
        for got, w in zip(weights(net, ctx), want):
            np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)


def test_update_on_kvstore_states_and_errors(init_params, tmp_path):
    net = make_net(init_params, CTXS)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01},
                            update_on_kvstore=True)
    train(net, trainer, CTXS, data(2))
    fname = str(tmp_path / "t.states")
    trainer.save_states(fname)
    trainer.load_states(fname)
    with pytest.raises(ValueError, match="update_on_kvstore"):
        trainer.allreduce_grads()
    with pytest.raises(ValueError, match="update_on_kvstore"):
        trainer.update(BATCH)
    with pytest.raises(TypeError, match="kvstore must be KVStore, str or None"):
        gluon.Trainer(net.collect_params(), "sgd", kvstore=3)


def test_compression_params_on_device(init_params):
    net = make_net(init_params, CTXS)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1},
                            compression_params={"type": "2bit", "threshold": 0.01})
    train(net, trainer, CTXS, data(3))
    w0, w1 = weights(net, CTXS[0]), weights(net, CTXS[1])
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
        assert np.isfinite(a).all()
    # The gradients went through 2-bit quantization: each step moves a weight by a multiple
    # of lr * threshold / batch (the sum of two contexts' +-threshold or 0).
    start = make_net(init_params, mx.cpu(0))
    for got, w in zip(w0, weights(start, mx.cpu(0))):
        steps = (got - w) / (0.1 * 0.01 / BATCH)
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-2)
    with pytest.raises(ValueError, match="not supported for kvstore type 'local'"):
        t = gluon.Trainer(net.collect_params(), "sgd", kvstore="local",
                          compression_params={"type": "2bit"})
        train(net, t, CTXS, data(1))


MXNET_SNIPPET = """
import json
import numpy as np
import mxnet as mx
from mxnet import autograd, gluon
from mxnet.gluon import nn
ctxs = [mx.cpu(0), mx.cpu(1)]
net = nn.HybridSequential()
net.add(nn.Dense(6, activation="relu", in_units=4), nn.Dense(1, in_units=6))
net.load_parameters({path!r}, ctx=ctxs)
trainer = gluon.Trainer(net.collect_params(), "sgd",
                        {{"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01}},
                        kvstore="device", update_on_kvstore={on_kv})
rng = np.random.RandomState(3)
loss_fn = gluon.loss.L2Loss()
for _ in range(4):
    x = mx.nd.array(rng.uniform(-1, 1, (8, 4)))
    y = mx.nd.array(rng.uniform(-1, 1, (8, 1)))
    xs = gluon.utils.split_and_load(x, ctxs)
    ys = gluon.utils.split_and_load(y, ctxs)
    with autograd.record():
        losses = [loss_fn(net(a), b) for a, b in zip(xs, ys)]
    autograd.backward(losses)
    trainer.step(8)
print(json.dumps([p.data(mx.cpu(1)).asnumpy().ravel().tolist()
                  for p in net.collect_params().values()]))
"""


@pytest.mark.parametrize("update_on_kvstore", [False, True])
def test_two_contexts_same_as_mxnet(init_params, update_on_kvstore):
    from mxnet19_ref import run_mxnet
    want = run_mxnet(MXNET_SNIPPET.format(path=init_params, on_kv=update_on_kvstore))
    net = make_net(init_params, CTXS)
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01},
                            kvstore="device", update_on_kvstore=update_on_kvstore)
    train(net, trainer, CTXS, data(4))
    for got, w in zip(weights(net, CTXS[1]), want):
        np.testing.assert_allclose(got.ravel(), w, rtol=1e-5, atol=1e-6)
