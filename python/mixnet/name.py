"""Automatic naming support for symbolic API (mx.name)."""
from . import _core

__all__ = ["NameManager", "Prefix"]


class NameManager:
    """NameManager to do automatic naming (op name in lower case + a counter: fullyconnected0).
    Used as `with mx.name.NameManager():`, it gives fresh counters inside the scope."""

    def __init__(self, prefix=""):
        self._prefix = prefix
        self._scope = None

    def __enter__(self):
        if self._scope is not None:
            raise RuntimeError("NameManager: this scope is already entered")
        self._scope = _core.symbol.NameScope(self._prefix)
        return self

    def __exit__(self, ptype, value, trace):
        self._scope = None  # the C++ scope restores the previous names on destruction


class Prefix(NameManager):
    """A name manager that attaches a prefix to all names::

        with mx.name.Prefix('mynet_'):
            net = mx.sym.FullyConnected(data, num_hidden=10, name='fc1')
        net.list_arguments()  # ['data', 'mynet_fc1_weight', 'mynet_fc1_bias']
    """

    def __init__(self, prefix):
        super().__init__(prefix)
