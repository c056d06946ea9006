"""The NDArray class (C++, extended here with MXNet's Python-only methods) and array makers."""
import numpy as np

from .. import _core
from ..base import _Null, numeric_types
from ..context import current_context

NDArray = _core.NDArray
waitall = _core.waitall

__all__ = ["NDArray", "array", "empty", "zeros", "ones", "full", "arange", "waitall",
           "concatenate", "save", "load", "load_frombuffer", "from_numpy", "from_dlpack",
           "to_dlpack_for_read", "to_dlpack_for_write", "moveaxis"]


def _new_from_numpy(source, ctx=None, dtype=None):
    src = np.asarray(source, dtype=dtype, order="C")  # keeps 0-dim arrays 0-dim
    return _core.from_buffer(src, ctx, src.dtype)


def array(source_array, ctx=None, dtype=None):
    """Creates an array from any object exposing the array interface.

    Parameters
    ----------
    source_array : array_like
        An object exposing the array interface, an object whose `__array__`
        method returns an array, or any (nested) sequence.
    ctx : Context, optional
        Device context (default is the current default context).
    dtype : str or numpy.dtype, optional
        The data type of the output array. The default is ``source_array.dtype`` for an
        `NDArray` and `float32` otherwise, NumPy arrays included (what MXNet 1.9.1 does,
        although its docstring says the NumPy array's dtype).

    Returns
    -------
    NDArray
        An `NDArray` with the same contents as the `source_array` (a copy).
    """
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        return source_array.astype(dtype).copyto(ctx if ctx is not None else current_context())
    if dtype is None:
        dtype = np.float32
    return _new_from_numpy(source_array, ctx, dtype)


def empty(shape, ctx=None, dtype=None):
    """Returns a new array of given shape and type, without initializing entries."""
    return _core.empty(shape, ctx, dtype)


def zeros(shape, ctx=None, dtype=None, **kwargs):
    """Returns a new array filled with all zeros, with the given shape and type."""
    return _core.full(shape, 0.0, ctx, dtype)


def ones(shape, ctx=None, dtype=None, **kwargs):
    """Returns a new array filled with all ones, with the given shape and type."""
    return _core.full(shape, 1.0, ctx, dtype)


def full(shape, val, ctx=None, dtype=np.float32, out=None):
    """Returns a new array of given shape and type, filled with the given value `val`."""
    if out is not None:
        out[:] = val
        return out
    return _core.full(shape, float(val), ctx, dtype)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=np.float32):
    """Returns evenly spaced values within a given interval, each repeated `repeat` times."""
    from . import _internal
    if stop is None:
        start, stop = 0, start
    return _internal._arange(start=start, stop=stop, step=step, repeat=repeat,
                             ctx=ctx if ctx is not None else current_context(), dtype=dtype)


def concatenate(arrays, axis=0, always_copy=True):
    """Joins a sequence of arrays along an existing axis."""
    from . import concat
    if not always_copy and len(arrays) == 1:
        return arrays[0]
    return concat(*arrays, dim=axis)


def moveaxis(tensor, source, destination):
    """Moves the `source` axis into the `destination` position while leaving the other axes
    in their original order."""
    from . import transpose
    axes = list(range(tensor.ndim))
    source %= tensor.ndim
    destination %= tensor.ndim
    axes.pop(source)
    axes.insert(destination, source)
    return transpose(tensor, axes=tuple(axes))


# ---------------------------------------------------------------- files

def save(fname, data):
    """Saves a list of arrays or a dict of str->array to file (MXNet's `.params`/`.nd` format,
    readable by MXNet's `mx.nd.load`).

    Parameters
    ----------
    fname : str
        The filename.
    data : NDArray, list of NDArrays or dict of str to NDArray
        The data to save.
    """
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        names = list(data.keys())
        arrays = list(data.values())
        if not all(isinstance(k, str) for k in names):
            raise TypeError("save only accepts dict str->NDArray or list of NDArray")
    elif isinstance(data, (list, tuple)):
        names, arrays = [], list(data)
    else:
        raise ValueError("data needs to either be a NDArray, dict of str, NDArray pairs "
                         "or a list of NDarrays.")
    if not all(isinstance(a, NDArray) for a in arrays):
        raise TypeError("save only accepts dict str->NDArray or list of NDArray")
    _core._save(str(fname), arrays, names)


def _list_or_dict(arrays, names):
    return dict(zip(names, arrays)) if names else arrays


def load(fname, ctx=None):
    """Loads an array list or dictionary from file (written by `save`, or by MXNet).

    Returns
    -------
    list of NDArray or dict of str to NDArray
        A dict when the file holds names, else a list.
    """
    return _list_or_dict(*_core._load(str(fname), ctx))


