"""gluon.data: datasets, samplers, DataLoader (same-thread and native worker threads), vision
datasets (FashionMNIST from Debian's files, CIFAR from hand-built binary batches)."""
import gc
import os
import threading
import time

import numpy as np
import pytest

import mixnet as mx
from mixnet import gluon, nd

data = gluon.data
FASHION_ROOT = "/usr/share/datasets/fashion-mnist"
WORKERS = [0, 1, 2, 4]


def _flat(batches):
    """The first field of each batch, concatenated as NumPy."""
    out = []
    for b in batches:
        b = b[0] if isinstance(b, list) else b
        out.append(b.asnumpy() if isinstance(b, nd.NDArray) else np.asarray(b))
    return np.concatenate(out)


# ---- Dataset ---------------------------------------------------------------------------

def test_simple_dataset_and_iteration():
    ds = data.SimpleDataset([3, 1, 4])
    assert len(ds) == 3 and ds[2] == 4 and list(ds) == [3, 1, 4]


def test_array_dataset_fields_and_length_check():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = nd.arange(6)
    z = list("abcdef")
    ds = data.ArrayDataset(x, y, z)
    assert len(ds) == 6
    a, b, c = ds[4]
    np.testing.assert_array_equal(a, [8, 9])
    assert float(b) == 4.0 and np.isscalar(b)  # 1-D NDArrays become NumPy: scalar items
    assert c == "e"
    single = data.ArrayDataset(nd.array(x))
    assert isinstance(single[1], nd.NDArray) and single[1].shape == (2,)
    with pytest.raises(ValueError, match=r"array\[1\] has 5"):
        data.ArrayDataset(x, np.zeros(5))
    with pytest.raises(ValueError):
        data.ArrayDataset()


def test_transform_and_transform_first():
    ds = data.ArrayDataset(np.arange(5), np.arange(5) * 10)
    t = ds.transform(lambda a, b: (a + 1, b - 1))
    assert t[2] == (3, 19)
    tf = ds.transform_first(lambda a: a * 100)
    assert tf[3] == (300, 30)
    calls = []

    def fn(a):
        calls.append(a)
        return -a
    eager = data.SimpleDataset([1, 2, 3]).transform(fn, lazy=False)
    assert calls == [1, 2, 3] and isinstance(eager, data.SimpleDataset) and eager[1] == -2
    lazy = data.SimpleDataset([1, 2, 3]).transform_first(fn)
    assert len(calls) == 3 and lazy[0] == -1 and len(calls) == 4


def test_filter_shard_take():
    ds = data.SimpleDataset(list(range(10)))
    f = ds.filter(lambda x: x % 3 == 0)
    assert list(f) == [0, 3, 6, 9] and len(f) == 4
    shards = [list(ds.shard(3, i)) for i in range(3)]
    assert shards == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert sum(shards, []) == list(range(10))
    with pytest.raises(ValueError):
        ds.shard(3, 3)
    assert list(ds.take(4)) == [0, 1, 2, 3]
    assert len(ds.take(100)) == 10 and len(ds.take(None)) == 10
    assert list(ds.take(6).filter(lambda x: x > 2).shard(2, 1)) == [5]


# ---- samplers --------------------------------------------------------------------------

def test_sequential_random_interval_samplers():
    assert list(data.SequentialSampler(4, start=2)) == [2, 3, 4, 5]
    np.random.seed(7)
    a = list(data.RandomSampler(20))
    np.random.seed(7)
    b = list(data.RandomSampler(20))
    assert a == b and sorted(a) == list(range(20)) and a != list(range(20))
    assert list(data.IntervalSampler(7, 3)) == [0, 3, 6, 1, 4, 2, 5]
    assert list(data.IntervalSampler(7, 3, rollover=False)) == [0, 3, 6]
    assert len(data.IntervalSampler(7, 3, rollover=False)) == 3
    with pytest.raises(ValueError):
        data.IntervalSampler(3, 3)


def test_batch_sampler_last_batch_rules():
    s = data.SequentialSampler(10)
    keep = data.BatchSampler(s, 3, "keep")
    assert list(keep) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(keep) == 4
    disc = data.BatchSampler(s, 3, "discard")
    assert list(disc) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(disc) == 3
    roll = data.BatchSampler(s, 3, "rollover")
    assert len(roll) == 3
    assert list(roll) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(roll) == 3  # 1 left over + 10 = 11 -> 3 batches
    assert list(roll)[0] == [9, 0, 1]
    with pytest.raises(ValueError, match="last_batch"):
        data.BatchSampler(s, 3, "drop")


