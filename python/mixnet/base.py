"""Errors and sentinels shared by the package (mx.base)."""
from . import _core

__all__ = ["MXNetError", "NotImplementedForSymbol", "_Null"]


class MXNetError(RuntimeError):
    """Base of every error raised by mixnet's C++ core."""


class _ValueError(MXNetError, ValueError):
    """A bad value: a shape, an attribute, a file's content."""


class _TypeError(MXNetError, TypeError):
    """A bad type: a dtype, an argument's kind."""


class _IndexError(MXNetError, IndexError):
    """An index out of range."""


class _NotImplementedError(MXNetError, NotImplementedError):
    """Something mixnet does not do (yet)."""


class InternalError(MXNetError):
    """A broken invariant inside mixnet itself: please report it."""


for _cls, _name in ((_ValueError, "ValueError"), (_TypeError, "TypeError"),
                    (_IndexError, "IndexError"), (_NotImplementedError, "NotImplementedError")):
    _cls.__name__ = _cls.__qualname__ = "MXNet" + _name
NotImplementedForSymbol = _NotImplementedError

_core._set_error_classes({
    "MXNetError": MXNetError, "ValueError": _ValueError, "TypeError": _TypeError,
    "IndexError": _IndexError, "NotImplementedError": _NotImplementedError,
    "InternalError": InternalError,
})


class _NullType:
    """The default of a generated op function's arguments: 'not given, use the op's own'."""
    __slots__ = ()

    def __repr__(self):
        return "_Null"

    def __bool__(self):
        return False


_Null = _NullType()
_core._set_null(_Null)

string_types = (str,)
numeric_types = (float, int)
integer_types = (int,)
