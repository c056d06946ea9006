"""The same Python Gluon code under MXNet 1.9.1 (in its own venv, in a subprocess) and mixnet:
parameter names agree, save_parameters files and exported models load both ways with equal
outputs."""
import json
import os
import subprocess
import textwrap

import numpy as np
import pytest

MXNET_PYTHON = os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python")
pytestmark = pytest.mark.skipif(not os.path.exists(MXNET_PYTHON),
                                reason=f"MXNet 1.9.1 venv not found ({MXNET_PYTHON})")

# One model definition, run by both frameworks: only the import line differs.
MODEL = '''
class Net(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super(Net, self).__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential()
            self.features.add(nn.Conv2D(4, kernel_size=3, padding=1, activation="relu"),
                              nn.BatchNorm(),
                              nn.MaxPool2D(),
                              nn.Flatten())
            self.out = nn.Dense(3)
            self.scale = self.params.get("scale", shape=(3,), init="ones")

    def hybrid_forward(self, F, x, scale):
        return F.broadcast_mul(self.out(self.features(x)), F.reshape(scale, shape=(1, 3)))
'''


def run_mxnet(tmp_path, body):
    script = tmp_path / "mx_side.py"
    script.write_text("import json, numpy as np\nimport mxnet as mx\n"
                      "from mxnet import gluon\nfrom mxnet.gluon import nn\n" + MODEL +
                      textwrap.dedent(body))
    subprocess.run([MXNET_PYTHON, str(script)], check=True, cwd=tmp_path, timeout=300,
                   capture_output=True)


def mixnet_model():
    import mixnet as mx
    from mixnet import gluon
    from mixnet.gluon import nn
    env = {"mx": mx, "gluon": gluon, "nn": nn}
    exec(MODEL, env)  # noqa: S102
    mx._core._reset_block_names()
    return mx, gluon, env["Net"]


def test_mxnet_files_load_into_mixnet_and_back(tmp_path):
    x = np.random.RandomState(0).uniform(-1, 1, (2, 1, 6, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    run_mxnet(tmp_path, """
        net = Net()
        net.initialize(mx.init.Xavier())
        x = mx.nd.array(np.load("x.npy"))
        net.scale.set_data(mx.nd.array([1.0, 2.0, 3.0]))
        np.save("y.npy", net(x).asnumpy())
        net.save_parameters("net.params")
        net.hybridize()
        net(x)
        net.export("exported")
        json.dump(list(net.collect_params().keys()), open("names.json", "w"))
    """)
    mx, gluon, Net = mixnet_model()
    expected = np.load(tmp_path / "y.npy")
    net = Net()
    assert list(net.collect_params().keys()) == json.load(open(tmp_path / "names.json"))
    net.load_parameters(str(tmp_path / "net.params"))
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), expected, rtol=1e-4, atol=1e-5)
    imported = gluon.SymbolBlock.imports(str(tmp_path / "exported-symbol.json"), ["data"],
                                         str(tmp_path / "exported-0000.params"))
    np.testing.assert_allclose(imported(mx.nd.array(x)).asnumpy(), expected, rtol=1e-4,
                               atol=1e-5)

    # and back: mixnet's export and save_parameters run in MXNet
    net.hybridize()
    ours = net(mx.nd.array(x)).asnumpy()
    net.export(str(tmp_path / "ours"))
    net.save_parameters(str(tmp_path / "ours.params"))
    run_mxnet(tmp_path, """
        x = mx.nd.array(np.load("x.npy"))
        block = gluon.SymbolBlock.imports("ours-symbol.json", ["data"], "ours-0000.params")
        np.save("y_imported.npy", block(x).asnumpy())
        net = Net()
        net.load_parameters("ours.params")
        np.save("y_loaded.npy", net(x).asnumpy())
    """)
    np.testing.assert_allclose(np.load(tmp_path / "y_imported.npy"), ours, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "y_loaded.npy"), ours, rtol=1e-4, atol=1e-5)
