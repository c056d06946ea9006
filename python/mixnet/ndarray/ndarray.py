"""The NDArray class (C++, extended here with MXNet's Python-only methods) and array makers."""
import numpy as np

from .. import _core
from ..context import current_context

NDArray = _core.NDArray
waitall = _core.waitall


def _new_from_numpy(source, ctx=None, dtype=None):
    src = np.ascontiguousarray(source, dtype=dtype)
    return _core.from_buffer(src, ctx, src.dtype)


def array(source_array, ctx=None, dtype=None):
    """A new NDArray holding a copy of `source_array` (an NDArray, NumPy array or list).
    The dtype defaults to the source's for arrays and to float32 otherwise, as in MXNet."""
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        return source_array.astype(dtype).copyto(ctx if ctx is not None else current_context())
    if dtype is None:
        dtype = source_array.dtype if isinstance(source_array, np.ndarray) else np.float32
    return _new_from_numpy(source_array, ctx, dtype)


def empty(shape, ctx=None, dtype=None):
    return _core.empty(shape, ctx, dtype)


def zeros(shape, ctx=None, dtype=None, **kwargs):
    return _core.full(shape, 0.0, ctx, dtype)


def ones(shape, ctx=None, dtype=None, **kwargs):
    return _core.full(shape, 1.0, ctx, dtype)


def full(shape, val, ctx=None, dtype=np.float32, out=None):
    res = _core.full(shape, float(val), ctx, dtype)
    if out is not None:
        out[:] = res
        return out
    return res


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=np.float32):
    from . import _internal
    if stop is None:
        start, stop = 0, start
    return _internal._arange(start=start, stop=stop, step=step, repeat=repeat,
                             ctx=ctx if ctx is not None else current_context(), dtype=dtype)


def concatenate(arrays, axis=0, always_copy=True):
    from . import concat
    return concat(*arrays, dim=axis)


def _repr(self):
    return f"\n{self.asnumpy()}\n<NDArray {'x'.join(str(d) for d in self.shape)} @{self.context}>"


def _asscalar(self):
    if self.size != 1:
        raise ValueError("The current array is not a scalar")
    return self.asnumpy().reshape(())[()]


def _astype(self, dtype, copy=True):
    from . import cast
    if not copy and np.dtype(dtype) == np.dtype(self.dtype):
        return self
    return cast(self, dtype=np.dtype(dtype).name)


def _copyto(self, other):
    from . import _internal
    if isinstance(other, NDArray):
        return _internal._copyto(self, out=other)
    return _internal._copyto(self, out=empty(self.shape, other, self.dtype))


NDArray.__repr__ = _repr
NDArray.asscalar = _asscalar
NDArray.astype = _astype
NDArray.copyto = _copyto
NDArray.copy = lambda self: self.copyto(self.context)
NDArray.as_in_context = lambda self, ctx: self if self.context == ctx else self.copyto(ctx)
