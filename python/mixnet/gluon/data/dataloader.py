"""DataLoader (MXNet 1.x's gluon.data.DataLoader) on native worker threads.

With num_workers > 0, batches are made ahead of the training loop (up to `prefetch`) by C++
threads (mixnet._core.data): datasets whose samples are rows of host arrays (ArrayDataset of
NDArrays/NumPy arrays, MNIST, FashionMNIST, CIFAR, and their take/shard/filter views, also
under transform_first(a gluon Block)) with the default batchify are gathered, transformed and
stacked without the GIL (a Python-defined block takes it in its own forward); any other
dataset or batchify_fn runs in the worker threads holding the GIL per batch. num_workers=0
loads in the calling thread (array-backed datasets still gathered in C++).
"""
import atexit
import weakref

import numpy as np

from ... import _core
from ... import ndarray as nd
from .sampler import SequentialSampler, RandomSampler, BatchSampler

__all__ = ["DataLoader", "default_batchify_fn"]


def default_batchify_fn(data):
    """Collate data into batch: NDArrays are stacked, tuples batched per field (a list of
    batches), anything else (NumPy arrays, numbers) through NumPy, keeping its dtype."""
    if isinstance(data[0], nd.NDArray):
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        return [default_batchify_fn(list(i)) for i in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype)


# Iterators whose threads are still running: closed at exit, before the interpreter goes
# (a worker waiting for the GIL of a finalizing interpreter would hang the exit).
_LIVE = weakref.WeakSet()


@atexit.register
def _close_live_iterators():
    for it in list(_LIVE):
        it.close()


class _ThreadedIter:
    """One epoch of batches from worker threads; closes them when exhausted, on close(), or
    when garbage-collected (an early break)."""

    def __init__(self, loader, n, timeout, pin_memory):
        self._loader = loader
        self._left = n
        self._timeout = timeout
        self._pin_memory = pin_memory
        _LIVE.add(self)

    def __iter__(self):
        return self

    def __next__(self):
        if self._loader is None:
            raise StopIteration
        try:
            batch = self._loader.next(self._timeout)
        except StopIteration:
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        self._left -= 1
        if self._pin_memory:
            batch = _pin(batch)
        return batch

    next = __next__

    def __len__(self):
        return self._left

    def close(self):
        """Stops the worker threads (after their current batch)."""
        loader, self._loader = self._loader, None
        if loader is not None:
            loader.close()

    def __del__(self):
        self.close()


def _pin(batch):
    if isinstance(batch, nd.NDArray):
        return batch.as_in_context(_pinned())
    if isinstance(batch, (list, tuple)):
        return type(batch)(_pin(b) for b in batch)
    return batch


def _pinned():
    from ...context import Context
    return Context("cpu_pinned", 0)


class DataLoader:
    """Loads data from a dataset and returns mini-batches of data.

    Parameters
    ----------
    dataset : Dataset
        Source dataset. Note that numpy and mxnet arrays can be directly used as a Dataset.
    batch_size : int
        Size of mini-batch.
    shuffle : bool
        Whether to shuffle the samples (NumPy's global generator).
    sampler : Sampler
        The sampler to use. Either specify sampler or shuffle, not both.
    last_batch : {'keep', 'discard', 'rollover'}
        How to handle the last batch if batch_size does not evenly divide len(dataset).
    batch_sampler : Sampler
        A sampler that returns mini-batches. Do not specify batch_size, shuffle, sampler, and
        last_batch if batch_sampler is specified.
    batchify_fn : callable
        Callback function to allow users to specify how to merge samples into a batch.
    num_workers : int, default 0
        The number of worker threads; 0 loads in the calling thread.
    pin_memory : boolean, default False
        If True, batches are copied to cpu_pinned memory.
    pin_device_id : int, default 0
        Accepted for compatibility (one pinned context here).
    prefetch : int, default is `num_workers * 2`
        The number of batches made ahead of the loop.
    thread_pool : bool, default False
        Accepted for compatibility: the workers are always threads here.
    timeout : int, default is 120
        Seconds to wait for a batch before raising TimeoutError.
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False,
                 pin_device_id=0, prefetch=None, thread_pool=False, timeout=120):
        self._dataset = dataset
        self._pin_memory = pin_memory
        self._thread_pool = thread_pool
        self._timeout = timeout
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                sampler = RandomSampler(len(dataset)) if shuffle else SequentialSampler(len(dataset))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = BatchSampler(sampler, batch_size, last_batch if last_batch else "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified "
                             "if batch_sampler is specified.")
        self._batch_sampler = batch_sampler
        self._num_workers = max(0, int(num_workers))
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * self._num_workers)
        self._batchify_fn = batchify_fn or default_batchify_fn
        self._native = batchify_fn is None

    def __iter__(self):
        if self._num_workers == 0:
            return self._same_thread_iter()
        batches = [list(b) for b in self._batch_sampler]
        prefetch = max(self._prefetch, 1)
        source = self._native_source() if self._native else None
        if source is not None:
            arrays, index, transform = source
            if index is not None:
                batches = [[index[i] for i in b] for b in batches]
            single = len(arrays) == 1
            loader = _core.data._NativeBatchLoader(arrays, batches, self._num_workers, prefetch,
                                                   transform)
            return _ThreadedIter(_Unwrap(loader) if single else loader, len(batches),
                                 self._timeout, self._pin_memory)
        dataset, batchify = self._dataset, self._batchify_fn

        def fetch(i):
            return batchify([dataset[idx] for idx in batches[i]])

        loader = _core.data._PyBatchLoader(fetch, len(batches), self._num_workers, prefetch)
        return _ThreadedIter(loader, len(batches), self._timeout, self._pin_memory)

    def _same_thread_iter(self):
        source = self._native_source() if self._native else None
        for batch in self._batch_sampler:
            if source is not None:
                out = _gather(source, batch)
            else:
                out = self._batchify_fn([self._dataset[idx] for idx in batch])
            yield _pin(out) if self._pin_memory else out

    def _native_source(self):
        get = getattr(self._dataset, "_native_source", None)
        return get() if get is not None else None

    def __len__(self):
        return len(self._batch_sampler)


def _gather(source, batch):
    """The default batch of rows `batch` of a native source, gathered (and the first field
    transformed, by a tree of C++ blocks) in C++ without the GIL."""
    arrays, index, transform = source
    if index is not None:
        batch = [index[i] for i in batch]
    out = _core.data.native_batch(arrays, batch, transform)
    return out[0] if len(out) == 1 else out


class _Unwrap:
    """A one-field dataset's batch is the array itself, not a list of one."""

    def __init__(self, loader):
        self._loader = loader

    def next(self, timeout):
        return self._loader.next(timeout)[0]

    def close(self):
        self._loader.close()
