"""mx.mod.Module's kvstore argument (MXNet's _create_kvstore rules): one context with a
non-distributed name needs no store; a KVStore object is used, with update_on_kvstore
(MXNET_UPDATE_ON_KVSTORE, default 1) or without; training is the same either way."""
import numpy as np
import pytest

import mixnet as mx


def net():
    data = mx.sym.var("data")
    fc1 = mx.sym.FullyConnected(data=data, num_hidden=8, name="fc1")
    act = mx.sym.Activation(data=fc1, act_type="relu")
    fc2 = mx.sym.FullyConnected(data=act, num_hidden=3, name="fc2")
    return mx.sym.SoftmaxOutput(data=fc2, name="softmax")


def fit(kvstore, compression_params=None, optimizer="sgd"):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (64, 5)).astype(np.float32)
    y = rng.randint(0, 3, 64).astype(np.float32)
    it = mx.io.NDArrayIter(x, y, 16)
    mod = mx.mod.Module(net(), context=mx.cpu(), compression_params=compression_params)
    mod.bind(it.provide_data, it.provide_label)
    mx.random.seed(1)
    mod.init_params(mx.init.Xavier())
    mod.init_optimizer(kvstore=kvstore, optimizer=optimizer,
                       optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    for _ in range(2):
        it.reset()
        for batch in it:
            mod.forward_backward(batch)
            mod.update()
    return mod, {k: v.asnumpy() for k, v in mod.get_params()[0].items()}


def test_no_store_for_one_context():
    for kvstore in ["local", "device", None]:
        mod, _ = fit(kvstore)
        assert mod._kvstore is None and mod._update_on_kvstore is False


@pytest.mark.parametrize("update_on_kvstore", ["1", "0"])
def test_kvstore_object_trains_the_same(monkeypatch, update_on_kvstore):
    _, want = fit("local")
    monkeypatch.setenv("MXNET_UPDATE_ON_KVSTORE", update_on_kvstore)
    kv = mx.kv.create("device")
    mod, got = fit(kv)
    assert mod._kvstore.type == "device"
    assert mod._update_on_kvstore is (update_on_kvstore == "1")
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6)


def test_states_compression_and_errors(tmp_path):
    mod, _ = fit(mx.kv.create("device"), compression_params={"type": "2bit", "threshold": 1})
    fname = str(tmp_path / "m.states")
    mod.save_optimizer_states(fname)
    mod.load_optimizer_states(fname)
    with pytest.raises(TypeError, match="kvstore must be KVStore, str or None"):
        fit(3)
    with pytest.raises(ValueError, match="not supported for kvstore type 'local'"):
        fit(mx.kv.create("local"), compression_params={"type": "2bit"})
