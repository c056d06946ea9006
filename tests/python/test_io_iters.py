"""mx.io's file iterators (MNISTIter, CSVIter, LibSVMIter) and wrappers (ResizeIter,
PrefetchingIter): MXNet 1.9.1's batching rules, parsing errors, shuffling and sharding."""
import gzip
import os
import struct
import threading

import numpy as np
import pytest

import mixnet as mx

FASHION = "/usr/share/datasets/fashion-mnist"


def batches(it):
    """[(data arrays, label arrays, pad, index)] of one epoch, as NumPy."""
    return [([d.asnumpy() for d in b.data], [l.asnumpy() for l in b.label], b.pad,
             list(b.index)) for b in it]


def write(path, text):
    with open(path, "w", newline="") as f:
        f.write(text)
    return str(path)


def write_idx(tmp_path, n, rows=2, cols=3, gz=False, name="x"):
    """Idx files of n images whose pixels are (sample % 200) + column, labels sample % 256."""
    pix = np.array([[(i % 200) + c for c in range(rows * cols)] for i in range(n)], np.uint8)
    img = struct.pack(">iiii", 0x803, n, rows, cols) + pix.tobytes()
    lab = struct.pack(">ii", 0x801, n) + (np.arange(n) % 256).astype(np.uint8).tobytes()
    opener = gzip.open if gz else open
    paths = []
    for suffix, payload in (("img", img), ("lab", lab)):
        p = tmp_path / f"{name}-{suffix}{'.gz' if gz else ''}"
        with opener(p, "wb") as f:
            f.write(payload)
        paths.append(str(p))
    return paths, pix


# ---- CSVIter ----

def test_csv_round_batch_rolls_over_across_epochs(tmp_path):
    # MXNet's documented example: 4 rows, batch 3: the last batch is completed from the start
    # and the next epoch continues after the borrowed rows.
    d = write(tmp_path / "d.csv", "1,2,3\n2,3,4\n3,4,5\n4,5,6\n")
    l = write(tmp_path / "l.csv", "1\n2\n3\n4\n")
    it = mx.io.CSVIter(data_csv=d, data_shape=(3,), label_csv=l, batch_size=3)
    assert it.provide_data[0].shape == (3, 3) and it.provide_label[0].shape == (3,)
    epochs = []
    for _ in range(3):
        epochs.append([(b[1][0].tolist(), b[2], b[3]) for b in batches(it)])
        it.reset()
    assert epochs[0] == [([1, 2, 3], 0, [0, 1, 2]), ([4, 1, 2], 2, [3, 0, 1])]
    assert epochs[1] == [([3, 4, 1], 1, [2, 3, 0])]
    assert epochs[2] == [([2, 3, 4], 0, [1, 2, 3])]


def test_csv_without_round_batch_pads_with_the_previous_rows(tmp_path):
    d = write(tmp_path / "d.csv", "1,2,3\n2,3,4\n3,4,5\n4,5,6\n")
    it = mx.io.CSVIter(data_csv=d, data_shape=(3,), batch_size=3, round_batch=False)
    for _ in range(2):
        got = batches(it)
        assert [b[2] for b in got] == [0, 2]
        np.testing.assert_array_equal(got[1][0][0], [[4, 5, 6], [2, 3, 4], [3, 4, 5]])
        np.testing.assert_array_equal(got[1][1][0], [0, 0, 0])  # no label file: zeros
        it.reset()


def test_csv_blank_lines_crlf_and_no_trailing_newline(tmp_path):
    clean = write(tmp_path / "a.csv", "1,2\n3,4\n5,6\n")
    messy = write(tmp_path / "b.csv", "\n1, 2\r\n\r\n  \n3,4\n5,6")
    a = batches(mx.io.CSVIter(data_csv=clean, data_shape=(2,), batch_size=3))
    b = batches(mx.io.CSVIter(data_csv=messy, data_shape=(2,), batch_size=3))
    np.testing.assert_array_equal(a[0][0][0], b[0][0][0])
    np.testing.assert_array_equal(b[0][0][0], [[1, 2], [3, 4], [5, 6]])


