"""Devices (mx.context): mx.cpu(), mx.gpu(i), `with ctx:` scopes."""
from . import _core

Context = _core.Context


def cpu(device_id=0):
    """The CPU context (device_id only tells arrays apart, as in MXNet)."""
    return Context("cpu", device_id)


def gpu(device_id=0):
    """A GPU context. mixnet builds without a GPU backend here: arrays on it cannot be made."""
    return Context("gpu", device_id)


def cpu_pinned(device_id=0):
    return Context("cpu_pinned", device_id)


def num_gpus():
    """GPUs mixnet can use: 0 (this build has no CUDA backend)."""
    return 0


def current_context():
    """The thread's default context: the innermost `with ctx:`, else cpu(0)."""
    return _core.current_context()
