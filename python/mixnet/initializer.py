"""Weight initializers (mx.init / mx.initializer), MXNet 1.x's API on the C++ initializers.

    init = mx.init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2)
    init(mx.init.InitDesc("fc1_weight"), arr)   # Xavier draw into arr
    init("fc1_bias", arr)                       # zeros: the name decides, as in MXNet

A custom initializer subclasses Initializer and gives `_init_weight(name, arr)` (and may
override `_init_bias`, `_init_gamma`, `_init_beta`); C++ code that takes an initializer (Gluon,
Module) calls these overrides.
"""
import json
import logging

import numpy as np

from . import _core
from .registry import Registry
from .ndarray import NDArray, array as _nd_array

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "Load", "Mixed", "Zero",
           "One", "Constant", "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu",
           "Bilinear", "LSTMBias"]

def create(initializer, *args, **kwargs):
    """An initializer from an instance (returned as is), a registered name ('xavier'), or the
    JSON that dumps() gives ('["xavier", {"magnitude": 2}]')."""
    if isinstance(initializer, Initializer):
        if args or kwargs:
            raise ValueError("create: arguments given with an Initializer instance")
        return initializer
    if not isinstance(initializer, str):
        raise TypeError(f"create: expected an Initializer or a name, got {type(initializer)}")
    name = initializer
    if initializer.startswith("["):
        if args or kwargs:
            raise ValueError("create: arguments given with a JSON initializer")
        name, kwargs = json.loads(initializer)
    return _REGISTRY.find(name)(*args, **kwargs)


class InitDesc(str):
    """A parameter's name with its attributes (attrs['__init__'] names its own initializer,
    as the JSON of dumps()) and the initializer applied globally."""

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super().__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


Initializer = _core.Initializer
_core_init = _core.Initializer.__init__
_REGISTRY = Registry(Initializer, "initializer")
register = _REGISTRY.register
alias = _REGISTRY.alias


def _initializer_init(self, **kwargs):
    """Base constructor: keeps kwargs for dumps()."""
    _core_init(self)
    self._kwargs = kwargs
    self._verbose = False
    self._print_func = None


def _check_array(arr, who):
    if not isinstance(arr, NDArray):
        raise TypeError(f"{who}: arr must be an NDArray, got {type(arr).__name__}")


def _initializer_call(self, desc, arr):
    """Initializes `arr` in place as the parameter `desc` (a name or an InitDesc). A desc whose
    attrs hold '__init__' gets that initializer's own rule; otherwise the name decides
    (weight, bias, gamma, beta, moving_mean, ...; ValueError for an unknown suffix)."""
    _check_array(arr, "Initializer")
    if isinstance(desc, InitDesc):
        if desc.global_init is None:
            desc.global_init = self
        spec = desc.attrs.get("__init__", "")
        if spec:
            create(spec)._init_weight(str(desc), arr)
            self._verbose_print(desc, spec, arr)
            return
    self._call(str(desc), arr)
    self._verbose_print(desc, "", arr)


def _set_verbosity(self, verbose=False, print_func=None):
    """Logs each initialized array (with print_func(arr)'s summary, default its norm)."""
    self._verbose = verbose
    if print_func is None:
        def print_func(x):
            return str((_core_norm(x) / np.sqrt(x.size)))
    self._print_func = print_func
    return self


def _core_norm(x):
    return float(np.linalg.norm(x.asnumpy()))


def _verbose_print(self, desc, init, arr):
    if getattr(self, "_verbose", False) and getattr(self, "_print_func", None):
        logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))


def _dumps(self):
    """The JSON MXNet stores as a variable's '__init__' attribute: [name, kwargs]."""
    return json.dumps([type(self).__name__.lower(), getattr(self, "_kwargs", {})])


def _init_zero(self, _, arr):
    Zero()._init_weight("", arr)


def _init_one(self, _, arr):
    One()._init_weight("", arr)


def _init_default(self, name, _):
    raise ValueError(
        f"Unknown initialization pattern for {name}. Default initialization is now limited to "
        '"weight", "bias", "gamma" (1.0), and "beta" (0.0). Please use mx.sym.Variable(init='
        "mx.init.*) to set initialization pattern")


Initializer.__init__ = _initializer_init
Initializer.__call__ = _initializer_call
Initializer.set_verbosity = _set_verbosity
Initializer._verbose_print = _verbose_print
Initializer.dumps = _dumps
Initializer._init_zero = _init_zero
Initializer._init_one = _init_one
Initializer._init_default = _init_default
Initializer.__repr__ = lambda self: self._to_string()


def _kwargs_init(base, names):
    """An __init__ that calls the C++ constructor and keeps MXNet's kwargs for dumps()."""
    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, **kwargs)
        given = dict(zip(names, args))
        given.update(kwargs)
        self._kwargs = given
    return __init__


