"""mixnet: Apache MXNet 1.x's API on a maintained C++ core.

    import mixnet as mx
    x = mx.nd.ones((2, 3))
    y = mx.nd.relu(x * 2 - 3)
"""
from . import _core
from . import base
from .base import MXNetError
from . import context
from .context import Context, cpu, gpu, cpu_pinned, current_context
from . import ndarray
from . import ndarray as nd
from . import random

__version__ = "0.1.0"
