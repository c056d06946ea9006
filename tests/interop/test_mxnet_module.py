"""Module checkpoints between MXNet 1.9.1 and mixnet (mixnet_module_run).

MXNet saves a LeNet-style checkpoint with BatchNorm; mixnet's Module::Load predicts the same
outputs; one epoch of plain SGD in mixnet's Module::Fit gives the parameters (and BatchNorm
statistics) MXNet's Module.fit gives, and MXNet loads mixnet's checkpoint and predicts with it.
"""
import logging
import subprocess

import mxnet as mx
import numpy as np


def net():
    data = mx.sym.var("data")
    x = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, pad=(1, 1), name="conv1")
    x = mx.sym.BatchNorm(x, name="bn1")
    x = mx.sym.Activation(x, act_type="relu", name="relu1")
    x = mx.sym.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool1")
    x = mx.sym.Flatten(x, name="flat")
    x = mx.sym.FullyConnected(x, num_hidden=3, name="fc1")
    return mx.sym.SoftmaxOutput(x, name="softmax")


def data(n=24):
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 1, (n, 1, 6, 6)).astype(np.float32)
    y = rng.randint(0, 3, n).astype(np.float32)
    return x, y


def mxnet_checkpoint(prefix):
    x, y = data()
    mod = mx.mod.Module(net(), data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=[("data", x.shape)], label_shapes=[("softmax_label", y.shape)])
    mx.random.seed(5)
    mod.init_params(mx.init.Xavier())
    mod.save_checkpoint(str(prefix), 0)
    return mod


def run(tool, *args):
    result = subprocess.run([tool, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_mixnet_predicts_an_mxnet_checkpoint(module_run, tmp_path):
    prefix = tmp_path / "lenet"
    mod = mxnet_checkpoint(prefix)
    x, _ = data()
    mx.nd.save(str(tmp_path / "data.params"), {"data": mx.nd.array(x)})
    run(module_run, "predict", prefix, 0, tmp_path / "data.params", tmp_path / "out.params")
    got = mx.nd.load(str(tmp_path / "out.params"))[0].asnumpy()
    want = mod.predict(mx.io.NDArrayIter(x, batch_size=len(x))).asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_one_epoch_of_fit_matches_and_mxnet_loads_the_result(module_run, tmp_path):
    prefix = tmp_path / "lenet"
    mxnet_checkpoint(prefix)
    x, y = data()
    mx.nd.save(str(tmp_path / "data.params"),
               {"data": mx.nd.array(x), "softmax_label": mx.nd.array(y)})
    run(module_run, "fit", prefix, 0, tmp_path / "data.params", 8, 0.1, tmp_path / "mixnet")

    # MXNet: the same epoch from the same checkpoint.
    logging.disable(logging.INFO)
    ref = mx.mod.Module.load(str(prefix), 0, data_names=["data"], label_names=["softmax_label"])
    ref.fit(mx.io.NDArrayIter(x, y, batch_size=8, label_name="softmax_label"), num_epoch=1,
            optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    want_args, want_aux = ref.get_params()

    _, got_args, got_aux = mx.model.load_checkpoint(str(tmp_path / "mixnet"), 1)
    assert sorted(got_args) == sorted(want_args)
    assert sorted(got_aux) == sorted(want_aux)
    for name in want_args:
        np.testing.assert_allclose(got_args[name].asnumpy(), want_args[name].asnumpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=name)
    for name in want_aux:
        np.testing.assert_allclose(got_aux[name].asnumpy(), want_aux[name].asnumpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=name)

    # MXNet predicts with mixnet's checkpoint as with its own parameters.
    loaded = mx.mod.Module.load(str(tmp_path / "mixnet"), 1, data_names=["data"],
                                label_names=["softmax_label"])
    loaded.bind(data_shapes=[("data", x.shape)], for_training=False)
    got = loaded.predict(mx.io.NDArrayIter(x, batch_size=len(x))).asnumpy()
    want = ref.predict(mx.io.NDArrayIter(x, batch_size=8)).asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
