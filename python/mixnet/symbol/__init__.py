"""mx.sym: symbolic graphs (Symbol), executors, and the op functions generated from the
registry (inputs are Symbols; a missing one becomes the variable NAME_INPUT)."""
import sys

from .. import _core, _op_gen
from .symbol import Symbol, var, Variable, Group, load, load_json

_THIS = sys.modules[__name__]
_MODULES = _op_gen.make_modules(_THIS, "mx.sym")
op = _THIS


def _make_env(handle):
    info = _core.op_info(handle.name)
    return {"_op": handle.name, "_input_names": _op_gen.input_names(info),
            "_invoke": _core.symbol.create_op, "_array_type": "Symbol"}


_op_gen.populate(_MODULES, _op_gen.SYM_TEMPLATE, _make_env, __name__)

# Functions defined in Python on top of the ops win over same-named ops.
from .symbol import Symbol, var, Variable, Group, load, load_json  # noqa: E402,F811


def zeros(shape, dtype=None, **kwargs):
    """Returns a new symbol of given shape and type, filled with zeros."""
    return _MODULES["_internal"]._zeros(shape=shape, dtype=dtype or "float32", **kwargs)


def ones(shape, dtype=None, **kwargs):
    """Returns a new symbol of given shape and type, filled with ones."""
    return _MODULES["_internal"]._ones(shape=shape, dtype=dtype or "float32", **kwargs)


def full(shape, val, dtype=None, **kwargs):
    """Returns a new array of given shape and type, filled with the given value `val`."""
    return _MODULES["_internal"]._full(shape=shape, value=float(val), dtype=dtype or "float32",
                                       **kwargs)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None):
    """Returns evenly spaced values within a given interval."""
    if stop is None:
        start, stop = 0, start
    return _MODULES["_internal"]._arange(start=start, stop=stop, step=step, repeat=repeat,
                                         name=name, dtype=dtype or "float32")


# MXNet's fluent methods: sym.reshape(...), sym.sum(axis=1), ... call the op on the symbol.
_FLUENT = (
    "reshape", "reshape_like", "zeros_like", "ones_like", "broadcast_axes", "repeat", "pad",
    "swapaxes", "split", "split_v2", "slice", "slice_axis", "slice_like", "take", "one_hot",
    "pick", "sort", "topk", "argsort", "argmax", "argmax_channel", "argmin", "clip", "abs",
    "sign", "flatten", "shape_array", "size_array", "expand_dims", "broadcast_to",
    "broadcast_like", "tile", "transpose", "flip", "depth_to_space", "space_to_depth", "diag",
    "sum", "nansum", "prod", "nanprod", "mean", "max", "min", "norm", "round", "rint", "fix",
    "floor", "ceil", "trunc", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "degrees",
    "radians", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "exp", "expm1", "log",
    "log10", "log2", "log1p", "sqrt", "rsqrt", "cbrt", "rcbrt", "square", "reciprocal", "relu",
    "sigmoid", "softmax", "log_softmax", "softmin", "squeeze",
)


def _fluent(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = f"Convenience fluent method for :py:func:`{fn.__name__}`."
    return method


for _name in _FLUENT:
    if hasattr(_THIS, _name):
        setattr(Symbol, _name, _fluent(getattr(_THIS, _name)))


def _astype(self, dtype):
    """Convenience fluent method for :py:func:`cast`."""
    import numpy as np
    return _THIS.cast(self, dtype=np.dtype(dtype).name)


Symbol.astype = _astype
