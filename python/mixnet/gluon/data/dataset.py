"""Dataset, SimpleDataset, ArrayDataset (MXNet 1.x's gluon.data.dataset)."""
import numpy as np

from ... import ndarray as nd

__all__ = ["Dataset", "SimpleDataset", "ArrayDataset"]


class Dataset:
    """Abstract dataset class. All datasets should have this interface.

    Subclasses need to override `__getitem__`, which returns the i-th element, and
    `__len__`, which returns the total number elements.
    """

    def __getitem__(self, idx):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def filter(self, fn):
        """Returns a new dataset with samples filtered by the filter function `fn`: the
        samples for which fn(sample) is true, in order."""
        from .sampler import FilterSampler
        return _SampledDataset(self, FilterSampler(fn, self))

    def shard(self, num_shards, index):
        """Returns a new dataset that contains only the `index`-th of `num_shards` contiguous
        parts; the first len % num_shards shards hold one sample more."""
        from .sampler import SequentialSampler
        if not 0 <= index < num_shards:
            raise ValueError(f"Shard index {index} out of bound: [0, {num_shards})")
        length = len(self)
        shard_len, rest = divmod(length, num_shards)
        start = shard_len * index + min(index, rest)
        end = start + shard_len + (index < rest)
        return _SampledDataset(self, SequentialSampler(end - start, start))

    def take(self, count):
        """Returns a new dataset with at most `count` samples from the start (all of them for
        None or a count above the length)."""
        from .sampler import SequentialSampler
        if count is None or count > len(self):
            count = len(self)
        return _SampledDataset(self, SequentialSampler(count))

    def sample(self, sampler):
        """Returns a new dataset with the elements `sampler` yields."""
        return _SampledDataset(self, sampler)

    def transform(self, fn, lazy=True):
        """Returns a new dataset with each sample transformed by `fn` (fn(*sample) for tuple
        samples). With lazy=False the transform is applied to every sample now."""
        trans = _LazyTransformDataset(self, fn)
        if lazy:
            return trans
        return SimpleDataset([i for i in trans])

    def transform_first(self, fn, lazy=True):
        """Returns a new dataset with the first element of each sample transformed by `fn`
        (a common case: the data of a (data, label) pair)."""
        return self.transform(_TransformFirstClosure(fn), lazy)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


class SimpleDataset(Dataset):
    """Simple Dataset wrapper for lists and arrays."""

    def __init__(self, data):
        self._data = data

    def __len__(self):
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


class ArrayDataset(Dataset):
    """A dataset that combines multiple dataset-like objects, e.g. Datasets, lists, arrays,
    etc. The i-th sample is (x1[i], x2[i], ...); with one argument, x1[i].

    1-D NDArrays are kept as NumPy arrays (as MXNet does), so their items are scalars.
    """

    def __init__(self, *args):
        if not args:
            raise ValueError("ArrayDataset: needs at least 1 array")
        self._length = len(args[0])
        self._data = []
        for i, data in enumerate(args):
            if len(data) != self._length:
                raise ValueError(
                    f"ArrayDataset: all arrays must have the same length; array[0] has length "
                    f"{self._length} while array[{i}] has {len(data)}.")
            if isinstance(data, nd.NDArray) and len(data.shape) == 1:
                data = data.asnumpy()
            self._data.append(data)

    def __getitem__(self, idx):
        if len(self._data) == 1:
            return self._data[0][idx]
        return tuple(data[idx] for data in self._data)

    def __len__(self):
        return self._length

    def _native_source(self):
        """(fields as host NDArrays, None, None) when every field is an NDArray or NumPy array
        (what DataLoader's native worker threads gather from without the GIL), else None. The
        form is (arrays, row index map or None, first field's gluon Block transform or None)."""
        if getattr(self, "_native_cache", None) is not None:
            return self._native_cache
        out = []
        for data in self._data:
            if isinstance(data, nd.NDArray):
                if data.context.device_type not in ("cpu", "cpu_pinned") or data.ndim < 1:
                    return None
                out.append(data)
            elif isinstance(data, np.ndarray) and data.ndim >= 1 and data.dtype != object:
                out.append(nd.array(data, dtype=data.dtype))
            else:
                return None
        self._native_cache = (out, None, None)
        return self._native_cache


class _LazyTransformDataset(Dataset):
    """Lazily transformed dataset."""

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

    def _native_source(self):
        """transform_first(block of C++ layers) over an NDArray-backed dataset: the workers call
        the block per sample (NOTE [ Transforms in the workers ] in python/src/gluon_data.cc)."""
        from ..block import Block
        fn = self._fn
        if not isinstance(fn, _TransformFirstClosure) or not _is_cpp_block(fn._fn, Block):
            return None
        get = getattr(self._data, "_native_source", None)
        base = get() if get is not None else None
        if base is None or base[2] is not None or len(self._data) == 0:
            return None
        first = self._data[0]
        if not isinstance(first[0] if isinstance(first, tuple) else first, nd.NDArray):
            return None  # the block sees what the samples hold (NumPy rows stay in Python)
        return base[0], base[1], fn._fn


def _is_cpp_block(block, base):
    """True for a gluon block whose whole tree is C++ classes: the workers then run it without
    the GIL. A Python-defined block in it would take the GIL once per sample and layer (slower
    than the Python loader, which takes it once per batch)."""
    if not isinstance(block, base) or not type(block).__module__.startswith("mixnet._core"):
        return False
    return all(_is_cpp_block(c, base) for c in block._children.values())


class _TransformFirstClosure:
    """Use callable object instead of nested function, it can be pickled."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, x, *args):
        if args:
            return (self._fn(x),) + args
        return self._fn(x)


class _SampledDataset(Dataset):
    """Dataset with elements chosen by a sampler."""

    def __init__(self, dataset, sampler):
        self._dataset = dataset
        self._sampler = sampler
        self._indices = list(iter(sampler))

    def __len__(self):
        return len(self._sampler)

    def __getitem__(self, idx):
        return self._dataset[self._indices[idx]]

    def _native_source(self):
        """The base dataset's arrays, with this dataset's indices mapped through."""
        get = getattr(self._dataset, "_native_source", None)
        base = get() if get is not None else None
        if base is None:
            return None
        arrays, index, transform = base
        index = [index[i] for i in self._indices] if index is not None else self._indices
        return arrays, index, transform
