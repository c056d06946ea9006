"""Attribute scoping support for symbolic API (mx.attribute, mx.AttrScope)."""
from . import _core

__all__ = ["AttrScope"]


class AttrScope:
    """Attribute manager for scoping: every symbol created inside `with mx.AttrScope(...)`
    gets these attributes (strings), e.g. ctx_group or __lr_mult__."""

    def __init__(self, **kwargs):
        for value in kwargs.values():
            if not isinstance(value, str):
                raise ValueError("Attributes need to be string")
        self._attr = kwargs
        self._scope = None

    def get(self, attr):
        """The attributes of this scope merged with `attr` (which wins)."""
        if not self._attr:
            return attr or {}
        ret = dict(self._attr)
        ret.update(attr or {})
        return ret

    def __enter__(self):
        if self._scope is not None:
            raise RuntimeError("AttrScope: this scope is already entered")
        self._scope = _core.symbol.AttrScope(self._attr)
        return self

    def __exit__(self, ptype, value, trace):
        self._scope = None
