"""MNISTIter, CSVIter and LibSVMIter against Apache MXNet 1.9.1's on the same files (MXNet runs
in its own venv; the tests skip when it is absent)."""
import gzip
import os

import numpy as np
import pytest

import mixnet as mx
from mxnet19_ref import run_mxnet

FASHION = "/usr/share/datasets/fashion-mnist"

# Runs in MXNet's venv: every batch of two epochs of `make()` saved as npz under `out`.
DUMP = """
import json, mxnet as mx, numpy as np
it = {make}
arrays = {{}}
for epoch in range(2):
    for i, b in enumerate(it):
        for j, d in enumerate(b.data + b.label):
            arrays[f"e{{epoch}}b{{i}}a{{j}}"] = d.asnumpy()
        arrays[f"e{{epoch}}b{{i}}pad"] = np.array(b.pad)
        arrays[f"e{{epoch}}b{{i}}index"] = np.array(b.index)
        if i == {max_batches}:
            break
    it.reset()
np.savez({out!r}, **arrays)
print(json.dumps({{"descs": [[d.name, list(d.shape)] for d in it.provide_data + it.provide_label]}}))
"""


def compare(tmp_path, make_mx, ours, max_batches=10 ** 9, check_index=True):
    out = str(tmp_path / "mx.npz")
    ref = run_mxnet(DUMP.format(make=make_mx, out=out, max_batches=max_batches))
    assert [[d.name, list(d.shape)] for d in ours.provide_data + ours.provide_label] == \
        ref["descs"]
    want = np.load(out)
    n = 0
    for epoch in range(2):
        for i, b in enumerate(ours):
            for j, d in enumerate(b.data + b.label):
                np.testing.assert_array_equal(d.asnumpy(), want[f"e{epoch}b{i}a{j}"],
                                              err_msg=f"epoch {epoch} batch {i} array {j}")
            assert b.pad == int(want[f"e{epoch}b{i}pad"])
            if check_index:
                assert list(b.index) == list(want[f"e{epoch}b{i}index"])
            n += 1
            if i == max_batches:
                break
        else:
            assert f"e{epoch}b{i + 1}pad" not in want, f"MXNet has more batches in epoch {epoch}"
        ours.reset()
    assert n > 0 and n == len([k for k in want.files if k.endswith("pad")])


def gunzip(tmp_path, name):
    path = tmp_path / name
    with gzip.open(f"{FASHION}/{name}.gz") as f:
        path.write_bytes(f.read())
    return str(path)


@pytest.mark.skipif(not os.path.exists(f"{FASHION}/t10k-images-idx3-ubyte.gz"),
                    reason="Debian's dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("kwargs", [dict(shuffle=False), dict(shuffle=True, seed=3, flat=True),
                                    dict(shuffle=True, num_parts=3, part_index=2)])
def test_mnist_matches_mxnet_on_fashion_mnist(tmp_path, kwargs):
    # MXNet 1.9.1 reads idx files only uncompressed; mixnet reads the .gz files themselves.
    img, lab = gunzip(tmp_path, "t10k-images-idx3-ubyte"), gunzip(tmp_path, "t10k-labels-idx1-ubyte")
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    ours = mx.io.MNISTIter(image=f"{FASHION}/t10k-images-idx3-ubyte.gz",
                           label=f"{FASHION}/t10k-labels-idx1-ubyte.gz", batch_size=100,
                           silent=True, **kwargs)
    # MXNet leaves MNISTIter's index at 0: only data, labels and pads are compared.
    compare(tmp_path, f"mx.io.MNISTIter(image={img!r}, label={lab!r}, batch_size=100, "
            f"silent=True, {args})", ours, max_batches=5, check_index=False)


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("round_batch", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_csv_matches_mxnet(tmp_path, round_batch, dtype):
    rng = np.random.default_rng(0)
    rows = rng.integers(-50, 50, size=(23, 6))
    d = write(tmp_path / "d.csv", "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    l = write(tmp_path / "l.csv", "\n".join(f"{i},{-i}" for i in range(23)) + "\n")
    kw = dict(data_csv=d, data_shape=(2, 3), label_csv=l, label_shape=(2,), batch_size=5,
              round_batch=round_batch, dtype=dtype)
    compare(tmp_path, f"mx.io.CSVIter(**{kw!r})", mx.io.CSVIter(**kw))


@pytest.mark.parametrize("num_parts,part_index", [(1, 0), (3, 0), (3, 1), (3, 2), (4, 3)])
def test_libsvm_matches_mxnet(tmp_path, num_parts, part_index):
    rng = np.random.default_rng(1)
    lines = []
    for i in range(37):
        idx = sorted(rng.choice(10, size=int(rng.integers(1, 5)), replace=False))
        lines.append(f"{i % 3} " + " ".join(f"{j}:{rng.integers(1, 9)}.25" for j in idx))
    d = write(tmp_path / "d.libsvm", "\n".join(lines) + "\n")
    kw = dict(data_libsvm=d, data_shape=(10,), batch_size=4, num_parts=num_parts,
              part_index=part_index)
    # MXNet's batches are CSRNDArrays; asnumpy() gives the dense rows compared here.
    compare(tmp_path, f"mx.io.LibSVMIter(**{kw!r})", mx.io.LibSVMIter(**kw))


def test_libsvm_label_file_matches_mxnet(tmp_path):
    d = write(tmp_path / "d.libsvm", "1 0:1\n0 1:1\n1 2:3\n")
    l = write(tmp_path / "l.libsvm", "0 0:1 1:2\n0 1:7\n2 0:4\n")
    kw = dict(data_libsvm=d, data_shape=(3,), label_libsvm=l, label_shape=(2,), batch_size=2)
    compare(tmp_path, f"mx.io.LibSVMIter(**{kw!r})", mx.io.LibSVMIter(**kw))
