"""mx.io: DataDesc, DataBatch, NDArrayIter (names, padding rules, shuffle), DataIter."""
import numpy as np
import pytest

import mixnet as mx


def test_data_desc():
    d = mx.io.DataDesc("data", (32, 3, 28, 28))
    name, shape = d
    assert name == "data" and shape == (32, 3, 28, 28)
    assert d.dtype == np.float32 and d.layout == "NCHW"
    assert mx.io.DataDesc.get_batch_axis("TNC") == 1
    descs = mx.io.DataDesc.get_list([("a", (1, 2))], [("a", np.int32)])
    assert descs[0].dtype == np.int32


def collect(it):
    return [(b.data[0].asnumpy().copy(), b.label[0].asnumpy().copy() if b.label else None, b.pad)
            for b in it]


def test_pad_discard_roll_over():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10, dtype=np.float32)
    batches = collect(mx.io.NDArrayIter(x, y, batch_size=4))
    assert [b[2] for b in batches] == [0, 0, 2]
    np.testing.assert_array_equal(batches[2][0][:, 0], [8, 9, 0, 1])
    np.testing.assert_array_equal(batches[2][1], [8, 9, 0, 1])
    assert len(collect(mx.io.NDArrayIter(x, y, batch_size=4, last_batch_handle="discard"))) == 2
    it = mx.io.NDArrayIter(x, y, batch_size=4, last_batch_handle="roll_over")
    first = collect(it)
    assert len(first) == 2
    it.reset()
    second = collect(it)
    np.testing.assert_array_equal(second[0][0][:, 0], [8, 9, 0, 1])
    with pytest.raises(ValueError):
        mx.io.NDArrayIter(x, y, batch_size=4, last_batch_handle="sometimes")


def test_names_dicts_and_lists():
    a = np.zeros((6, 2), np.float32)
    b = np.ones((6, 3), np.float32)
    it = mx.io.NDArrayIter({"b": b, "a": a}, batch_size=3)
    assert [d.name for d in it.provide_data] == ["a", "b"]  # sorted, as MXNet
    assert it.provide_data[1].shape == (3, 3)
    assert it.provide_label == []
    it2 = mx.io.NDArrayIter([a, b], [np.zeros(6)], batch_size=2, label_name="lbl")
    assert [d.name for d in it2.provide_data] == ["_0_data", "_1_data"]
    assert [d.name for d in it2.provide_label] == ["lbl"]
    batch = next(iter(it2))
    assert len(batch.data) == 2 and batch.data[1].shape == (2, 3)
    with pytest.raises(ValueError):
        mx.io.NDArrayIter([a, np.zeros((5, 1))], batch_size=2)


def test_shuffle_is_a_permutation_that_changes():
    x = np.arange(20, dtype=np.float32).reshape(20, 1)
    np.random.seed(3)
    it = mx.io.NDArrayIter(x, x[:, 0], batch_size=5, shuffle=True)
    first = np.concatenate([b[0][:, 0] for b in collect(it)])
    it.reset()
    second = np.concatenate([b[0][:, 0] for b in collect(it)])
    assert sorted(first.tolist()) == list(range(20))
    assert sorted(second.tolist()) == list(range(20))
    assert first.tolist() != list(range(20)) and first.tolist() != second.tolist()
    # labels follow their samples
    it.reset()
    for data, label, _ in collect(it):
        np.testing.assert_array_equal(data[:, 0], label)


def test_getters_and_protocol():
    it = mx.io.NDArrayIter(np.arange(4, dtype=np.float32), batch_size=3)
    assert it.iter_next()
    assert it.getpad() == 0 and it.getdata()[0].shape == (3,)
    np.testing.assert_array_equal(it.getindex(), [0, 1, 2])
    assert it.iter_next() and it.getpad() == 2
    assert not it.iter_next()
    with pytest.raises(StopIteration):
        it.next()


def test_python_data_iter_subclass():
    class Counter(mx.io.DataIter):
        def __init__(self):
            super().__init__(batch_size=2)
            self.i = 0

        def reset(self):
            self.i = 0

        def iter_next(self):
            self.i += 1
            return self.i <= 3

        def getdata(self):
            return [mx.nd.full((2, 1), self.i)]

        def getlabel(self):
            return []

        def getpad(self):
            return 0

    batches = list(Counter())
    assert [b.data[0].asnumpy()[0, 0] for b in batches] == [1, 2, 3]