@pytest.mark.parametrize("text,line,what", [("1,2\n1,x\n", 2, "'x' is not a number"),
                                            ("1,2\n\n1,2,3\n", 3, "3 values"),
                                            ("1,\n", 1, "is not a number"),
                                            ("1,2e\n", 1, "'2e' is not a number")])
def test_csv_malformed_line_names_file_and_line(tmp_path, text, line, what):
    p = write(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=f"bad.csv line {line}: .*{what}|bad.csv line {line}: {what}"):
        mx.io.CSVIter(data_csv=p, data_shape=(2,), batch_size=1)


def test_csv_shapes_dtype_and_label_count(tmp_path):
    d = write(tmp_path / "d.csv", "1,2,3,4\n5,6,7,8\n")
    l = write(tmp_path / "l.csv", "1,2\n3,4\n")
    it = mx.io.CSVIter(data_csv=d, data_shape=(2, 2), label_csv=l, label_shape=(2,),
                       batch_size=2, dtype="int64")
    assert it.provide_data[0].shape == (2, 2, 2) and it.provide_label[0].shape == (2, 2)
    b = it.next()
    assert b.data[0].dtype == np.int64 and b.label[0].dtype == np.int64
    np.testing.assert_array_equal(b.label[0].asnumpy(), [[1, 2], [3, 4]])
    with pytest.raises(StopIteration):
        it.next()
    short = write(tmp_path / "s.csv", "1,2\n")
    with pytest.raises(ValueError, match="has 2 samples but .*s.csv' has 1"):
        mx.io.CSVIter(data_csv=d, data_shape=(4,), label_csv=short, label_shape=(2,))
    with pytest.raises(ValueError, match="cannot open"):
        mx.io.CSVIter(data_csv=str(tmp_path / "missing.csv"), data_shape=(4,))


def test_csv_batch_bigger_than_the_data(tmp_path):
    d = write(tmp_path / "d.csv", "1\n2\n")
    got = batches(mx.io.CSVIter(data_csv=d, data_shape=(1,), batch_size=5))
    assert len(got) == 1 and got[0][2] == 3
    np.testing.assert_array_equal(got[0][0][0].ravel(), [1, 2, 1, 2, 1])


# ---- LibSVMIter ----

def test_libsvm_parsing_and_round_batch(tmp_path):
    p = write(tmp_path / "a.libsvm", "1 0:1 2:3\n0 1:2\n\n1 0:5 3:1\n0 2:2\n1 1:1\n")
    it = mx.io.LibSVMIter(data_libsvm=p, data_shape=(4,), batch_size=2)
    assert it.provide_data[0].shape == (2, 4) and it.provide_label[0].shape == (2,)
    e0 = batches(it)
    assert [b[2] for b in e0] == [0, 0, 1] and e0[2][3] == [4, 0]
    np.testing.assert_array_equal(e0[0][0][0], [[1, 0, 3, 0], [0, 2, 0, 0]])
    np.testing.assert_array_equal(e0[2][0][0], [[0, 1, 0, 0], [1, 0, 3, 0]])
    np.testing.assert_array_equal(np.concatenate([b[1][0] for b in e0]), [1, 0, 1, 0, 1, 1])
    it.reset()
    assert [b[3] for b in batches(it)] == [[1, 2], [3, 4]]  # continues after the borrowed row


def test_libsvm_label_file(tmp_path):
    d = write(tmp_path / "d.libsvm", "0 0:1\n0 1:1\n")
    l = write(tmp_path / "l.libsvm", "0 0:1 1:2\n0 1:7\n")
    b = mx.io.LibSVMIter(data_libsvm=d, data_shape=(2,), label_libsvm=l, label_shape=(2,),
                         batch_size=2).next()
    np.testing.assert_array_equal(b.label[0].asnumpy(), [[1, 2], [0, 7]])


@pytest.mark.parametrize("text,what", [("1 0:1\nx 0:1\n", "line 2: 'x 0:1' does not start"),
                                       ("1 0:1\n1 0:a\n", "line 2: '0:a' is not index:value"),
                                       ("1 0:1 5\n", "line 1: '5' is not index:value"),
                                       ("1 9:1\n", "line 1: index 9 is out of range")])
def test_libsvm_malformed_line_names_file_and_line(tmp_path, text, what):
    p = write(tmp_path / "bad.libsvm", text)
    with pytest.raises(ValueError, match=f"bad.libsvm {what}"):
        mx.io.LibSVMIter(data_libsvm=p, data_shape=(4,))