# ---- DataLoader ------------------------------------------------------------------------

@pytest.mark.parametrize("workers", WORKERS)
def test_dataloader_order_native_arrays(workers):
    x = np.arange(103 * 3, dtype=np.float32).reshape(103, 3)
    y = np.arange(103, dtype=np.int32)
    loader = data.DataLoader(data.ArrayDataset(x, y), batch_size=10, num_workers=workers)
    batches = list(loader)
    assert len(batches) == len(loader) == 11
    xb, yb = batches[0]
    assert xb.shape == (10, 3) and xb.dtype == np.float32 and yb.dtype == np.int32
    np.testing.assert_array_equal(_flat(batches), x)
    np.testing.assert_array_equal(np.concatenate([b[1].asnumpy() for b in batches]), y)


@pytest.mark.parametrize("workers", WORKERS)
def test_dataloader_order_python_dataset(workers):
    # A Python transform: the workers take the GIL per batch.
    ds = data.SimpleDataset(list(range(57))).transform(lambda v: nd.array([v, 2 * v]))
    batches = list(data.DataLoader(ds, batch_size=8, num_workers=workers))
    out = _flat(batches)
    assert out.shape == (57, 2)
    np.testing.assert_array_equal(out[:, 0], np.arange(57))
    np.testing.assert_array_equal(out[:, 1], 2 * np.arange(57))


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_shuffle_seeded_and_complete(workers):
    ds = data.ArrayDataset(np.arange(50, dtype=np.int64))
    loader = data.DataLoader(ds, batch_size=7, shuffle=True, num_workers=workers)
    np.random.seed(3)
    a = _flat(loader)
    np.random.seed(3)
    b = _flat(loader)
    c = _flat(loader)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    for order in (a, c):
        assert sorted(order.tolist()) == list(range(50))  # every sample exactly once


@pytest.mark.parametrize("workers", [1, 2])
def test_dataloader_views_and_custom_batchify(workers):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    ds = data.ArrayDataset(x).filter(lambda r: r[0] % 4 == 0).shard(2, 1)
    expect = x[x[:, 0] % 4 == 0][5:]
    np.testing.assert_array_equal(_flat(data.DataLoader(ds, batch_size=2, num_workers=workers)),
                                  expect)
    sums = list(data.DataLoader(data.ArrayDataset(x), batch_size=5, num_workers=workers,
                                batchify_fn=lambda rows: float(np.sum(rows))))
    assert sums == [float(x[i:i + 5].sum()) for i in range(0, 20, 5)]


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_last_batch_and_batch_sampler(workers):
    ds = data.ArrayDataset(np.arange(10, dtype=np.int32))
    sizes = [b.shape[0] for b in data.DataLoader(ds, 4, last_batch="discard",
                                                  num_workers=workers)]
    assert sizes == [4, 4]
    loader = data.DataLoader(ds, 4, last_batch="rollover", num_workers=workers)
    assert _flat(loader).tolist() == list(range(8))
    assert _flat(loader).tolist()[:4] == [8, 9, 0, 1]
    bs = data.BatchSampler(data.SequentialSampler(10, 0), 5)
    assert _flat(data.DataLoader(ds, batch_sampler=bs, num_workers=workers)).tolist() == \
        list(range(10))
    with pytest.raises(ValueError):
        data.DataLoader(ds, batch_size=2, batch_sampler=bs)
    with pytest.raises(ValueError):
        data.DataLoader(ds, batch_size=2, shuffle=True, sampler=data.SequentialSampler(10))


@pytest.mark.parametrize("workers", [1, 4])
def test_dataloader_early_break_then_new_epoch(workers):
    ds = data.SimpleDataset(list(range(200)))
    loader = data.DataLoader(ds, batch_size=3, num_workers=workers, prefetch=4)
    before = threading.active_count()
    for i, _ in enumerate(loader):
        if i == 2:
            break
    gc.collect()
    assert _flat(loader).tolist() == list(range(200))
    it = iter(loader)
    next(it)
    it.close()
    del it
    gc.collect()
    time.sleep(0.05)
    assert threading.active_count() == before


