"""gluon.Parameter, Constant and ParameterDict: the C++ parameters (mixnet/gluon/parameter.h)
with MXNet 1.x's Python names."""
from .. import _core

__all__ = ["Parameter", "Constant", "ParameterDict", "DeferredInitializationError"]

Parameter = _core.Parameter
Constant = _core.GluonConstant
ParameterDict = _core.ParameterDict


class DeferredInitializationError(Exception):
    """Error for unfinished deferred initialization (mixnet raises a ValueError naming the
    parameter instead; the class is kept for code that names it)."""


def _setattr(self, name, value):
    """Set an attribute to a new value for all Parameters (e.g. setattr('grad_req', 'null'))."""
    for param in self.values():
        setattr(param, name, value)


def _list_ctx(self):
    ctxs = []
    for param in self.values():
        for c in param.list_ctx():
            if c not in ctxs:
                ctxs.append(c)
    return ctxs


ParameterDict.setattr = _setattr
ParameterDict.list_ctx = _list_ctx
ParameterDict.select = ParameterDict._select
