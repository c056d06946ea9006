"""The main job, python -m mixnet.examples.fashion_mnist, on a reduced setting (one epoch of
20 batches) in a subprocess: its progress, summary and final lines; the training-curve PNG and
the history CSV; and the exported checkpoint, which SymbolBlock.imports loads and which then
predicts the test set with the accuracy the job printed."""
import csv
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mixnet as mx
from mixnet import gluon
from mixnet.gluon.data.vision import FashionMNIST, transforms

DATA = "/usr/share/datasets/fashion-mnist"
pytestmark = pytest.mark.skipif(not os.path.isdir(DATA),
                                reason=f"Debian's dataset-fashion-mnist not found in {DATA}")


def run_job(out_dir, *args):
    cmd = [sys.executable, "-m", "mixnet.examples.fashion_mnist", "--epochs", "1",
           "--output-dir", str(out_dir), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_main_job_short_run(tmp_path):
    out = run_job(tmp_path, "--max-batches", "20")
    lines = out.splitlines()
    assert lines[0] == "model: lenet (hybridized), 431360 parameters"
    assert "20 batches/epoch" in lines[2]
    # Not a terminal: a plain progress line per tenth of the epoch, not one per batch.
    progress = [l for l in lines if re.match(r"epoch 1/1 +\d+/20 ", l)]
    assert len(progress) == 10, out
    assert re.fullmatch(r"epoch 1/1 20/20 \(100%\) loss \d+\.\d{4} acc 0\.\d{4} \| \d+ samples/s"
                        r" \| \d+:\d\d total", progress[-1])
    summary = re.search(r"^epoch 1/1: train loss (\d+\.\d+), train acc (0\.\d+), test acc "
                        r"(0\.\d+), \d+\.\d s, \d+ samples/s$", out, re.M)
    assert summary, out
    final = re.search(r"^final test accuracy: (0\.\d{4}) \(1 epochs, [\d.]+ s in all\)$", out,
                      re.M)
    assert final and final.group(1) == summary.group(3)
    assert float(final.group(1)) > 0.3  # 20 steps of SGD already learn something

    prefix = os.path.join(tmp_path, "fashion_mnist_lenet")
    png = open(prefix + "-curves.png", "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert mx.image.imdecode(png).shape == (480, 1200, 3)
    with open(prefix + "-history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and rows[0]["epoch"] == "1"
    assert float(rows[0]["test_acc"]) == pytest.approx(float(final.group(1)), abs=1e-4)

    # The checkpoint: MXNet's -symbol.json + -0001.params, loaded as MXNet users would.
    net = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0001.params")
    test = FashionMNIST(root=DATA, train=False).transform_first(transforms.ToTensor())
    loader = gluon.data.DataLoader(test, batch_size=1000)
    acc = mx.metric.Accuracy()
    for data, label in loader:
        pred = net(data)
        assert pred.shape == (data.shape[0], 10)
        acc.update([label], [pred])
    assert acc.get()[1] == pytest.approx(float(final.group(1)), abs=1e-4)


def test_main_job_imperative_mlp_exports_too(tmp_path):
    out = run_job(tmp_path, "--model", "mlp", "--no-hybridize", "--max-batches", "5",
                  "--batch-size", "64")
    assert out.startswith("model: mlp (imperative), 235146 parameters\n")
    prefix = os.path.join(tmp_path, "fashion_mnist_mlp")
    net = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0001.params")
    x = mx.nd.array(np.random.RandomState(0).rand(3, 1, 28, 28).astype(np.float32))
    assert net(x).shape == (3, 10)
