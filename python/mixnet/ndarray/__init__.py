"""mx.nd: imperative arrays and the op functions generated from the registry."""
import sys

from .. import _core, _op_gen
from . import ndarray as _ndarray_mod
from . import random
from .ndarray import (NDArray, array, empty, zeros, ones, full, arange, waitall, concatenate,
                      save, load, load_frombuffer, from_numpy, from_dlpack, to_dlpack_for_read,
                      to_dlpack_for_write, moveaxis, eye, onehot_encode, UFUNCS,
                      _new_from_numpy)

_THIS = sys.modules[__name__]


_MODULES = _op_gen.make_modules(_THIS, "mx.nd")
op = _THIS  # mx.nd.op.<name> (MXNet keeps a module of all ops)

_op_gen.populate(_MODULES, _op_gen.ND_TEMPLATE,
                 lambda handle: {"_op": handle, "_invoke": _core.invoke}, __name__)

# Functions defined in Python on top of the ops win over same-named ops.
from .ndarray import zeros, ones, full, empty, arange, array  # noqa: E402,F811
globals().update(UFUNCS)
for _name, _fn in random.PYTHON_FUNCTIONS.items():
    setattr(random, _name, _fn)
_ndarray_mod.attach_fluent(_THIS)