@register
@alias("zeros")
class Zero(_core.Zero):
    """Initializes weights to zero."""
    __init__ = _kwargs_init(_core.Zero, ())


@register
@alias("ones")
class One(_core.One):
    """Initializes weights to one."""
    __init__ = _kwargs_init(_core.One, ())


@register
class Constant(_core.Constant):
    """Initializes weights to a scalar or to the values of an array of the weight's shape."""

    def __init__(self, value):
        if isinstance(value, (list, tuple, np.ndarray)):
            value = _nd_array(np.asarray(value, dtype=np.float32))
        super().__init__(value if isinstance(value, NDArray) else float(value))
        self._kwargs = {"value": value}

    def dumps(self):
        val = self._kwargs["value"]
        if isinstance(val, NDArray):
            val = val.asnumpy().tolist()
        return json.dumps([type(self).__name__.lower(), {"value": val}])


@register
class Uniform(_core.Uniform):
    """Weights from U(-scale, scale)."""
    __init__ = _kwargs_init(_core.Uniform, ("scale",))


@register
class Normal(_core.Normal):
    """Weights from N(0, sigma^2)."""
    __init__ = _kwargs_init(_core.Normal, ("sigma",))


@register
class Xavier(_core.Xavier):
    """Xavier/Glorot: U(-s, s) ('uniform') or N(0, s^2) ('gaussian') with
    s = sqrt(magnitude / factor), factor the mean of fan_in and fan_out ('avg'), fan_in ('in')
    or fan_out ('out')."""
    __init__ = _kwargs_init(_core.Xavier, ("rnd_type", "factor_type", "magnitude"))


@register
class MSRAPrelu(_core.MSRAPrelu):
    """He/MSRA initialization for PReLU nets: Xavier gaussian with magnitude 2 / (1 + slope^2)."""
    __init__ = _kwargs_init(_core.MSRAPrelu, ("factor_type", "slope"))


@register
class Orthogonal(_core.Orthogonal):
    """Orthogonal weights (Saxe et al.) from a uniform ('uniform') or normal ('normal') draw,
    times scale."""
    __init__ = _kwargs_init(_core.Orthogonal, ("scale", "rand_type"))


@register
class Bilinear(_core.Bilinear):
    """The bilinear upsampling kernel, for Deconvolution weights."""
    __init__ = _kwargs_init(_core.Bilinear, ())


@register
class LSTMBias(_core.LSTMBias):
    """LSTM biases: zero except the forget gate's, set to forget_bias (apply it as a variable's
    own initializer, e.g. mx.sym.Variable('i2h_bias', init=mx.init.LSTMBias()))."""
    __init__ = _kwargs_init(_core.LSTMBias, ("forget_bias",))


class Mixed(_core.Mixed):
    """Several initializers by name: the first pattern (a regex matched at the start of the
    name) that matches picks the initializer."""

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise ValueError(f"Mixed: {len(patterns)} patterns but {len(initializers)} "
                             "initializers")
        super().__init__(list(patterns), [create(i) for i in initializers])
        self._kwargs = {}


@register
class Load(Initializer):
    """Initializes by loading values from `param` (a dict name -> NDArray, or a file saved by
    mx.nd.save); names missing there go to default_init. Names prefixed 'arg:' or 'aux:' are
    matched without the prefix."""

    def __init__(self, param, default_init=None, verbose=False):
        super().__init__()
        if isinstance(param, str):
            from . import ndarray as nd
            param = nd.load(param)
        if not isinstance(param, dict):
            raise TypeError("Load: param must be a dict of NDArrays or a file name")
        self.param = {}
        for name, arr in param.items():
            if name.startswith("arg:") or name.startswith("aux:"):
                name = name[4:]
            self.param[name] = arr if isinstance(arr, NDArray) else _nd_array(arr)
        self.default_init = None if default_init is None else create(default_init)
        self.verbose = verbose

    def _call_by_name(self, name, arr):
        if name in self.param:
            src = self.param[name]
            if src.shape != arr.shape:
                raise ValueError(f"Load: parameter {name} cannot be initialized from loading: "
                                 f"shape mismatch, target {arr.shape} vs loaded {src.shape}")
            Constant(src)._init_weight(name, arr)  # a C++ copy
            if self.verbose:
                logging.info("Initialized %s by loading", name)
            return
        if self.default_init is None:
            raise ValueError(f"Load: cannot initialize {name}: not found in the loaded params "
                             "and no default initializer given")
        self.default_init(name, arr)
        if self.verbose:
            logging.info("Initialized %s by default", name)

    def _init_weight(self, name, arr):
        self._call_by_name(name, arr)

    def __call__(self, desc, arr):
        _check_array(arr, "Load")
        self._call_by_name(str(desc), arr)

