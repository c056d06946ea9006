"""Dataset, SimpleDataset, ArrayDataset (placeholder: see mixnet.gluon.data)."""
__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]


class Dataset:
    """Abstract dataset class: __getitem__ and __len__."""

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def transform(self, fn, lazy=True):
        """A new dataset with each sample transformed by fn (fn(*sample) for tuples)."""
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([trans[i] for i in range(len(trans))])

    def transform_first(self, fn, lazy=True):
        """A new dataset with the first element of each sample transformed by fn."""
        return self.transform(_TransformFirstClosure(fn), lazy)

    def filter(self, fn):
        """A new dataset with the samples for which fn(sample) is true."""
        return SimpleDataset([s for s in (self[i] for i in range(len(self))) if fn(s)])

    def take(self, count):
        """A new dataset with at most the first count samples."""
        if count is None or count > len(self):
            count = len(self)
        return SimpleDataset([self[i] for i in range(count)])


class SimpleDataset(Dataset):
    """Simple Dataset wrapper for lists and arrays."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class ArrayDataset(Dataset):
    """A dataset that combines multiple dataset-like objects (arrays, lists, NDArrays) of the
    same length; a sample is the tuple of their items (or the item for one argument)."""

    def __init__(self, *args):
        assert len(args) > 0, "Needs at least 1 arrays"
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            assert len(data) == self._length, \
                f"All arrays must have the same length; array[0] has length {self._length} " \
                f"while array[{i}] has {len(data)}."
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def __len__(self):
        return self._length


class _LazyTransformDataset(Dataset):
    def __init__(self, data, fn):
        self._data = data
        self._fn = fn

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        item = self._data[idx]
        if isinstance(item, tuple):
            return self._fn(*item)
        return self._fn(item)


class _TransformFirstClosure:
    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)
