"""mx.mod.Module: the classic MXNet fit loop on Fashion-MNIST, the low-level API, scoring,
prediction, checkpoints and callbacks."""
import gzip
import logging
import os
import time

import numpy as np
import pytest

import mixnet as mx

FASHION = "/usr/share/datasets/fashion-mnist/"


def _images(name, n):
    with gzip.open(os.path.join(FASHION, name)) as f:
        buf = f.read()
    assert int.from_bytes(buf[0:4], "big") == 2051
    total, rows, cols = (int.from_bytes(buf[i:i + 4], "big") for i in (4, 8, 12))
    x = np.frombuffer(buf, np.uint8, offset=16).reshape(total, 1, rows, cols)
    return x[:n].astype(np.float32) / 255


def _labels(name, n):
    with gzip.open(os.path.join(FASHION, name)) as f:
        buf = f.read()
    assert int.from_bytes(buf[0:4], "big") == 2049
    return np.frombuffer(buf, np.uint8, offset=8)[:n].astype(np.float32)


def mlp_symbol():
    data = mx.sym.var("data")
    data = mx.sym.flatten(data=data)
    fc1 = mx.sym.FullyConnected(data=data, num_hidden=128)
    act1 = mx.sym.Activation(data=fc1, act_type="relu")
    fc2 = mx.sym.FullyConnected(data=act1, num_hidden=64)
    act2 = mx.sym.Activation(data=fc2, act_type="relu")
    fc3 = mx.sym.FullyConnected(data=act2, num_hidden=10)
    return mx.sym.SoftmaxOutput(data=fc3, name="softmax")


@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Debian's fashion-mnist not installed")
def test_fashion_mnist_fit_classic(tmp_path, caplog):
    # The MXNet 1.x tutorial loop; only `import mixnet as mx` differs.
    np.random.seed(0)
    X_train = _images("train-images-idx3-ubyte.gz", 12000)
    y_train = _labels("train-labels-idx1-ubyte.gz", 12000)
    X_test = _images("t10k-images-idx3-ubyte.gz", 2000)
    y_test = _labels("t10k-labels-idx1-ubyte.gz", 2000)
    batch_size = 100
    train_iter = mx.io.NDArrayIter(X_train, y_train, batch_size, shuffle=True)
    val_iter = mx.io.NDArrayIter(X_test, y_test, batch_size)

    mlp = mlp_symbol()
    mlp_model = mx.mod.Module(symbol=mlp, context=mx.cpu())
    epochs_seen = []
    start = time.time()
    with caplog.at_level(logging.INFO):
        mlp_model.fit(train_iter,
                      eval_data=val_iter,
                      optimizer="sgd",
                      optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
                      eval_metric="acc",
                      batch_end_callback=mx.callback.Speedometer(batch_size, 40),
                      epoch_end_callback=[lambda epoch, sym, arg, aux: epochs_seen.append(
                          (epoch, sorted(arg)))],
                      num_epoch=6)
    elapsed = time.time() - start
    assert [e for e, _ in epochs_seen] == list(range(6))
    assert epochs_seen[0][1] == sorted(n for n in mlp.list_arguments()
                                       if n not in ("data", "softmax_label"))
    log = caplog.text
    assert "Epoch[5] Validation-accuracy=" in log and "Speed:" in log

    test_iter = mx.io.NDArrayIter(X_test, None, batch_size)
    prob = mlp_model.predict(test_iter)
    assert prob.shape == (2000, 10)
    acc = float((prob.asnumpy().argmax(axis=1) == y_test).mean())
    print(f"fit: 6 epochs of 12000 samples in {elapsed:.1f} s; held-out accuracy {acc:.4f}")
    assert acc > 0.8, acc
    score = mlp_model.score(val_iter, "acc")
    assert score[0][0] == "accuracy"
    assert abs(score[0][1] - acc) < 1e-6

    # save_checkpoint / load_checkpoint round trip: the same predictions
    prefix = str(tmp_path / "mlp")
    mlp_model.save_checkpoint(prefix, 6)
    assert os.path.exists(prefix + "-symbol.json") and os.path.exists(prefix + "-0006.params")
    sym, arg_params, aux_params = mx.model.load_checkpoint(prefix, 6)
    assert sym.tojson() == mlp.tojson()
    own_args, _ = mlp_model.get_params()
    assert sorted(arg_params) == sorted(own_args)
    for name, value in arg_params.items():
        np.testing.assert_array_equal(value.asnumpy(), own_args[name].asnumpy())
    loaded = mx.mod.Module(symbol=sym, context=mx.cpu())
    loaded.bind(data_shapes=test_iter.provide_data, label_shapes=None, for_training=False)
    loaded.set_params(arg_params, aux_params)
    np.testing.assert_allclose(loaded.predict(test_iter).asnumpy(), prob.asnumpy(), rtol=1e-5,
                               atol=1e-6)
    again = mx.mod.Module.load(prefix, 6)
    again.bind(data_shapes=test_iter.provide_data, for_training=False)
    np.testing.assert_allclose(again.predict(test_iter).asnumpy(), prob.asnumpy(), rtol=1e-5,
                               atol=1e-6)


