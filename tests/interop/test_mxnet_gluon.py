"""Gluon checkpoints between MXNet 1.9.1 and mixnet (mixnet_gluon_run).

MXNet hybridizes and exports a small network (convolution, BatchNorm, pooling, dense layers);
mixnet's SymbolBlock::Imports gives the same outputs, and the same parameter gradients under
autograd. The reverse: MXNet imports the same network exported by mixnet and predicts as mixnet
does, and loads its parameters into its own gluon layers by their names.
"""
import subprocess

import mxnet as mx
import numpy as np
from mxnet import gluon


def mxnet_net():
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Conv2D(4, 3, padding=1), gluon.nn.BatchNorm(), gluon.nn.Activation("relu"),
                gluon.nn.MaxPool2D(), gluon.nn.Flatten(), gluon.nn.Dense(8, activation="tanh"),
                gluon.nn.Dense(3))
    net.initialize(mx.init.Xavier())
    net.hybridize()
    return net


def run(tool, *args):
    result = subprocess.run([tool, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_mixnet_imports_an_mxnet_export(gluon_run, tmp_path):
    mx.random.seed(7)
    net = mxnet_net()
    x = mx.nd.array(np.random.RandomState(1).uniform(-1, 1, (5, 2, 6, 6)))
    # Train-mode calls move the BatchNorm statistics away from their initial values.
    for _ in range(2):
        with mx.autograd.record():
            net(x)
    want = net(x).asnumpy()
    prefix = tmp_path / "net"
    net.export(str(prefix), epoch=3)
    mx.nd.save(str(tmp_path / "in.params"), {"data": x})
    run(gluon_run, "imports", f"{prefix}-symbol.json", f"{prefix}-0003.params",
        tmp_path / "in.params", tmp_path / "out.params", tmp_path / "grads.params")
    got = mx.nd.load(str(tmp_path / "out.params"))[0].asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    # Gradients of sum(output) in training mode, against MXNet's on the imported block.
    ref = gluon.SymbolBlock.imports(f"{prefix}-symbol.json", ["data"], f"{prefix}-0003.params")
    with mx.autograd.record():
        out = ref(x)
    out.backward()
    grads = mx.nd.load(str(tmp_path / "grads.params"))
    for name, p in ref.collect_params().items():
        if p.grad_req == "null":
            continue
        np.testing.assert_allclose(grads[name].asnumpy(), p.grad().asnumpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)


def test_mxnet_imports_a_mixnet_export(gluon_run, tmp_path):
    x = mx.nd.array(np.random.RandomState(2).uniform(-1, 1, (4, 2, 6, 6)))
    mx.nd.save(str(tmp_path / "in.params"), {"data": x})
    prefix = tmp_path / "mixnet_net"
    run(gluon_run, "export", prefix, tmp_path / "in.params", tmp_path / "out.params")
    want = mx.nd.load(str(tmp_path / "out.params"))[0].asnumpy()
    block = gluon.SymbolBlock.imports(f"{prefix}-symbol.json", ["data"], f"{prefix}-0000.params")
    np.testing.assert_allclose(block(x).asnumpy(), want, rtol=1e-5, atol=1e-6)
    # The exported names are MXNet's: its own layers take the file (arg:/aux: stripped; the
    # top-level counter differs, as this process made other networks before).
    net = mxnet_net()
    loaded = {k.split(":", 1)[1]: v for k, v in mx.nd.load(f"{prefix}-0000.params").items()}
    assert all(k.startswith("hybridsequential0_") for k in loaded)
    loaded = {k[len("hybridsequential0_"):]: v for k, v in loaded.items()}
    params = {k[len(net.prefix):]: p for k, p in net.collect_params().items()}
    assert sorted(loaded) == sorted(params)
    for name, p in params.items():
        p.set_data(loaded[name])
    np.testing.assert_allclose(net(x).asnumpy(), want, rtol=1e-5, atol=1e-6)
