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
from . import initializer
from . import initializer as init
from . import lr_scheduler
from . import optimizer
from . import metric
from . import autograd
from . import executor
from . import symbol
from . import symbol as sym
from . import name
from . import attribute
from .attribute import AttrScope
from . import io
from . import model
from . import callback
from . import module
from . import module as mod
from . import test_utils
from . import gluon
from . import random

__version__ = "0.1.0"
