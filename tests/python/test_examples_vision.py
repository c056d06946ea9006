"""The vision examples on their --tiny settings, each in a subprocess as a user runs them
(python -m mixnet.examples.<name>): image_classification (Fashion-MNIST through a DataLoader,
and im2rec + ImageRecordIter), module_api (the symbolic Module API) and export_inference
(export, SymbolBlock.imports and Module inference); and build/examples/predict (C++) against
Python's predictions on the same exported model."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mixnet as mx

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MIXNET_BUILD_DIR", os.path.join(REPO, "build"))
PREDICT = os.path.join(BUILD, "examples", "predict")

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.path.join(FASHION_MNIST, "t10k-images-idx3-ubyte.gz")),
    reason="Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)")


def run_example(name, *args):
    """The example's output: stdout and stderr (logging's, as Speedometer's) together."""
    r = subprocess.run([sys.executable, "-m", "mixnet.examples." + name, *map(str, args)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                       check=False)
    assert r.returncode == 0, r.stdout
    return r.stdout


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"no line matching {pattern!r} in:\n{text}"
    return float(m.group(1))


@pytest.mark.parametrize("data", ["fashion-mnist", "rec"])
def test_image_classification(tmp_path, data):
    out = run_example("image_classification", "--tiny", "--data", data, "--output-dir", tmp_path)
    epochs = re.findall(r"Epoch (\d)/2: loss ([\d.]+), train accuracy ([\d.]+), "
                        r"validation accuracy ([\d.]+) \((\d+) samples", out)
    assert [e[0] for e in epochs] == ["1", "2"], out
    assert all(int(e[4]) == 4 * 32 for e in epochs)  # --max-batches 4 of 32
    assert all(np.isfinite(float(e[1])) for e in epochs)
    # Two short epochs are too few to generalise reliably; the training batches must be fit.
    assert max(float(e[2]) for e in epochs) > 0.2, out
    acc = number(r"Final validation accuracy: ([\d.]+)", out)
    assert 0 <= acc <= 1
    assert os.path.getsize(tmp_path / "resnet18_v1.params") > 0
    if data == "rec":
        assert re.search(r"im2rec: 256 images in 10 class folders -> .*train\.rec", out), out
        for name in ("train", "val"):
            rec = mx.recordio.MXIndexedRecordIO(str(tmp_path / (name + ".idx")),
                                                str(tmp_path / (name + ".rec")), "r")
            header, img = mx.recordio.unpack(rec.read_idx(rec.keys[0]))
            assert mx.image.imdecode(img, flag=0).shape == (32, 32, 1)  # stored at 32x32
            assert {int(mx.recordio.unpack(rec.read_idx(k))[0].label)
                    for k in rec.keys} == set(range(10))
            rec.close()


def test_module_api(tmp_path):
    out = run_example("module_api", "--tiny", "--output-dir", tmp_path)
    assert "Epoch[0] (hand-written loop) Train-accuracy=" in out
    assert re.search(r"Epoch\[1\] Batch \[\d+-\d+\]\s+Speed: [\d.]+ samples/sec", out), out
    acc = number(r"Test accuracy ([\d.]+), cross-entropy", out)
    assert acc > 0.5, out  # chance is 0.1; an MLP gets ~0.75 on 2000 images in 2 epochs
    assert number(r"accuracy ([\d.]+) from mod.predict", out) == acc
    assert number(r"Reloaded .*: test accuracy ([\d.]+)", out) == acc
    assert number(r"probabilities ([\d.e+-]+)", out) < 1e-6
    assert "do_checkpoint's %s-0002.params is the same file: True" % (tmp_path / "mlp") in out
    assert (tmp_path / "mlp-symbol.json").exists() and (tmp_path / "mlp-final-symbol.json").exists()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """export_inference --tiny: the exported model, its stdout, and the saved inputs/outputs."""
    d = tmp_path_factory.mktemp("export")
    out = run_example("export_inference", "--tiny", "--output-dir", d, "--num-save", 50,
                      "--save-inputs", d / "inputs.nd", "--save-outputs", d / "outputs.nd")
    return d, out


def test_export_inference(exported):
    d, out = exported
    assert re.search(r"Exported .*model-symbol\.json and .*model-0001\.params", out), out
    assert len(re.findall(r"test image \d: SymbolBlock \d \(.+\), Module \d, true \d", out)) == 5
    acc_block = number(r"SymbolBlock test accuracy ([\d.]+) on 300 images", out)
    assert acc_block == number(r"Module test accuracy ([\d.]+)", out)
    assert acc_block > 0.3, out  # chance is 0.1
    assert number(r"between the two outputs: ([\d.e+-]+)", out) < 1e-4
    x, y = mx.nd.load(str(d / "inputs.nd"))[0], mx.nd.load(str(d / "outputs.nd"))[0]
    assert x.shape == (50, 1, 28, 28) and y.shape == (50, 10)
    # --checkpoint: the same export loaded again without training gives the same numbers.
    again = run_example("export_inference", "--checkpoint", d / "model", "--epoch", 1,
                        "--num-test", 300, "--output-dir", d / "again")
    assert number(r"SymbolBlock test accuracy ([\d.]+)", again) == acc_block


def run_predict(*args):
    if not os.path.exists(PREDICT):
        pytest.skip(f"{PREDICT} is not built (build the examples: cmake --build build "
                    f"--target predict, or set MIXNET_BUILD_DIR)")
    r = subprocess.run([PREDICT, *map(str, args)], capture_output=True, text=True, timeout=120,
                       check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_cpp_predict_matches_python(exported):
    d, out = exported
    py = mx.nd.load(str(d / "outputs.nd"))[0].asnumpy()
    # The C++ program reading Fashion-MNIST itself (the first 300 test images, as Python).
    cpp_out = run_predict(d / "model", 1, "--num", 300, "--save-outputs", d / "cpp.nd")
    assert number(r"Test accuracy ([\d.]+) on 300 images", cpp_out) == \
        number(r"SymbolBlock test accuracy ([\d.]+)", out)
    cpp = mx.nd.load(str(d / "cpp.nd"))[0].asnumpy()
    assert cpp.shape == (300, 10)
    np.testing.assert_allclose(cpp[:50], py, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(cpp[:50].argmax(1), py.argmax(1))
    # The C++ program reading Python's inputs from an .nd file, batches of 16 (a last partial
    # batch: a second traced shape).
    run_predict("--symbol", d / "model-symbol.json", "--params", d / "model-0001.params",
                "--input", d / "inputs.nd", "--batch-size", 16, "--save-outputs", d / "cpp2.nd")
    np.testing.assert_allclose(mx.nd.load(str(d / "cpp2.nd"))[0].asnumpy(), py, rtol=1e-4,
                               atol=1e-4)


def test_cpp_predict_bad_model(tmp_path):
    (tmp_path / "m-symbol.json").write_text("{not json")
    if not os.path.exists(PREDICT):
        pytest.skip(f"{PREDICT} is not built")
    r = subprocess.run([PREDICT, tmp_path / "m", "3"], capture_output=True, text=True,
                       timeout=60, check=False)
    assert r.returncode == 1 and r.stderr.startswith("predict: "), r.stderr