@pytest.mark.parametrize("num_parts", [1, 2, 3, 4])
def test_libsvm_parts_hold_every_line_once(tmp_path, num_parts):
    lines = [f"{i} {i % 5}:{i}.5 {5 + i % 3}:1" + (" " * (i % 7)) for i in range(41)]
    p = write(tmp_path / "s.libsvm", "\n".join(lines) + "\n")
    seen = []
    for k in range(num_parts):
        it = mx.io.LibSVMIter(data_libsvm=p, data_shape=(8,), batch_size=1, num_parts=num_parts,
                              part_index=k)
        part = [int(b.label[0].asnumpy()[0]) for b in it]
        assert len(part) == it.num_samples
        assert part == sorted(part)  # a part is a contiguous run of lines
        seen += part
    assert sorted(seen) == list(range(41)) and len(seen) == 41
    with pytest.raises(ValueError, match="part_index must be in"):
        mx.io.LibSVMIter(data_libsvm=p, data_shape=(8,), num_parts=num_parts, part_index=num_parts)


# ---- MNISTIter ----

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_small_files_in_order(tmp_path, gz):
    (img, lab), pix = write_idx(tmp_path, 10, gz=gz)
    it = mx.io.MNISTIter(image=img, label=lab, batch_size=4, shuffle=False, silent=True)
    assert it.provide_data[0].shape == (4, 1, 2, 3) and it.provide_label[0].shape == (4,)
    got = batches(it)
    assert len(got) == 2  # the incomplete last batch is dropped, as in MXNet
    np.testing.assert_array_equal(got[0][0][0], pix[:4].reshape(4, 1, 2, 3) / np.float32(256))
    np.testing.assert_array_equal(got[1][1][0], [4, 5, 6, 7])
    assert got[1][3] == [4, 5, 6, 7] and got[1][2] == 0
    it.reset()
    assert len(batches(it)) == 2
    flat = mx.io.MNISTIter(image=img, label=lab, batch_size=2, shuffle=False, flat=True,
                           silent=True)
    assert flat.next().data[0].shape == (2, 6)
    shaped = mx.io.MNISTIter(image=img, label=lab, batch_size=2, input_shape=(3, 2), silent=True)
    assert shaped.provide_data[0].shape == (2, 3, 2)
    with pytest.raises(ValueError, match="input_shape"):
        mx.io.MNISTIter(image=img, label=lab, input_shape=(5,), silent=True)


def test_mnist_shuffle_is_a_seeded_permutation(tmp_path):
    (img, lab), pix = write_idx(tmp_path, 12)

    def epoch(seed):
        it = mx.io.MNISTIter(image=img, label=lab, batch_size=3, shuffle=True, seed=seed,
                             silent=True)
        return batches(it)

    a, b, c = epoch(7), epoch(7), epoch(8)
    order = sum((x[3] for x in a), [])
    assert sorted(order) == list(range(12)) and order != list(range(12))
    assert order == sum((x[3] for x in b), [])
    assert order != sum((x[3] for x in c), [])
    for data, label, _, index in a:  # rows and labels follow the index
        np.testing.assert_array_equal(data[0].reshape(3, 6), pix[index] / np.float32(256))
        np.testing.assert_array_equal(label[0], index)


@pytest.mark.parametrize("num_parts", [1, 2, 3, 4])
def test_mnist_parts_hold_every_sample_once(tmp_path, num_parts):
    (img, lab), _ = write_idx(tmp_path, 23)
    seen = []
    for k in range(num_parts):
        it = mx.io.MNISTIter(image=img, label=lab, batch_size=1, shuffle=True, seed=k,
                             num_parts=num_parts, part_index=k, silent=True)
        seen += [int(b.label[0].asnumpy()[0]) for b in it]  # the label is the sample number
    assert sorted(seen) == list(range(23))


