"""The Symbol class (C++, extended here with MXNet's Python-only methods) and its makers."""
import warnings

import numpy as np

from .. import _core
from ..base import string_types
from ..context import current_context
from ..executor import Executor  # noqa: F401  (Executor's Python methods)

_s = _core.symbol
_e = _core.executor
Symbol = _s.Symbol

__all__ = ["Symbol", "var", "Variable", "Group", "load", "load_json"]


def _getitem(self, index):
    """The output at `index` (an int) or called `index` (a name from list_outputs())."""
    if isinstance(index, string_types):
        return self._by_name(index)
    if isinstance(index, slice):
        from . import Group as _group
        return _group([self._index(i) for i in range(len(self))[index]])
    index = int(index)
    if index < 0:
        index += len(self)
    return self._index(index)


def _iter(self):
    return (self[i] for i in range(len(self)))


def _symbol_repr(self):
    name = self.name
    if name is None:
        return "<Symbol group [" + ", ".join(s.name for s in self) + "]>"
    return f"<Symbol {name}>"


def _legacy_shape(shape):
    """MXNet 1.x's spelling of unknowns in a given shape: () is unknown (None), a 0 dim an
    unknown dim (-1 in C++)."""
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(shape)
    if not shape:
        return None
    return tuple(-1 if d == 0 else d for d in shape)


def _known_shapes(self, args, kwargs, what):
    known = {}
    if args:
        names = self.list_arguments()
        if len(args) > len(names):
            raise ValueError(f"{what}: {len(args)} positional shapes for {len(names)} arguments")
        for name, shape in zip(names, args):
            if shape is not None:
                known[name] = shape
    for name, shape in kwargs.items():
        if shape is not None:
            known[name] = shape
    return known


def _shape_dict(self, args, kwargs):
    known = _known_shapes(self, args, kwargs, "infer_shape")
    return {k: s for k, s in ((k, _legacy_shape(v)) for k, v in known.items()) if s is not None}


def _infer_shape(self, *args, **kwargs):
    """Infers the shapes of all arguments and all outputs given the known shapes of some
    arguments (positionally in list_arguments() order, or by name).

    Returns (arg_shapes, out_shapes, aux_shapes): lists of tuples in list_arguments(),
    list_outputs() and list_auxiliary_states() order, or (None, None, None) when the given
    shapes do not decide them all (with a warning naming the unknown arguments)."""
    arg, out, aux, complete = self._infer_shape(_shape_dict(self, args, kwargs))
    if not complete:
        unknown = [f"{n}: {s}" for n, s in zip(self.list_arguments(), arg) if not s or 0 in s]
        warnings.warn("Cannot decide shape for the following arguments (0s in shape means "
                      "unknown dimensions). Consider providing them as input:\n\t"
                      + "\n\t".join(unknown), stacklevel=2)
        return None, None, None
    return arg, out, aux


def _infer_shape_partial(self, *args, **kwargs):
    """Infers the shape partially: unknown shapes are () and unknown dimensions 0."""
    arg, out, aux, _ = self._infer_shape(_shape_dict(self, args, kwargs))
    return arg, out, aux


def _infer_type(self, *args, **kwargs):
    """Infers the dtypes of all arguments and outputs given some arguments' dtypes
    (positionally or by name); the rest default to float32. Returns
    (arg_types, out_types, aux_types)."""
    return self._infer_type(_known_shapes(self, args, kwargs, "infer_type"))


def _ordered(values, names, what, allow_none):
    """MXNet's list-or-dict argument forms, as a list in `names` order."""
    if values is None:
        return None
    if isinstance(values, dict):
        out = []
        for name in names:
            if name not in values and not allow_none:
                raise ValueError(f"key `{name}` is missing in `{what}`")
            out.append(values.get(name))
        return out
    values = list(values)
    if len(values) != len(names):
        raise ValueError(f"Length of {what} does not match the number of arguments "
                         f"({len(values)} vs {len(names)})")
    return values


def _grad_req_list(grad_req, names):
    if isinstance(grad_req, string_types):
        return [grad_req] * len(names)
    if isinstance(grad_req, dict):
        return [grad_req.get(name, "null") for name in names]
    return _ordered(grad_req, names, "grad_req", False)


