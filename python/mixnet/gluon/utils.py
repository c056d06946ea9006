"""gluon.utils: split_and_load, split_data and clip_global_norm (MXNet 1.x's helpers, written
on mx.nd ops)."""
import hashlib
import math

from .. import ndarray as nd

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Splits an NDArray into num_slice slices along batch_axis."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(
            f"data with shape {data.shape} cannot be evenly split into {num_slice} slices "
            f"along axis {batch_axis}. Use a batch size that's multiple of {num_slice} or set "
            "even_split=False to allow uneven partitioning of data.")
    if size < num_slice:
        raise ValueError(f"Too many slices for data with shape {data.shape}. Arguments are "
                         f"num_slice={num_slice} and batch_axis={batch_axis}.")
    step = size // num_slice
    if num_slice == 1:
        return [data]
    slices = []
    for i in range(num_slice):
        begin = i * step
        end = (i + 1) * step if i < num_slice - 1 else size
        slices.append(nd.slice_axis(data, axis=batch_axis, begin=begin, end=end))
    return slices


def _as_in_context(a, ctx):
    if a.context == ctx:
        return a
    out = nd.empty(a.shape, ctx, a.dtype)
    nd._internal._copy(a, out=out)
    return out


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Splits an NDArray (or NumPy array) into len(ctx_list) slices along batch_axis and loads
    each slice to one context in ctx_list."""
    if not isinstance(data, nd.NDArray):
        data = nd.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [_as_in_context(data, ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [_as_in_context(s, c) for s, c in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Rescales NDArrays so that the 2-norm of their concatenation is at most max_norm;
    returns the total norm (a float if check_isfinite, else an NDArray)."""
    if not arrays:
        raise ValueError("clip_global_norm: arrays is empty")
    ctx = arrays[0].context
    if all(a.context == ctx for a in arrays):
        # One pass over every array, no squared copies (NOTE [ Sum of squares ]).
        total = nd.sum(nd.multi_sum_sq(*arrays, num_arrays=len(arrays)))
    else:
        total = nd.add_n(*[_as_in_context(nd.sum(nd.square(a)), ctx) for a in arrays])
    total_norm = nd.sqrt(total)
    if check_isfinite:
        value = float(total_norm.asscalar())
        if not math.isfinite(value):
            import warnings
            warnings.warn(UserWarning("nan or inf is detected. Clipping results will be "
                                      "undefined."), stacklevel=2)
        # The scale below would be exactly 1 (the margin covers float32 rounding): the arrays
        # stay as they are, without a pass over each.
        if value * (1 + 1e-6) + 1e-8 <= max_norm:
            return value
    scale = max_norm / (total_norm + 1e-8)
    scale = nd.broadcast_minimum(scale, nd.ones((1,), ctx=ctx))
    for a in arrays:
        a *= _as_in_context(scale, a.context)
    return value if check_isfinite else total_norm


def check_sha1(filename, sha1_hash):
    """Whether the file's SHA-1 equals sha1_hash (hex)."""
    sha1 = hashlib.sha1()
    with open(filename, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha1.update(chunk)
    return sha1.hexdigest() == sha1_hash


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """mixnet downloads nothing: put the file in place yourself. Returns the local path when
    it already exists (and matches sha1_hash if given)."""
    import os
    fname = path if path is not None and not os.path.isdir(path) else os.path.join(
        path or ".", url.split("/")[-1])
    if os.path.exists(fname) and not overwrite and (not sha1_hash or
                                                    check_sha1(fname, sha1_hash)):
        return fname
    raise NotImplementedError(f"mixnet does not download ({url}); put the file at '{fname}'")