def linear_regression_symbol():
    x = mx.sym.var("data")
    y = mx.sym.var("lin_reg_label")
    fc = mx.sym.FullyConnected(x, num_hidden=1, name="fc")
    return mx.sym.LinearRegressionOutput(fc, y, name="lro")


def test_low_level_train_loop_and_metric_names():
    np.random.seed(1)
    w_true = np.array([[2.0, -3.0, 0.5]], np.float32)
    x = np.random.uniform(-1, 1, (200, 3)).astype(np.float32)
    y = (x @ w_true.T)[:, 0] + 1.0
    it = mx.io.NDArrayIter(x, y, batch_size=20, shuffle=True, label_name="lin_reg_label")
    mod = mx.mod.Module(linear_regression_symbol(), label_names=["lin_reg_label"])
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    assert mod.binded and not mod.params_initialized
    mod.init_params(initializer="xavier")
    mod.init_optimizer(optimizer="sgd", optimizer_params=(("learning_rate", 0.5),))
    assert mod.optimizer_initialized
    for _ in range(30):
        it.reset()
        for batch in it:
            mod.forward(batch, is_train=True)
            mod.backward()
            mod.update()
    args, _ = mod.get_params()
    np.testing.assert_allclose(args["fc_weight"].asnumpy(), w_true, atol=1e-3)
    np.testing.assert_allclose(args["fc_bias"].asnumpy(), [1.0], atol=1e-3)
    assert mod.output_shapes == [("lro_output", (20, 1))]

    class SumAbsError:  # a Python metric: update_metric calls its update(labels, preds)
        def __init__(self):
            self.total = 0.0

        def update(self, labels, preds):
            self.total += float(np.abs(labels[0].asnumpy() - preds[0].asnumpy()[:, 0]).sum())

    metric = SumAbsError()
    it.reset()
    batch = next(it)
    mod.forward(batch, is_train=False)
    mod.update_metric(metric, batch.label)
    assert 0 < metric.total < 20 * 3e-3
    res = dict(mod.score(it, ["mse", "mae"]))
    assert res["mse"] < 1e-5 and res["mae"] < 3e-3


def test_python_data_iter_in_fit_and_batch_callback_metric():
    class Batches(mx.io.DataIter):
        """A Python iterator (not NDArrayIter): fit reads it through the C++ adapter."""

        def __init__(self, x, y, batch_size):
            super().__init__(batch_size)
            self.x, self.y, self.i = x, y, 0

        @property
        def provide_data(self):
            return [mx.io.DataDesc("data", (self.batch_size,) + self.x.shape[1:])]

        @property
        def provide_label(self):
            return [mx.io.DataDesc("softmax_label", (self.batch_size,))]

        def reset(self):
            self.i = 0

        def next(self):
            if self.i >= len(self.x):
                raise StopIteration
            s = slice(self.i, self.i + self.batch_size)
            self.i += self.batch_size
            return mx.io.DataBatch([mx.nd.array(self.x[s])], [mx.nd.array(self.y[s])], pad=0)

    rng = np.random.RandomState(2)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    data = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=2, name="fc"),
                               name="softmax")
    mod = mx.mod.Module(net)
    seen = []
    mod.fit(Batches(x, y, 30), eval_metric="acc", optimizer="sgd",
            optimizer_params={"learning_rate": 0.5}, initializer="xavier",
            batch_end_callback=lambda p: seen.append((p.epoch, p.nbatch,
                                                      p.eval_metric.get_name_value())),
            num_epoch=8)
    assert [(e, b) for e, b, _ in seen] == [(e, b) for e in range(8) for b in range(4)]
    assert seen[-1][2][0][0] == "accuracy" and seen[-1][2][0][1] > 0.9
    with pytest.raises(ZeroDivisionError):
        mod.fit(Batches(x, y, 30), num_epoch=1, force_init=True,
                batch_end_callback=lambda p: 1 / 0)