def _bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
          shared_exec=None):
    """Binds the current symbol to an executor and returns it.

    ctx : Context
    args : list of NDArray or dict of str to NDArray (in list_arguments() order)
    args_grad : list of NDArray or dict of str to NDArray, optional (gradient buffers)
    grad_req : {'write', 'add', 'null'}, or list of str or dict of str to str
    aux_states : list of NDArray, or dict of str to NDArray, optional
    group2ctx : not supported (one context per executor)
    shared_exec : Executor, optional (lends its memory)"""
    if group2ctx:
        raise NotImplementedError("bind: group2ctx (model parallelism) is not supported")
    names = self.list_arguments()
    arrays = _ordered(args, names, "args", False)
    grads = _ordered(args_grad, names, "args_grad", True)
    reqs = _grad_req_list(grad_req, names)
    if grads is None:
        reqs = ["null"] * len(names)
    else:
        reqs = [r if g is not None else "null" for r, g in zip(reqs, grads)]
    aux = _ordered(aux_states, self.list_auxiliary_states(), "aux_states", False) or []
    return _e.bind(self, ctx, arrays, grads, reqs, aux, shared_exec)


def _simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                 shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
    """Binds current symbol to get an executor, allocate all the arguments needed.

    ctx : Context
    grad_req : str, list of str or dict of str to str ('write', 'add', 'null')
    type_dict : dict of str to numpy dtype, optional
    shared_exec : Executor, optional (arguments of the same name and shape are shared)
    **kwargs : input shapes by name (data=(64, 784))"""
    if group2ctx:
        raise NotImplementedError("simple_bind: group2ctx (model parallelism) is not supported")
    if stype_dict and any(s != "default" for s in stype_dict.values()):
        raise NotImplementedError("simple_bind: only dense storage (stype 'default')")
    default_req, reqs = grad_req, None
    if not isinstance(grad_req, string_types):
        names = self.list_arguments()
        default_req = "null"
        reqs = dict(zip(names, _grad_req_list(grad_req, names)))
    return _e.simple_bind(self, ctx, kwargs, type_dict, default_req, reqs, shared_exec)


def _eval(self, ctx=None, **kwargs):
    """Evaluates a symbol given arguments (as NDArrays, by name). Returns the list of outputs."""
    ctx = current_context() if ctx is None else ctx
    return self.bind(ctx, kwargs).forward()


def _unsupported(what):
    def fn(self, *args, **kwargs):
        raise NotImplementedError(f"Symbol.{what}: not supported by mixnet")
    return fn


Symbol.__getitem__ = _getitem
Symbol.__iter__ = _iter
Symbol.__repr__ = _symbol_repr
Symbol.infer_shape = _infer_shape
Symbol.infer_shape_partial = _infer_shape_partial
Symbol.infer_type = _infer_type
Symbol.bind = _bind
Symbol.simple_bind = _simple_bind
Symbol.eval = _eval
Symbol.__reduce__ = lambda self: (load_json, (self.tojson(),))  # pickle through the JSON
Symbol.__call__ = _unsupported("__call__ (composing a symbol onto new inputs)")


def var(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None,
        stype=None, **kwargs):
    """Creates a symbolic variable with specified name.

    name : str
    attr : dict of string -> string, optional
    shape : tuple, optional (the variable's shape, used by infer_shape and simple_bind)
    lr_mult, wd_mult : float, optional (learning rate and weight decay multipliers)
    dtype : str or numpy.dtype, optional
    init : initializer (mx.init.*) or its JSON string, optional
    stype : str, optional ('default')
    kwargs : additional attribute variables (`__key__` names)"""
    if not isinstance(name, string_types):
        raise TypeError("Expect a string for variable `name`")
    if init is not None and not isinstance(init, string_types):
        init = init.dumps()
    if dtype is not None:
        dtype = np.dtype(dtype).name if not isinstance(dtype, string_types) else dtype
    for k in kwargs:
        if not (k.startswith("__") and k.endswith("__")):
            raise ValueError(f"Attribute name={k} is not supported. Additional attributes "
                             "must start and end with double underscores, e.g, __yourattr__")
    return _s.var(name, attr, shape, lr_mult, wd_mult, dtype, init, stype,
                  {k: str(v) for k, v in kwargs.items()} or None)


Variable = var


def Group(symbols):
    """Creates a symbol that contains a collection of other symbols, grouped together."""
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Expected a list of symbols as input")
    return _s.group(list(symbols))


def load(fname):
    """Loads symbol from a JSON file (as written by Symbol.save, MXNet 0.8-1.9)."""
    if not isinstance(fname, string_types):
        raise TypeError("fname need to be string")
    return _s.load(fname)


def load_json(json_str):
    """Loads symbol from json string."""
    if not isinstance(json_str, string_types):
        raise TypeError("json_str need to be string")
    return _s.load_json(json_str)
