"""Symbolic executor (mx.executor): a Symbol bound to arrays, made by Symbol.bind and
Symbol.simple_bind. Running it is one C++ call per forward or backward."""
import numpy as np

from . import _core
from .ndarray import NDArray, array, cast

Executor = _core.executor.Executor

__all__ = ["Executor"]


def _forward(self, is_train=False, **kwargs):
    """Calculate the outputs specified by the bound symbol.

    is_train : bool, default False
        Whether this forward is for evaluation purpose (False) or training (True).
    **kwargs
        Input arrays by argument name (NDArray or numpy.ndarray), copied into arg_dict first.

    Returns the list of output NDArrays (also in `outputs`)."""
    inputs = None
    if kwargs:
        arg_names = self._symbol.list_arguments()
        inputs = {}
        for name, value in kwargs.items():
            if isinstance(value, np.ndarray):
                value = array(value, ctx=self._ctx, dtype=value.dtype)
            elif not isinstance(value, NDArray):
                raise ValueError("only accept keyword argument of NDArrays and numpy.ndarray")
            if name not in arg_names:
                raise TypeError(f"Unknown argument {name}")
            inputs[name] = value
    return self._forward(bool(is_train), inputs)


def _backward(self, out_grads=None, is_train=True):
    """Do backward pass to get the gradient of arguments (into grad_arrays / grad_dict).

    out_grads : NDArray or list of NDArray or dict of str to NDArray, optional
        Gradients on the outputs; not needed for loss outputs."""
    if isinstance(out_grads, dict):
        out_grads = [out_grads[name] for name in self._symbol.list_outputs()]
    self._backward(out_grads)


def _copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
    """Copy parameters from arg_params, aux_params into executor's internal array.

    allow_extra_params : bool
        Whether to allow extra parameters that are not needed by the symbol; if False,
        ValueError is raised for one."""
    for dst, src, kind in ((self.arg_dict, arg_params, "arg_params"),
                           (self.aux_dict, aux_params or {}, "aux_params")):
        for name, value in src.items():
            if name in dst:
                cast(value, dtype=np.dtype(dst[name].dtype).name, out=dst[name])
            elif not allow_extra_params:
                raise ValueError(f"Find name \"{name}\" in {kind} that is not in the arguments")


def _reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
    """Return a new executor with the same symbol and shared memory, but different input
    shapes (given as name=shape)."""
    return self._reshape(kwargs, partial_shaping, allow_up_sizing)


def _repr(self):
    outs = ", ".join(self._symbol.list_outputs())
    return f"<Executor outputs=[{outs}] @{self._ctx}>"


Executor.forward = _forward
Executor.backward = _backward
Executor.copy_params_from = _copy_params_from
Executor.reshape = _reshape
Executor.__repr__ = _repr
