"""mx.mod.Module over a list of contexts (MXNet's DataParallelExecutorGroup): each context takes
its slice of every batch; outputs are merged along axis 0; gradients are summed through the
kvstore; get_params averages the contexts (BatchNorm's moving statistics). Two contexts train as
one context on the whole batch, and as MXNet 1.9.1 on [mx.cpu(0), mx.cpu(1)]."""

import numpy as np
import pytest

import mixnet as mx
from mxnet19_ref import run_mxnet

# Runs under mixnet and under MXNet 1.9.1 (as `mx`).
SCRIPT = '''
import json

import numpy as np


def net(mx, bn):
    data = mx.sym.var("data")
    h = mx.sym.FullyConnected(data=data, num_hidden=8, name="fc1")
    if bn:
        h = mx.sym.BatchNorm(data=h, fix_gamma=False, name="bn1")
    h = mx.sym.Activation(data=h, act_type="relu")
    h = mx.sym.FullyConnected(data=h, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(data=h, name="softmax")


def data(mx, batch):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (45, 5)).astype(np.float32)
    y = rng.randint(0, 3, 45).astype(np.float32)
    return mx.io.NDArrayIter(x, y, batch)  # the last batch padded


def start(mx, bn):
    rng = np.random.RandomState(1)
    shapes = {"fc1_weight": (8, 5), "fc1_bias": (8,), "fc2_weight": (3, 8), "fc2_bias": (3,)}
    if bn:
        shapes.update(bn1_gamma=(8,), bn1_beta=(8,))
    arg = {k: mx.nd.array(rng.uniform(-0.5, 0.5, s).astype(np.float32))
           for k, s in sorted(shapes.items())}
    aux = {"bn1_moving_mean": mx.nd.zeros((8,)), "bn1_moving_var": mx.nd.ones((8,))} if bn else {}
    return arg, aux


def train(mx, ndev, bn, batch, kvstore="device", momentum=0.9):
    it = data(mx, batch)
    arg, aux = start(mx, bn)
    mod = mx.mod.Module(net(mx, bn), context=[mx.cpu(i) for i in range(ndev)])
    mod.fit(it, num_epoch=2, arg_params=arg, aux_params=aux, kvstore=kvstore,
            optimizer="sgd", optimizer_params={"learning_rate": 0.1, "momentum": momentum})
    args, auxs = mod.get_params()
    res = {k: v.asnumpy().tolist() for k, v in sorted(list(args.items()) + list(auxs.items()))}
    res["__predict__"] = mod.predict(it).asnumpy().tolist()
    res["__score__"] = mod.score(data(mx, 9), "acc")[0][1]  # no pad rows (MXNet counts them)
    return res
'''


def _script():
    ns = {}
    exec(SCRIPT, ns)  # pylint: disable=exec-used
    return ns


def assert_same(got, want, atol=1e-5):
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_allclose(np.array(got[k]), np.array(want[k]), rtol=1e-4, atol=atol,
                                   err_msg=k)


@pytest.mark.parametrize("update_on_kvstore", ["1", "0"])
@pytest.mark.parametrize("batch", [16, 7])
def test_two_contexts_train_as_one(monkeypatch, update_on_kvstore, batch):
    monkeypatch.setenv("MXNET_UPDATE_ON_KVSTORE", update_on_kvstore)
    s = _script()
    assert_same(s["train"](mx, 2, False, batch), s["train"](mx, 1, False, batch))


@pytest.mark.parametrize("bn", [False, True])
@pytest.mark.parametrize("update_on_kvstore", ["1", "0"])
def test_two_contexts_equal_mxnet(monkeypatch, bn, update_on_kvstore):
    monkeypatch.setenv("MXNET_UPDATE_ON_KVSTORE", update_on_kvstore)
    want = run_mxnet(SCRIPT + f"""
import os
os.environ["MXNET_UPDATE_ON_KVSTORE"] = "{update_on_kvstore}"
import mxnet as mx
print(json.dumps(train(mx, 2, {bn}, 7)))
""")
    got = _script()["train"](mx, 2, bn, 7)
    assert_same(got, want)