def test_errors_and_unsupported():
    mod = mx.mod.Module(mlp_symbol())
    with pytest.raises(ValueError):
        mod.init_params()  # not bound
    with pytest.raises(NotImplementedError):  # several contexts: test_module_multi_context.py
        mx.mod.Module(mlp_symbol(), group2ctxs={"dev1": [mx.cpu(1)]})
    mod.bind(data_shapes=[("data", (4, 1, 28, 28))], label_shapes=[("softmax_label", (4,))])
    with pytest.raises(NotImplementedError):
        mod.init_params(initializer='["nosuchinit", {}]')
    with pytest.raises(ValueError):
        mod.init_optimizer(optimizer="nosuchopt")


def test_do_checkpoint_callback_and_metric_list(tmp_path, caplog):
    x = np.random.RandomState(0).normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2,
                                                     name="fc"), name="softmax")
    mod = mx.mod.Module(net)
    prefix = str(tmp_path / "ck")
    with caplog.at_level(logging.INFO):
        mod.fit(mx.io.NDArrayIter(x, y, 10), eval_data=mx.io.NDArrayIter(x, y, 10),
                eval_metric=["acc", "ce"], num_epoch=4,
                epoch_end_callback=mx.callback.do_checkpoint(prefix, period=2))
    for line in ("Epoch[3] Train-accuracy=", "Epoch[3] Train-cross-entropy=",
                 "Epoch[3] Validation-cross-entropy=", 'Saved checkpoint to'):
        assert line in caplog.text, line
    assert sorted(os.listdir(tmp_path)) == ["ck-0002.params", "ck-0004.params",
                                            "ck-symbol.json"]
    _, args, _ = mx.model.load_checkpoint(prefix, 4)
    np.testing.assert_array_equal(args["fc_weight"].asnumpy(),
                                  mod.get_params()[0]["fc_weight"].asnumpy())


def test_save_load_params(tmp_path):
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2,
                                                     name="fc"), name="softmax")
    mod = mx.mod.Module(net)
    mod.bind(data_shapes=[("data", (2, 3))], label_shapes=[("softmax_label", (2,))])
    mod.init_params(initializer="xavier")
    fname = str(tmp_path / "p.params")
    mod.save_params(fname)
    other = mx.mod.Module(net)
    other.bind(data_shapes=[("data", (2, 3))], label_shapes=[("softmax_label", (2,))])
    other.load_params(fname)
    np.testing.assert_array_equal(other.get_params()[0]["fc_weight"].asnumpy(),
                                  mod.get_params()[0]["fc_weight"].asnumpy())


MXNET_PY = os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python")

# Run in MXNet 1.9.1: load a checkpoint, predict on the saved inputs, and save MXNet's own
# checkpoint with doubled arguments (for mixnet to load).
_MXNET_SIDE = """
import sys, numpy as np, mxnet as mx
prefix, x_path, out_prefix = sys.argv[1:4]
x = np.load(x_path)
sym, args, aux = mx.model.load_checkpoint(prefix, 3)
mod = mx.mod.Module(sym, context=mx.cpu())
it = mx.io.NDArrayIter(x, None, 10)
mod.bind(it.provide_data, for_training=False)
mod.set_params(args, aux)
np.save(out_prefix + "-pred.npy", mod.predict(it).asnumpy())
args = {k: v * 2 for k, v in args.items()}
mx.model.save_checkpoint(out_prefix, 7, sym, args, aux)
"""


