"""gluon.Block, HybridBlock and SymbolBlock: the C++ blocks (mixnet/gluon/block.h), which
Python classes subclass as in MXNet 1.x (NOTE [ Python blocks ] in python/src/gluon_block.cc):

    class Net(gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.fc = nn.Dense(10)
        def hybrid_forward(self, F, x):
            return F.relu(self.fc(x))

Difference from MXNet: F is always mx.nd. A hybridized block traces the NDArray calls of its
first call per input signature into a graph (shapes known), where MXNet ran hybrid_forward on
symbols. Parameters whose shape is unknown (0) are completed by an `infer_shape(self, *args)`
method when the block's own parameters need one (MXNet inferred them from the symbol graph).
"""
from .. import _core
from .parameter import Parameter

__all__ = ["Block", "HybridBlock", "SymbolBlock"]

Block = _core.Block
HybridBlock = _core.HybridBlock
SymbolBlock = _core.SymbolBlock


class HookHandle:
    """A handle that can remove a hook (returned by register_forward_hook)."""

    def __init__(self, block, hook_id):
        self._block = block
        self._id = hook_id

    def detach(self):
        if self._block is not None:
            self._block._remove_hook(self._id)
            self._block = None

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.detach()


def _setattr(self, name, value):
    """Registers child blocks and parameters under the attribute's name, as MXNet."""
    registered = True
    if isinstance(value, Block):
        self.register_child(value, name)
    elif isinstance(value, Parameter):
        self._register_param(name, value)
    else:
        registered = False
    try:
        object.__setattr__(self, name, value)
    except AttributeError:
        # A C++ layer has no __dict__: a child or parameter is reachable by name all the same
        # (net.output = nn.Dense(2) on a zoo network replaces its classifier).
        if not registered:
            raise


def _register_forward_hook(self, hook):
    """Registers hook(block, inputs, outputs), called after forward; returns a HookHandle."""
    return HookHandle(self, self._register_forward_hook(hook))


def _register_forward_pre_hook(self, hook):
    """Registers hook(block, inputs), called before forward; returns a HookHandle."""
    return HookHandle(self, self._register_forward_pre_hook(hook))


def _summary(self, *inputs):
    """Prints a summary of the model's layers, output shapes and parameter counts."""
    print(self._summary(*inputs))


def _save_params(self, filename):
    """Deprecated: use save_parameters."""
    self.collect_params().save(filename, strip_prefix=self.prefix)


def _load_params(self, filename, ctx=None, allow_missing=False, ignore_extra=False):
    """Deprecated: use load_parameters."""
    self.load_parameters(filename, ctx, allow_missing, ignore_extra)


Block.__setattr__ = _setattr
Block.register_forward_hook = _register_forward_hook
Block.register_forward_pre_hook = _register_forward_pre_hook
Block.summary = _summary
Block.save_params = _save_params
Block.load_params = _load_params


def _getattr(self, name):
    """Registered parameters and children of C++ blocks by name (dense.weight,
    model.features), as MXNet's attributes."""
    if not name.startswith("__"):
        if not _core._block_ready(self):  # before Block.__init__ ran
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        params, children = self._reg_params, self._children
        if name in params:
            return params[name]
        if name in children:
            return children[name]
    raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


Block.__getattr__ = _getattr
