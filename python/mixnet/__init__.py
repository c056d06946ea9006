"""mixnet: Apache MXNet 1.x's API on a maintained C++ core.

    import mixnet as mx
    x = mx.nd.ones((2, 3))
    y = mx.nd.relu(x * 2 - 3)
"""
import os as _os


def _openblas_coretype():
    """OpenBLAS picks its kernels by CPU model name and falls back to SSE3 on CPUs it cannot
    name (virtual machines: 35 instead of ~200 GFLOP/s); tell it the core type before the
    library loads, unless the user did (scripts/cpu_env.sh does the same for programs)."""
    if "OPENBLAS_CORETYPE" in _os.environ:
        return
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split() for line in f if line.startswith("flags")), [])
    except OSError:
        return
    if "avx512f" in flags:
        _os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    elif "avx2" in flags:
        _os.environ["OPENBLAS_CORETYPE"] = "Haswell"


_openblas_coretype()
from . import _core  # noqa: E402  (after the environment above)
# A dist_async server or scheduler (DMLC_ROLE) runs its role here and exits, as `import mxnet`.
from . import kvstore_server  # noqa: E402
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
from . import kvstore, kvstore as kv
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
from . import recordio
from . import image
from . import viz
from . import _dist_sync  # dist_sync workers: an uncaught exception ends the job

__version__ = "0.1.0"