class _Boom(RuntimeError):
    pass


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_exception_in_transform_reaches_caller(workers):
    def fn(v):
        if v == 13:
            raise _Boom(f"bad sample {v}")
        return v
    loader = data.DataLoader(data.SimpleDataset(list(range(30))).transform(fn), batch_size=4,
                             num_workers=workers)
    got = []
    with pytest.raises(_Boom, match="bad sample 13"):
        for b in loader:
            got.append(b)
    assert len(got) == 3  # batches before the failing one arrive in order


def test_dataloader_pin_memory_and_prefetch_default():
    ds = data.ArrayDataset(np.ones((6, 2), np.float32))
    b = next(iter(data.DataLoader(ds, 3, pin_memory=True, num_workers=2)))
    assert b.context == mx.Context("cpu_pinned", 0)
    assert data.DataLoader(ds, 3, num_workers=3)._prefetch == 6


def test_default_batchify_fn():
    b = data.default_batchify_fn([(nd.ones((2,)), 1), (nd.zeros((2,)), 2)])
    assert isinstance(b, list) and b[0].shape == (2, 2)
    assert b[1].asnumpy().tolist() == [1, 2]
    c = data.default_batchify_fn([np.zeros(3, np.uint8), np.ones(3, np.uint8)])
    assert c.dtype == np.uint8 and c.shape == (2, 3)


# ---- vision datasets -------------------------------------------------------------------

@pytest.mark.skipif(not os.path.isfile(os.path.join(FASHION_ROOT, "train-images-idx3-ubyte.gz")),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian():
    train = data.vision.FashionMNIST()
    test = data.vision.FashionMNIST(train=False)
    assert len(train) == 60000 and len(test) == 10000
    img, label = train[0]
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8
    labels = np.array([test[i][1] for i in range(0, 10000, 7)])
    assert labels.min() == 0 and labels.max() == 9
    # The native loader gives what the samples give.
    first = next(iter(data.DataLoader(test, batch_size=16, num_workers=2)))
    np.testing.assert_array_equal(first[0].asnumpy(),
                                  np.stack([test[i][0].asnumpy() for i in range(16)]))
    np.testing.assert_array_equal(first[1].asnumpy(), [test[i][1] for i in range(16)])


def test_mnist_missing_files_message(tmp_path):
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        data.vision.MNIST(root=str(tmp_path))
    with pytest.raises(ValueError, match="data_batch_1.bin"):
        data.vision.CIFAR10(root=str(tmp_path))


def _cifar_records(rng, n, label_bytes):
    labels = rng.integers(0, 100, size=(n, label_bytes), dtype=np.uint8)
    chw = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    raw = np.concatenate([labels, chw.reshape(n, -1)], axis=1).tobytes()
    return raw, labels, chw.transpose(0, 2, 3, 1)


def test_cifar10_from_binary_batches(tmp_path):
    rng = np.random.default_rng(0)
    sub = tmp_path / "cifar-10-batches-bin"
    sub.mkdir()
    imgs, labs = [], []
    for i in range(1, 6):
        raw, lab, hwc = _cifar_records(rng, 3 + i, 1)
        (sub / f"data_batch_{i}.bin").write_bytes(raw)
        imgs.append(hwc)
        labs.append(lab[:, 0])
    raw, tlab, thwc = _cifar_records(rng, 4, 1)
    (sub / "test_batch.bin").write_bytes(raw)
    train = data.vision.CIFAR10(root=str(tmp_path))
    imgs, labs = np.concatenate(imgs), np.concatenate(labs)
    assert len(train) == len(labs) == 30
    img, label = train[11]
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img.asnumpy(), imgs[11])
    assert label == labs[11]
    test = data.vision.CIFAR10(root=str(tmp_path), train=False)
    np.testing.assert_array_equal(np.stack([test[i][0].asnumpy() for i in range(4)]), thwc)
    got = list(data.DataLoader(train, batch_size=8, num_workers=2))
    np.testing.assert_array_equal(np.concatenate([b[0].asnumpy() for b in got]), imgs)
    np.testing.assert_array_equal(np.concatenate([b[1].asnumpy() for b in got]), labs)
    (sub / "test_batch.bin").write_bytes(raw[:-5])
    with pytest.raises(ValueError, match="not a multiple"):
        data.vision.CIFAR10(root=str(tmp_path), train=False)


