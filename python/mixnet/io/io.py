"""DataDesc, DataBatch, the DataIter protocol, and NDArrayIter on the C++ iterator."""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _core
from ..ndarray import NDArray, array

__all__ = ["DataDesc", "DataBatch", "DataIter", "NDArrayIter"]


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """DataDesc is used to store name, shape, type and layout information of the data or the
    label. The `layout` describes how the axes in `shape` should be interpreted ('NCHW': the
    first axis is the batch)::

        >>> d = mx.io.DataDesc(name='data', shape=(32, 3, 28, 28))
        >>> name, shape = d
    """

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        ret = super().__new__(cls, name, tuple(shape))
        ret.dtype = dtype
        ret.layout = layout
        return ret

    def __repr__(self):
        return f"DataDesc[{self.name},{self.shape},{np.dtype(self.dtype).name},{self.layout}]"

    @staticmethod
    def get_batch_axis(layout):
        """Get the dimension that corresponds to the batch size ('N' in layout; 0 if None)."""
        return 0 if layout is None else layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """Get DataDesc list from attribute lists: shapes [(name, shape)], types [(name, dtype)]
        or None."""
        if types is not None:
            type_dict = dict(types)
            return [DataDesc(x[0], x[1], type_dict[x[0]]) for x in shapes]
        return [DataDesc(x[0], x[1]) for x in shapes]


class DataBatch:
    """A data batch: a list of data arrays, a list of label arrays, and the number of padding
    rows at the end (`pad`) when the batch is not full."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None,
                 provide_data=None, provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError("Data must be list of NDArrays")
        if label is not None and not isinstance(label, (list, tuple)):
            raise TypeError("Label must be list of NDArrays")
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [l.shape for l in self.label] if self.label else None
        return f"{self.__class__.__name__}: data shapes: {data_shapes} label shapes: {label_shapes}"


class DataIter:
    """The base class for an MXNet data iterator: subclasses give reset() and next() (or
    iter_next() with getdata/getlabel/getpad/getindex), provide_data and provide_label."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        """Reset the iterator to the begin of the data."""

    def next(self):
        """Get next data batch from iterator; raises StopIteration at the end."""
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(),
                             index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        """Move to the next batch; returns whether it succeeded."""
        raise NotImplementedError

    def getdata(self):
        """Get data of current batch (a list of NDArray)."""
        raise NotImplementedError

    def getlabel(self):
        """Get label of the current batch (a list of NDArray)."""
        raise NotImplementedError

    def getindex(self):
        """Get index of the current batch."""
        return None

    def getpad(self):
        """Get the number of padding examples in the current batch."""
        raise NotImplementedError


def _init_data(data, allow_empty, default_name):
    """MXNet's rules: one array is named `default_name`, a list `_i_default_name`, a dict keeps
    its names; the result is sorted by name."""
    assert data is not None or allow_empty
    if data is None:
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, list):
        if not allow_empty:
            assert len(data) > 0
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict([(f"_{i}_{default_name}", d) for i, d in enumerate(data)])
    if not isinstance(data, dict):
        raise TypeError("Input must be NDArray, numpy.ndarray, a list of them or dict with them "
                        "as values")
    out = []
    for k, v in data.items():
        if not isinstance(v, NDArray):
            try:
                v = array(v, dtype=v.dtype if isinstance(v, np.ndarray) else None)
            except Exception as e:  # noqa: BLE001
                raise TypeError(f"Invalid type '{type(v)}' for {k}, should be NDArray or "
                                "numpy.ndarray") from e
        out.append((k, v))
    return sorted(out, key=lambda kv: kv[0])


class _CppIter(DataIter):
    """The DataIter protocol over a C++ iterator in `self._cpp_iter` (mixnet._core.io)."""

    _current = None

    @property
    def provide_data(self):
        """The name and shape of data provided by this iterator (a list of DataDesc)."""
        return self._cpp_iter.provide_data

    @property
    def provide_label(self):
        """The name and shape of label provided by this iterator (a list of DataDesc)."""
        return self._cpp_iter.provide_label

    def reset(self):
        self._cpp_iter.reset()
        self._current = None

    def iter_next(self):
        if not self._cpp_iter.next():
            self._current = None
            return False
        self._current = self._cpp_iter.value()
        return True

    def next(self):
        if not self.iter_next():
            raise StopIteration
        data, label, pad, index = self._current
        return DataBatch(data=data, label=label, pad=pad, index=np.array(index, dtype=np.int64),
                         provide_data=self.provide_data, provide_label=self.provide_label)

    def getdata(self):
        return self._current[0]

    def getlabel(self):
        return self._current[1]

    def getpad(self):
        return self._current[2]

    def getindex(self):
        return np.array(self._current[3], dtype=np.int64)


class NDArrayIter(_CppIter):
    """Returns an iterator for ``mx.nd.NDArray``, ``numpy.ndarray``, or lists/dicts of them.

    data : array or list of array or dict of string to array
    label : array or list of array or dict of string to array, optional
    batch_size : int
    shuffle : bool (a new order at every reset, drawn from NumPy's global generator's seed)
    last_batch_handle : str, optional ('pad', 'discard' or 'roll_over')
    data_name, label_name : str (names of a single data / label array)

    Batches are cut along the first axis in C++ (`layout` other than batch-first is not
    supported)."""

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label", layout="NTC"):
        super().__init__(batch_size)
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.layout = layout
        seed = int(np.random.randint(0, 2 ** 31 - 1)) if shuffle else 0
        self._cpp_iter = _core.io.NDArrayIter(self.data, self.label, int(batch_size),
                                              bool(shuffle), last_batch_handle, seed)
        self.num_data = self._cpp_iter.num_data
        self._current = None