@pytest.mark.skipif(not os.path.exists(MXNET_PY), reason="MXNet 1.9.1 venv not installed")
def test_checkpoints_interoperate_with_mxnet(tmp_path):
    import subprocess
    rng = np.random.RandomState(4)
    x = rng.normal(size=(30, 5)).astype(np.float32)
    y = (x[:, 1] > 0).astype(np.float32)
    data = mx.sym.var("data")
    bn = mx.sym.BatchNorm(mx.sym.FullyConnected(data, num_hidden=6, name="fc1"), name="bn")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.Activation(bn, act_type="tanh"),
                                                     num_hidden=2, name="fc2"), name="softmax")
    mod = mx.mod.Module(net)
    mod.fit(mx.io.NDArrayIter(x, y, 10), num_epoch=3, initializer="xavier",
            optimizer_params={"learning_rate": 0.1})
    prefix = str(tmp_path / "mine")
    mod.save_checkpoint(prefix, 3)
    np.save(tmp_path / "x.npy", x)
    theirs = str(tmp_path / "theirs")
    subprocess.run([MXNET_PY, "-c", _MXNET_SIDE, prefix, str(tmp_path / "x.npy"), theirs],
                   check=True, timeout=300, capture_output=True)
    mine = mod.predict(mx.io.NDArrayIter(x, None, 10)).asnumpy()
    np.testing.assert_allclose(np.load(theirs + "-pred.npy"), mine, rtol=1e-4, atol=1e-5)
    sym, args, aux = mx.model.load_checkpoint(theirs, 7)
    assert sorted(aux) == ["bn_moving_mean", "bn_moving_var"]
    own_args, own_aux = mod.get_params()
    for name, value in args.items():
        np.testing.assert_allclose(value.asnumpy(), 2 * own_args[name].asnumpy(), rtol=1e-6)
    for name, value in aux.items():
        np.testing.assert_allclose(value.asnumpy(), own_aux[name].asnumpy(), rtol=1e-6)


def test_ctrl_c_stops_fit():
    import signal
    import threading
    x = np.zeros((20, 3), np.float32)
    y = np.zeros((20,), np.float32)
    mod = mx.mod.Module(mx.sym.SoftmaxOutput(mx.sym.FullyConnected(
        mx.sym.var("data"), num_hidden=2, name="fc"), name="softmax"))
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    start = time.time()
    try:
        with pytest.raises(KeyboardInterrupt):
            mod.fit(mx.io.NDArrayIter(x, y, 10), num_epoch=10 ** 7)
    finally:
        timer.cancel()
    assert time.time() - start < 30


def test_input_grads_and_shared_module():
    data = mx.sym.var("data")
    net = mx.sym.MakeLoss(mx.sym.sum(mx.sym.FullyConnected(data, num_hidden=1, name="fc",
                                                           no_bias=True)), name="loss")
    mod = mx.mod.Module(net, label_names=None)
    mod.bind(data_shapes=[("data", (2, 3))], inputs_need_grad=True)
    mod.init_params(arg_params={"fc_weight": mx.nd.array([[1.0, 2.0, 3.0]])})
    batch = mx.io.DataBatch([mx.nd.ones((2, 3))])
    mod.forward(batch, is_train=True)
    mod.backward()
    np.testing.assert_allclose(mod.get_input_grads()[0].asnumpy(), [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), [12.0])
    # a second module for another batch size, sharing the first one's parameters
    other = mx.mod.Module(net, label_names=None)
    other.bind(data_shapes=[("data", (1, 3))], for_training=False, shared_module=mod)
    other.init_params(arg_params=mod.get_params()[0])
    other.forward(mx.io.DataBatch([mx.nd.ones((1, 3))]))
    np.testing.assert_allclose(other.get_outputs()[0].asnumpy(), [6.0])
    # forward reshapes for a batch of another size
    mod.forward(mx.io.DataBatch([mx.nd.ones((4, 3))]), is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), [24.0])