def test_cifar100_coarse_and_fine(tmp_path):
    rng = np.random.default_rng(1)
    raw, lab, hwc = _cifar_records(rng, 6, 2)
    (tmp_path / "train.bin").write_bytes(raw)
    coarse = data.vision.CIFAR100(root=str(tmp_path))
    fine = data.vision.CIFAR100(root=str(tmp_path), fine_label=True)
    assert [coarse[i][1] for i in range(6)] == lab[:, 0].tolist()
    assert [fine[i][1] for i in range(6)] == lab[:, 1].tolist()
    np.testing.assert_array_equal(fine[5][0].asnumpy(), hwc[5])


def test_interpreter_exits_with_live_loader_iterators():
    # Workers still running (Python-backed, waiting for the GIL; native ones) at exit: no hang.
    import subprocess
    import sys
    code = (
        "import numpy as np\n"
        "from mixnet.gluon import data\n"
        "py = iter(data.DataLoader(data.SimpleDataset(list(range(10000))).transform(lambda v: v),"
        " 4, num_workers=4))\n"
        "nat = iter(data.DataLoader(data.ArrayDataset(np.ones((10000, 8))), 4, num_workers=4))\n"
        "next(py); next(nat)\n"
        "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_dataloader_timeout_raises():
    def slow(v):
        time.sleep(1.0)
        return v
    loader = data.DataLoader(data.SimpleDataset([1, 2]).transform(slow), batch_size=1,
                             num_workers=1, timeout=0.2)
    with pytest.raises(TimeoutError, match="timeout"):  # (then waits for the worker's batch)
        next(iter(loader))


@pytest.mark.parametrize("workers", [1, 3])
def test_dataloader_transform_first_block_in_workers(workers):
    # transform_first(block) over NDArray rows: the workers call the block per sample.
    x = nd.array(np.arange(40 * 6).reshape(40, 2, 3, 1) % 251, dtype=np.uint8)
    y = np.arange(40, dtype=np.int32)
    T = data.vision.transforms
    dense = gluon.nn.HybridSequential()
    dense.add(gluon.nn.Dense(4))
    dense.initialize()
    dense.hybridize()
    seq = gluon.nn.HybridSequential()
    seq.add(gluon.nn.Flatten())
    seq.add(gluon.nn.Activation("relu"))
    class PyFlatten(gluon.HybridBlock):  # a Python-defined block: the tree is not all C++
        def hybrid_forward(self, F, x):
            return F.flatten(x)

    mixed = gluon.nn.HybridSequential()
    mixed.add(T.ToTensor())
    mixed.add(PyFlatten())
    for block in (T.ToTensor(), gluon.nn.Flatten(), seq, dense, mixed):
        src = nd.array(x.asnumpy(), dtype=np.float32) if block in (dense, seq) else x
        ds = data.ArrayDataset(src, y).transform_first(block)
        # C++ trees run in the workers without the GIL; Python-defined ones per batch with it.
        cpp = block is not mixed
        assert (ds._native_source() is not None) == cpp
        want = list(data.DataLoader(ds, batch_size=6))  # calling thread, per sample in Python
        got = list(data.DataLoader(ds, batch_size=6, num_workers=workers))
        assert len(got) == len(want) == 7
        for (gx, gy), (wx, wy) in zip(got, want):
            assert gx.shape == wx.shape and gx.dtype == wx.dtype
            np.testing.assert_allclose(gx.asnumpy(), wx.asnumpy(), rtol=1e-6)
            np.testing.assert_array_equal(gy.asnumpy(), wy.asnumpy())
    # NumPy rows stay in Python (the block would see NumPy there).
    assert data.ArrayDataset(x.asnumpy(), y).transform_first(T.ToTensor())._native_source() \
        is None
    # An error raised in a C++ block on a worker reaches the caller with its type.
    bad = data.ArrayDataset(nd.ones((10, 2, 3)), y[:10]).transform_first(gluon.nn.Dense(2))
    assert bad._native_source() is not None
    with pytest.raises(ValueError):
        list(data.DataLoader(bad, batch_size=2, num_workers=workers))  # not initialized