def test_outputs_merged_in_order_and_input_grads():
    s = _script()
    it = s["data"](mx, 7)
    arg, _ = s["start"](mx, False)
    mods = []
    for ctx in [mx.cpu(0), [mx.cpu(0), mx.cpu(1)]]:
        mod = mx.mod.Module(s["net"](mx, False), context=ctx)
        mod.bind(it.provide_data, it.provide_label, inputs_need_grad=True)
        mod.init_params(arg_params=arg)
        it.reset()
        mod.forward_backward(next(iter(it)))
        mods.append(mod)
    one, two = mods
    out = two.get_outputs()
    assert len(out) == 1 and out[0].shape == (7, 3) and out[0].context == mx.cpu(0)
    np.testing.assert_allclose(out[0].asnumpy(), one.get_outputs()[0].asnumpy(), rtol=1e-6)
    per = two.get_outputs(merge_multi_context=False)
    assert [[o.shape for o in outs] for outs in per] == [[(4, 3), (3, 3)]]
    assert [o.context for o in per[0]] == [mx.cpu(0), mx.cpu(1)]
    np.testing.assert_allclose(np.concatenate([o.asnumpy() for o in per[0]]),
                               out[0].asnumpy())
    np.testing.assert_allclose(two.get_input_grads()[0].asnumpy(),
                               one.get_input_grads()[0].asnumpy(), rtol=1e-5, atol=1e-7)
    assert [g.shape for g in two.get_input_grads(False)[0]] == [(4, 5), (3, 5)]
    assert two._context == [mx.cpu(0), mx.cpu(1)] and one._context == [mx.cpu(0)]
    # Reshaping to another batch size splits it again.
    batch = mx.io.DataBatch([mx.nd.ones((5, 5))], [mx.nd.zeros((5,))])
    two.forward(batch, is_train=False)
    assert [o.shape for o in two.get_outputs(False)[0]] == [(2, 3), (3, 3)]


def test_batchnorm_moving_statistics_are_averaged():
    s = _script()
    arg, aux = s["start"](mx, True)
    x = np.random.RandomState(3).uniform(-1, 1, (8, 5)).astype(np.float32)
    y = np.zeros(8, np.float32)

    def moving(ctx, rows):
        mod = mx.mod.Module(s["net"](mx, True), context=ctx)
        n = rows.stop - rows.start
        mod.bind([("data", (n, 5))], [("softmax_label", (n,))])
        mod.init_params(arg_params=arg, aux_params=aux)
        mod.forward(mx.io.DataBatch([mx.nd.array(x[rows])], [mx.nd.array(y[rows])]),
                    is_train=True)
        return {k: v.asnumpy() for k, v in mod.get_params()[1].items()}

    two = moving([mx.cpu(0), mx.cpu(1)], slice(0, 8))
    first, second = moving(mx.cpu(0), slice(0, 4)), moving(mx.cpu(0), slice(4, 8))
    assert sorted(two) == ["bn1_moving_mean", "bn1_moving_var"]
    for k in two:
        assert not np.allclose(first[k], second[k])
        np.testing.assert_allclose(two[k], (first[k] + second[k]) / 2, rtol=1e-5, atol=1e-7)


def test_errors():
    s = _script()
    mod = mx.mod.Module(s["net"](mx, False), context=[mx.cpu(0), mx.cpu(1)])
    with pytest.raises(ValueError, match="fewer than the 2 contexts"):
        mod.bind([("data", (1, 5))], [("softmax_label", (1,))])
    with pytest.raises(ValueError, match="empty list"):
        mx.mod.Module(s["net"](mx, False), context=[])
    with pytest.raises(NotImplementedError, match="same load"):
        mx.mod.Module(s["net"](mx, False), context=[mx.cpu(0), mx.cpu(1)],
                      work_load_list=[1, 2])
    mx.mod.Module(s["net"](mx, False), context=[mx.cpu(0), mx.cpu(1)], work_load_list=[1, 1])
    assert "list of Context" in mx.mod.Module.__doc__


def test_kvstore_rules_over_contexts():
    s = _script()
    it = s["data"](mx, 8)
    for kvstore, kind in [("local", "local"), ("device", "device"), (None, None)]:
        mod = mx.mod.Module(s["net"](mx, False), context=[mx.cpu(0), mx.cpu(1)])
        mod.bind(it.provide_data, it.provide_label)
        mod.init_params()
        mod.init_optimizer(kvstore=kvstore)
        assert (mod._kvstore and mod._kvstore.type) == kind


def test_checkpoint_over_contexts(tmp_path):
    s = _script()
    it = s["data"](mx, 8)
    arg, _ = s["start"](mx, False)
    two = mx.mod.Module(s["net"](mx, False), context=[mx.cpu(0), mx.cpu(1)])
    two.fit(it, num_epoch=1, arg_params=arg, optimizer_params={"learning_rate": 0.1})
    prefix = str(tmp_path / "two")
    two.save_checkpoint(prefix, 1, save_optimizer_states=True)
    loaded = mx.mod.Module.load(prefix, 1, load_optimizer_states=True,
                                context=[mx.cpu(0), mx.cpu(1)])
    loaded.bind(it.provide_data, it.provide_label)
    loaded.init_optimizer(optimizer_params={"learning_rate": 0.1})
    np.testing.assert_allclose(loaded.predict(it).asnumpy(), two.predict(it).asnumpy(),
                               rtol=1e-6)
    for k, v in two.get_params()[0].items():
        np.testing.assert_array_equal(loaded.get_params()[0][k].asnumpy(), v.asnumpy())