def load_frombuffer(buf):
    """Loads an array dictionary or list from a buffer (the bytes of a saved file)."""
    if not isinstance(buf, (bytes, bytearray)):
        raise TypeError("buf must be of type bytes or bytearray")
    return _list_or_dict(*_core._load_from_bytes(bytes(buf), None))


# ---------------------------------------------------------------- DLPack and NumPy

def to_dlpack_for_read(data):
    """Returns a reference view of the array as a DLPack capsule, after its pending writes."""
    return _core._to_dlpack(data, False)


def to_dlpack_for_write(data):
    """Returns a reference view of the array as a DLPack capsule, after its pending reads
    and writes (the consumer may write through it)."""
    return _core._to_dlpack(data, True)


def from_dlpack(dlpack, ctx=None):
    """Returns an NDArray sharing the memory of a DLPack capsule or of an object with
    ``__dlpack__`` (a NumPy array, a torch tensor) without copying (a strided tensor is
    copied). The NDArray keeps the producer's memory alive; writes through either side are
    seen by the other once the engine has run them (wait_to_read first)."""
    return _core._from_dlpack(dlpack, ctx)


def from_numpy(ndarray, zero_copy=True):
    """Returns an NDArray backed by a NumPy array.

    With `zero_copy` (the default) the NDArray shares the NumPy array's memory, which must be
    C-contiguous; as in MXNet the NumPy array is marked read-only, since writes should go
    through the NDArray. Without it, or for a NumPy array that was already read-only, the
    content is copied."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError("from_numpy expects a numpy.ndarray, got %s" % type(ndarray))
    if not zero_copy or not ndarray.flags.writeable:
        return _core._from_dlpack(np.asarray(ndarray, order="C"), None, False)
    if not ndarray.flags["C_CONTIGUOUS"]:
        raise ValueError("Only c-contiguous arrays are supported for zero-copy")
    ndarray.flags["WRITEABLE"] = False
    return _core._from_dlpack(ndarray, None)


# ---------------------------------------------------------------- NDArray methods

def _repr(self):
    """Returns a string representation of the array (MXNet's)."""
    shape_info = "x".join("%d" % x for x in self.shape)
    return "\n%s\n<%s %s @%s>" % (str(self.asnumpy()), self.__class__.__name__, shape_info,
                                  self.context)


def _asscalar(self):
    """Returns a scalar whose value is copied from this array (shape (1,))."""
    if self.size != 1:
        raise ValueError("The current array is not a scalar")
    if self.ndim == 1:
        return self.asnumpy()[0]
    return self.asnumpy()[()]


def _astype(self, dtype, copy=True):
    """Returns a copy of the array after casting to a specified type (or self when `copy`
    is False and the dtype is already `dtype`)."""
    from . import cast
    if not copy and np.dtype(dtype) == np.dtype(self.dtype):
        return self
    return cast(self, dtype=np.dtype(dtype).name)


def _reshape(self, *shape, **kwargs):
    """Returns a **view** of this array with a new shape without altering any data; the shape
    may use MXNet's special values 0, -1, -2, -3, -4 (`reverse=True` infers them from the
    right)."""
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    elif not shape:
        shape = kwargs.get("shape")
        assert shape, "Shape must be provided."
    unknown = [k for k in kwargs if k not in ("shape", "reverse")]
    if unknown:
        raise TypeError("Got unknown keywords in reshape: {}. Accepted keyword arguments are "
                        "'shape' and 'reverse'.".format(", ".join(unknown)))
    return self._reshape_view(tuple(shape), bool(kwargs.get("reverse", False)))


def _bool(self):
    n = self.size
    if n == 0:
        return False
    if n == 1:
        return bool(self.asscalar())
    raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")


def _iter(self):
    for i in range(len(self)):
        yield self[i]


def _T(self):
    """A copy with the axes transposed (self when ndim < 2)."""
    from . import transpose
    if self.ndim < 2:
        return self
    return transpose(self)


def _flatten(self, inplace=False):
    """Flattens to 2-D (a view with `inplace`)."""
    from . import flatten
    if not inplace:
        return flatten(self)
    return self.reshape((0, -1)) if self.ndim else self.reshape((1, 1))


def _expand_dims(self, axis, inplace=False):
    """Adds an axis of size 1 at `axis` (a view with `inplace`)."""
    from . import expand_dims
    if not inplace:
        return expand_dims(self, axis=axis)
    shape = list(self.shape)
    if axis < 0:
        axis += len(shape) + 1
    shape.insert(axis, 1)
    return self.reshape(shape)


def _squeeze(self, axis=None, inplace=False):
    """Removes axes of size 1 (a view with `inplace`)."""
    from . import squeeze
    if not inplace:
        return squeeze(self, axis=axis)
    axes = [axis] if isinstance(axis, int) else axis
    ndim = self.ndim
    if axes:
        resolved = sorted(a % ndim for a in axes)
        for a in resolved:
            if self.shape[a] != 1:
                raise ValueError("Squeeze target axis {} must be size 1, got {}."
                                 .format(a, self.shape[a]))
        shape = [d for i, d in enumerate(self.shape) if i not in resolved]
    else:
        shape = [d for d in self.shape if d != 1]
    return self.reshape(shape or [1])


def _broadcast_to(self, shape):
    """Broadcasts to `shape` (axes of size 1 only; the number of axes may grow on the left)."""
    from . import broadcast_to
    shape = tuple(shape)
    cur = self.shape
    if len(shape) > len(cur):
        return broadcast_to(self.reshape((1,) * (len(shape) - len(cur)) + cur), shape=shape)
    return broadcast_to(self, shape=shape)


def _broadcast_like(self, other):
    return self.broadcast_to(other.shape)


def _dlpack(self, stream=None):
    return _core._to_dlpack(self, False)


def _reduce(self):
    return (_rebuild, (_core._save_to_bytes([self], []),))


def _rebuild(data):
    return _core._load_from_bytes(data, None)[0][0]


_METHODS = {
    "__repr__": _repr, "__bool__": _bool, "__iter__": _iter, "__reduce__": _reduce,
    "__float__": lambda self: float(self.asscalar()),
    "__int__": lambda self: int(self.asscalar()),
    "__dlpack__": _dlpack,
    "__dlpack_device__": lambda self: (1, 0),  # kDLCPU
    "asscalar": _asscalar, "astype": _astype, "reshape": _reshape, "flatten": _flatten,
    "expand_dims": _expand_dims, "squeeze": _squeeze, "broadcast_to": _broadcast_to,
    "broadcast_like": _broadcast_like,
    "tolist": lambda self: self.asnumpy().tolist(),
    "to_dlpack_for_read": lambda self: to_dlpack_for_read(self),
    "to_dlpack_for_write": lambda self: to_dlpack_for_write(self),
    "as_nd_ndarray": lambda self: self,
    "tostype": lambda self, stype: self if stype == "default" else _no_sparse(stype),
    "T": property(_T),
}


def _no_sparse(stype):
    raise NotImplementedError("mixnet has no sparse storage: tostype(%r)" % stype)


for _name, _fn in _METHODS.items():
    setattr(NDArray, _name, _fn)

# MXNet's fluent methods: x.sum(axis=1) is mx.nd.sum(x, axis=1). Attached by __init__ once the
# op functions exist; names without an op in this build are skipped.
FLUENT = (
    "reshape_like", "zeros_like", "ones_like", "broadcast_axes", "repeat", "pad", "swapaxes",
    "split", "split_v2", "slice", "slice_axis", "slice_like", "take", "one_hot", "pick", "sort",
    "topk", "argsort", "argmax", "argmax_channel", "argmin", "clip", "abs", "sign",
    "shape_array", "size_array", "tile", "transpose", "flip", "depth_to_space",
    "space_to_depth", "diag", "sum", "nansum", "prod", "nanprod", "mean", "max", "min", "norm",
    "round", "rint", "fix", "floor", "ceil", "trunc", "sin", "cos", "tan", "arcsin", "arccos",
    "arctan", "degrees", "radians", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "exp", "expm1", "log", "log10", "log2", "log1p", "sqrt", "rsqrt", "cbrt", "rcbrt",
    "square", "reciprocal", "relu", "sigmoid", "softmax", "log_softmax", "softmin",
)


def attach_fluent(module):
    """Defines NDArray.<name> for each name of FLUENT that `module` (mx.nd) has."""
    def make(fn):
        def method(self, *args, **kwargs):
            return fn(self, *args, **kwargs)
        method.__name__ = fn.__name__
        method.__doc__ = "Convenience fluent method for :py:func:`%s`." % fn.__name__
        return method

    for name in FLUENT:
        fn = getattr(module, name, None)
        if fn is not None:
            setattr(NDArray, name, make(fn))


# ---------------------------------------------------------------- MXNet's element-wise helpers

def _ufunc_helper(lhs, rhs, fn_array, fn_scalar, lfn_scalar, rfn_scalar=None):
    """Dispatches `lhs OP rhs` to the broadcasting op, the scalar op (array OP scalar) or the
    reversed scalar op (scalar OP array; `lfn_scalar` when OP commutes)."""
    from . import _internal, op
    if isinstance(lhs, numeric_types):
        if isinstance(rhs, numeric_types):
            return fn_scalar(lhs, rhs)
        fn = getattr(_internal, rfn_scalar or lfn_scalar)
        return fn(rhs, scalar=float(lhs))
    if isinstance(rhs, numeric_types):
        return getattr(_internal, lfn_scalar)(lhs, scalar=float(rhs))
    if isinstance(rhs, NDArray):
        return getattr(op, fn_array)(lhs, rhs)
    raise TypeError("type %s not supported" % str(type(rhs)))


def _make_ufunc(name, array_op, scalar_fn, scalar_op, rscalar_op=None, doc=""):
    def ufunc(lhs, rhs):
        return _ufunc_helper(lhs, rhs, array_op, scalar_fn, scalar_op, rscalar_op)
    ufunc.__name__ = ufunc.__qualname__ = name
    ufunc.__doc__ = (f"Returns element-wise {doc} of the input arrays with broadcasting "
                     f"(an NDArray or a number on either side).")
    return ufunc


def _py_max(a, b):
    return a if a > b else b


def _py_min(a, b):
    return a if a < b else b


_UFUNCS = [
    ("add", "broadcast_add", lambda a, b: a + b, "_plus_scalar", None, "sum"),
    ("subtract", "broadcast_sub", lambda a, b: a - b, "_minus_scalar", "_rminus_scalar",
     "difference"),
    ("multiply", "broadcast_mul", lambda a, b: a * b, "_mul_scalar", None, "product"),
    ("divide", "broadcast_div", lambda a, b: a / b, "_div_scalar", "_rdiv_scalar", "division"),
    ("true_divide", "broadcast_div", lambda a, b: a / b, "_div_scalar", "_rdiv_scalar",
     "division"),
    ("modulo", "broadcast_mod", lambda a, b: a % b, "_mod_scalar", "_rmod_scalar", "modulo"),
    ("power", "broadcast_power", lambda a, b: a ** b, "_power_scalar", "_rpower_scalar",
     "power"),
    ("maximum", "broadcast_maximum", _py_max, "_maximum_scalar", None, "maximum"),
    ("minimum", "broadcast_minimum", _py_min, "_minimum_scalar", None, "minimum"),
    ("equal", "broadcast_equal", lambda a, b: 1 if a == b else 0, "_equal_scalar", None,
     "equal to (1 or 0)"),
    ("not_equal", "broadcast_not_equal", lambda a, b: 1 if a != b else 0, "_not_equal_scalar",
     None, "not equal to (1 or 0)"),
    ("greater", "broadcast_greater", lambda a, b: 1 if a > b else 0, "_greater_scalar",
     "_lesser_scalar", "greater than (1 or 0)"),
    ("greater_equal", "broadcast_greater_equal", lambda a, b: 1 if a >= b else 0,
     "_greater_equal_scalar", "_lesser_equal_scalar", "greater or equal (1 or 0)"),
    ("lesser", "broadcast_lesser", lambda a, b: 1 if a < b else 0, "_lesser_scalar",
     "_greater_scalar", "lesser than (1 or 0)"),
    ("lesser_equal", "broadcast_lesser_equal", lambda a, b: 1 if a <= b else 0,
     "_lesser_equal_scalar", "_greater_equal_scalar", "lesser or equal (1 or 0)"),
    ("logical_and", "broadcast_logical_and", lambda a, b: 1 if a and b else 0,
     "_logical_and_scalar", None, "logical and (1 or 0)"),
    ("logical_or", "broadcast_logical_or", lambda a, b: 1 if a or b else 0,
     "_logical_or_scalar", None, "logical or (1 or 0)"),
    ("logical_xor", "broadcast_logical_xor", lambda a, b: 1 if bool(a) != bool(b) else 0,
     "_logical_xor_scalar", None, "logical xor (1 or 0)"),
]
UFUNCS = {u[0]: _make_ufunc(*u) for u in _UFUNCS}
__all__ += list(UFUNCS) + ["eye", "onehot_encode"]
globals().update(UFUNCS)


def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):
    """Returns a 2-D array with ones on the k-th diagonal and zeros elsewhere."""
    from . import _internal
    return _internal._eye(N=N, M=M, k=k, ctx=ctx if ctx is not None else current_context(),
                          dtype=np.dtype(dtype or np.float32).name, **kwargs)


def onehot_encode(indices, out):
    """One-hot encoding of `indices` into `out` (shape (len(indices), depth))."""
    from . import one_hot
    return one_hot(indices, depth=out.shape[1], dtype=np.dtype(out.dtype).name, out=out)
