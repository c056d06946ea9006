"""MXNet's C++ data iterators (MNISTIter, CSVIter, LibSVMIter) and its iterator wrappers
(ResizeIter, PrefetchingIter), on mixnet's C++ iterators."""
from .. import _core
from .io import _CppIter

__all__ = ["MNISTIter", "CSVIter", "LibSVMIter", "ResizeIter", "PrefetchingIter"]


def _shape(s):
    return None if s is None else tuple(int(d) for d in s)


class MNISTIter(_CppIter):
    """Iterating on the MNIST dataset (idx files, gzipped or not).

    image : str, default './train-images-idx3-ubyte' (Dataset Param: Mnist image path)
    label : str, default './train-labels-idx1-ubyte' (Dataset Param: Mnist label path)
    batch_size : int, default 128
    shuffle : bool, default True (shuffled once, with `seed`: MXNet's order)
    flat : bool, default False (whether to flat the data into 1D)
    seed : int, default 0
    silent : bool, default False (whether to print out data info)
    num_parts, part_index : int (partition the data into multiple parts; the part to read)
    input_shape : tuple, optional (the shape of one sample, mixnet's addition)
    prefetch_buffer, ctx, dtype : accepted for MXNet's signature; batches are float32 on cpu

    Pixels are scaled by 1/256 as in MXNet; an incomplete last batch is dropped. `index` holds
    each sample's number within the part (MXNet's is 0).
    """

    def __init__(self, image="./train-images-idx3-ubyte", label="./train-labels-idx1-ubyte",
                 batch_size=128, shuffle=True, flat=False, seed=0, silent=False, num_parts=1,
                 part_index=0, input_shape=None, prefetch_buffer=4, ctx="gpu", dtype=None):
        super().__init__(int(batch_size))
        self._cpp_iter = _core.io.MNISTIter(str(image), str(label), int(batch_size),
                                            bool(shuffle), bool(flat), int(seed), bool(silent),
                                            int(num_parts), int(part_index), _shape(input_shape))
        self.num_samples = self._cpp_iter.num_samples


class CSVIter(_CppIter):
    """Returns the CSV file iterator.

    data_csv : str (the input CSV file), data_shape : tuple (the shape of one example)
    label_csv : str, optional (default: labels are 0), label_shape : tuple, default (1,)
    batch_size : int
    round_batch : bool, default True (use round robin to handle overflow batch)
    dtype : None, 'float32', 'float64', 'int32' or 'int64' (of data and label)

    Blank lines are skipped; a malformed line raises ValueError naming the file and line.
    """

    def __init__(self, data_csv, data_shape, label_csv=None, label_shape=(1,), batch_size=1,
                 round_batch=True, dtype=None, prefetch_buffer=4, ctx="gpu"):
        super().__init__(int(batch_size))
        if label_csv in (None, "NULL"):
            label_csv = ""
        self._cpp_iter = _core.io.CSVIter(str(data_csv), _shape(data_shape), str(label_csv),
                                          _shape(label_shape), int(batch_size),
                                          bool(round_batch), dtype)
        self.num_samples = self._cpp_iter.num_samples


class LibSVMIter(_CppIter):
    """Returns the LibSVM iterator: lines ``label index:value ...`` (indices start at 0).

    data_libsvm : str, data_shape : tuple (num_features,)
    label_libsvm : str, optional (default: the first value of each data line)
    label_shape : tuple, default (1,)
    batch_size : int, round_batch : bool, default True
    num_parts, part_index : int (partition the data into multiple parts; the part to read)

    Batches are dense float32 arrays (MXNet gives CSRNDArray data).
    """

    def __init__(self, data_libsvm, data_shape, label_libsvm=None, label_shape=(1,),
                 batch_size=1, round_batch=True, num_parts=1, part_index=0, prefetch_buffer=4,
                 ctx="gpu"):
        super().__init__(int(batch_size))
        if label_libsvm in (None, "NULL"):
            label_libsvm = ""
        self._cpp_iter = _core.io.LibSVMIter(str(data_libsvm), _shape(data_shape),
                                             str(label_libsvm), _shape(label_shape),
                                             int(batch_size), bool(round_batch), int(num_parts),
                                             int(part_index))
        self.num_samples = self._cpp_iter.num_samples


class ResizeIter(_CppIter):
    """Resize a data iterator to a given number of batches.

    data_iter : DataIter (the data iterator to be resized)
    size : int (the number of batches per epoch to resize to)
    reset_internal : bool (whether to reset the internal iterator on ResizeIter.reset)
    """

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__(data_iter.batch_size)
        self.data_iter = data_iter  # keeps a C++ iterator alive for the wrapper
        self.size = size
        self.reset_internal = reset_internal
        self._cpp_iter = _core.io.ResizeIter(data_iter, int(size), bool(reset_internal))
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key


class PrefetchingIter(_CppIter):
    """Performs pre-fetch for other data iterators: a C++ thread reads the next batch of every
    iterator (Python ones take the interpreter lock while it calls them).

    iters : DataIter or list of DataIter (the data iterators to be pre-fetched)
    rename_data : None or list of dict (one per iterator: new name of each data entry)
    rename_label : None or list of dict (the same for the labels)

    A batch joins the iterators' data and labels; pad and index come from the first.
    """

    def __init__(self, iters, rename_data=None, rename_label=None):
        if not isinstance(iters, list):
            iters = [iters]
        assert len(iters) > 0
        self.n_iter = len(iters)
        self.iters = iters  # keeps C++ iterators alive for the thread
        self.rename_data = rename_data
        self.rename_label = rename_label
        self._cpp_iter = _core.io.PrefetchingIter(iters, rename_data or [], rename_label or [])
        super().__init__(self._cpp_iter.batch_size)

    def close(self):
        """Ends the prefetching thread (the iterator is then unusable)."""
        cpp = self.__dict__.pop("_cpp_iter", None)
        if cpp is not None:
            cpp.stop()  # with the GIL released: the thread may be waiting for it

    def __del__(self):
        self.close()