def test_mnist_bad_files(tmp_path):
    (img, lab), _ = write_idx(tmp_path, 5)
    (img2, lab2), _ = write_idx(tmp_path, 6, name="y")
    with pytest.raises(ValueError, match="is not an idx file of 3"):
        mx.io.MNISTIter(image=lab, label=lab, silent=True)
    with pytest.raises(ValueError, match="has 5 images but .* has 6 labels"):
        mx.io.MNISTIter(image=img, label=lab2, silent=True)
    with open(img, "rb") as f:
        raw = f.read()
    trunc = write_bytes = tmp_path / "trunc"
    write_bytes.write_bytes(raw[:-1])
    with pytest.raises(ValueError, match="truncated"):
        mx.io.MNISTIter(image=str(trunc), label=lab, silent=True)
    with pytest.raises(ValueError, match="cannot open"):
        mx.io.MNISTIter(image=str(tmp_path / "none"), label=lab, silent=True)


@pytest.mark.skipif(not os.path.exists(f"{FASHION}/t10k-images-idx3-ubyte.gz"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_mnist_fashion_first_batch_is_the_raw_bytes_over_256():
    img, lab = f"{FASHION}/t10k-images-idx3-ubyte.gz", f"{FASHION}/t10k-labels-idx1-ubyte.gz"
    with gzip.open(img) as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(lab) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    it = mx.io.MNISTIter(image=img, label=lab, batch_size=128, shuffle=False, silent=True)
    assert it.num_samples == 10000
    b = it.next()
    np.testing.assert_array_equal(b.data[0].asnumpy(), raw[:128, None] / np.float32(256))
    np.testing.assert_array_equal(b.label[0].asnumpy(), labels[:128])
    assert sum(1 for _ in it) == 10000 // 128 - 1


# ---- ResizeIter ----

def test_resize_iter_epoch_length():
    data = np.arange(8, dtype=np.float32).reshape(4, 2)
    inner = mx.io.NDArrayIter(data, np.arange(4), batch_size=2)
    it = mx.io.ResizeIter(inner, 5)
    assert it.provide_data == inner.provide_data and it.batch_size == 2
    got = [b.data[0].asnumpy()[0, 0] for b in it]
    assert got == [0, 4, 0, 4, 0]
    it.reset()
    assert [b.data[0].asnumpy()[0, 0] for b in it] == [0, 4, 0, 4, 0]
    keep = mx.io.ResizeIter(mx.io.NDArrayIter(data, batch_size=2), 3, reset_internal=False)
    assert [b.data[0].asnumpy()[0, 0] for b in keep] == [0, 4, 0]
    keep.reset()
    assert [b.data[0].asnumpy()[0, 0] for b in keep] == [4, 0, 4]


# ---- PrefetchingIter ----

class PyIter(mx.io.DataIter):
    """A Python iterator: the prefetching thread must take the GIL to call it."""

    def __init__(self, n, fail_at=None):
        super().__init__(2)
        self.n, self.i, self.fail_at = n, 0, fail_at
        self.threads = set()

    @property
    def provide_data(self):
        return [mx.io.DataDesc("pydata", (2, 3))]

    @property
    def provide_label(self):
        return [mx.io.DataDesc("pylabel", (2,))]

    def reset(self):
        self.i = 0

    def next(self):
        self.threads.add(threading.get_ident())
        if self.i == self.fail_at:
            raise RuntimeError("bad batch")
        if self.i >= self.n:
            raise StopIteration
        self.i += 1
        return mx.io.DataBatch([mx.nd.full((2, 3), self.i)], [mx.nd.full((2,), -self.i)], pad=0,
                               index=np.array([self.i, self.i]))


def test_prefetching_yields_the_wrapped_batches_and_stops(tmp_path):
    d = write(tmp_path / "d.csv", "\n".join(f"{i},{i + 1}" for i in range(7)) + "\n")
    plain = mx.io.CSVIter(data_csv=d, data_shape=(2,), batch_size=3)
    want = [batches(plain)]
    plain.reset()
    want.append(batches(plain))
    it = mx.io.PrefetchingIter(mx.io.CSVIter(data_csv=d, data_shape=(2,), batch_size=3))
    assert it.provide_data == plain.provide_data and it.batch_size == 3
    for epoch in want:
        got = batches(it)
        assert len(got) == len(epoch)
        for g, w in zip(got, epoch):
            np.testing.assert_array_equal(g[0][0], w[0][0])
            assert g[2:] == w[2:]
        with pytest.raises(StopIteration):
            it.next()
        it.reset()
    it.close()


def test_prefetching_joins_iterators_renames_and_calls_python(tmp_path):
    py = PyIter(3)
    nd = mx.io.NDArrayIter(np.zeros((6, 4), np.float32), np.ones(6), batch_size=2)
    it = mx.io.PrefetchingIter([nd, py], rename_data=[{"data": "a"}, {"pydata": "b"}],
                               rename_label=[{"softmax_label": "la"}, {"pylabel": "lb"}])
    assert [d.name for d in it.provide_data] == ["a", "b"]
    assert [d.name for d in it.provide_label] == ["la", "lb"]
    assert [d.shape for d in it.provide_data] == [(2, 4), (2, 3)]
    got = list(it)
    assert len(got) == 3 and len(got[0].data) == 2 and len(got[0].label) == 2
    np.testing.assert_array_equal(got[2].data[1].asnumpy(), np.full((2, 3), 3))
    assert threading.get_ident() not in py.threads  # read on the prefetching thread
    with pytest.raises(ValueError, match="has no entry for 'data'"):
        mx.io.PrefetchingIter(nd, rename_data=[{"x": "y"}])
    it.close()


def test_prefetching_raises_the_wrapped_iterators_error():
    it = mx.io.PrefetchingIter(PyIter(5, fail_at=1))
    it.next()
    with pytest.raises(RuntimeError, match="bad batch"):
        it.next()
    del it  # the thread ends without a deadlock


def test_prefetching_mismatched_lengths():
    it = mx.io.PrefetchingIter([PyIter(2), PyIter(3)])
    assert len([it.next(), it.next()]) == 2
    with pytest.raises(ValueError, match="mismatches between iterators"):
        it.next()


def test_prefetching_keeps_python_batch_index():
    it = mx.io.PrefetchingIter(PyIter(3))
    assert [list(b.index) for b in it] == [[1, 1], [2, 2], [3, 3]]
    it.close()


def test_prefetching_many_python_batches_and_early_close():
    for _ in range(20):  # closed while the thread is inside the Python iterator: no deadlock
        it = mx.io.PrefetchingIter([PyIter(1000), PyIter(1000)])
        it.next()
        it.close()
    it = mx.io.PrefetchingIter(PyIter(300))
    assert sum(b.data[0].asnumpy()[0, 0] for b in it) == sum(range(1, 301))


@pytest.mark.skipif(not os.path.exists(f"{FASHION}/train-images-idx3-ubyte.gz"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_module_fit_reads_mnist_through_prefetching_and_resize():
    data = mx.sym.flatten(mx.sym.var("data"))
    fc = mx.sym.FullyConnected(data=data, num_hidden=10)
    net = mx.sym.SoftmaxOutput(data=fc, name="softmax")
    train = mx.io.PrefetchingIter(mx.io.ResizeIter(mx.io.MNISTIter(
        image=f"{FASHION}/train-images-idx3-ubyte.gz", label=f"{FASHION}/train-labels-idx1-ubyte.gz",
        batch_size=100, silent=True), 100))
    val = mx.io.MNISTIter(image=f"{FASHION}/t10k-images-idx3-ubyte.gz",
                          label=f"{FASHION}/t10k-labels-idx1-ubyte.gz", batch_size=500,
                          shuffle=False, silent=True)
    mod = mx.mod.Module(net)
    mod.fit(train, num_epoch=3, optimizer="sgd", optimizer_params={"learning_rate": 0.1},
            initializer=mx.init.Xavier())
    acc = dict(mod.score(val, "acc"))["accuracy"]
    assert acc > 0.7, acc
    train.close()


def test_prefetching_dropped_from_its_own_thread():
    holder = {}

    class Dropper(PyIter):
        def next(self):
            if self.i == 2:
                holder.clear()  # maybe the last reference: freed on the prefetching thread
            return super().next()

    dropper = Dropper(10)
    holder["it"] = mx.io.PrefetchingIter(dropper)
    holder["it"].next()
    holder["it"].next()  # asks for the batch whose reading drops the iterator
    for _ in range(200):
        if dropper.i >= 3:
            break
        threading.Event().wait(0.01)
    assert dropper.i == 3 and not holder
