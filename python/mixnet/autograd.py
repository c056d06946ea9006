"""Autograd for NDArray (mx.autograd).

    x = mx.nd.array([1, 2, 3])
    x.attach_grad()
    with mx.autograd.record():
        y = x * x
    y.backward()
    x.grad  # [2, 4, 6]
"""
from . import _core
from .ndarray import NDArray

_ag = _core.autograd

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "mark_variables", "backward", "grad", "Function"]


def set_recording(is_recording):
    """Set status to recording/not recording. Returns the previous status."""
    return _ag.set_recording(bool(is_recording))


def set_training(train_mode):
    """Set status to training/predicting. Returns the previous status."""
    return _ag.set_training(bool(train_mode))


def is_recording():
    """Get status on recording/not recording."""
    return _ag.is_recording()


def is_training():
    """Get status on training/predicting."""
    return _ag.is_training()


class _RecordingStateScope:
    """Scope for managing training state: sets the flags given (None leaves one as it is) and
    restores the previous ones on exit."""

    def __init__(self, is_record, train_mode):
        self._enter_is_record = is_record
        self._enter_train_mode = train_mode
        self._prev_is_record = None
        self._prev_train_mode = None

    def __enter__(self):
        if self._enter_is_record is not None:
            self._prev_is_record = set_recording(self._enter_is_record)
        if self._enter_train_mode is not None:
            self._prev_train_mode = set_training(self._enter_train_mode)

    def __exit__(self, ptype, value, trace):
        if self._enter_is_record is not None and self._prev_is_record != self._enter_is_record:
            set_recording(self._prev_is_record)
        if self._enter_train_mode is not None and self._prev_train_mode != self._enter_train_mode:
            set_training(self._prev_train_mode)


def record(train_mode=True):
    """Returns an autograd recording scope context to be used in 'with' statement and captures
    code that needs gradients to be calculated.

    train_mode : bool, default True
        Whether the forward pass is in training or predicting mode (Dropout, BatchNorm)."""
    return _RecordingStateScope(True, train_mode)


def pause(train_mode=False):
    """Returns a scope context to be used in 'with' statement for codes that do not need
    gradients to be calculated."""
    return _RecordingStateScope(False, train_mode)


def train_mode():
    """Returns a scope context in which forward passes run in training mode (recording is
    left as it is)."""
    return _RecordingStateScope(None, True)


def predict_mode():
    """Returns a scope context in which forward passes run in inference mode."""
    return _RecordingStateScope(None, False)


def mark_variables(variables, gradients, grad_reqs="write"):
    """Mark NDArrays as variables to compute gradient for autograd.

    variables : NDArray or list of NDArray
    gradients : NDArray or list of NDArray (the gradient buffers)
    grad_reqs : str or list of str ('write', 'add', 'null')"""
    if isinstance(variables, NDArray):
        variables, gradients = [variables], [gradients]
    _ag.mark_variables(list(variables), list(gradients), grad_reqs)


def _as_list(x):
    if x is None or isinstance(x, NDArray):
        return x
    return list(x)


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):  # noqa: F811
    """Compute the gradients of heads w.r.t previously marked variables.

    heads : NDArray or list of NDArray
    head_grads : NDArray or list of NDArray or None (ones; None items too)"""
    _ag.backward(_as_list(heads), _as_list(head_grads), retain_graph, train_mode)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):  # noqa: F811
    """Compute the gradients of heads w.r.t variables. Gradients will be returned as new
    NDArrays instead of stored into `variable.grad`. Supports recording gradient graph for
    computing higher order gradients (create_graph=True).

    Returns a list of NDArray (one per variable; a single NDArray when `variables` is one)."""
    single = isinstance(variables, NDArray)
    res = _ag.grad(_as_list(heads), _as_list(variables), _as_list(head_grads), retain_graph,
                   create_graph, train_mode)
    return res[0] if single else res


def get_symbol(x):
    """Retrieve recorded computation history as `Symbol`: not available in mixnet (the tape is
    not a symbol); use HybridBlock.export or build the Symbol directly."""
    raise NotImplementedError("autograd.get_symbol: mixnet's tape cannot be read as a Symbol")


class Function:
    """Customize differentiation in autograd.

    If you don't want to use the gradients computed by the default chain-rule, you can use
    Function to customize differentiation for computation. Define forward and backward in a
    subclass; use save_for_backward in forward to keep arrays for backward::

        class sigmoid(mx.autograd.Function):
            def forward(self, x):
                y = 1 / (1 + mx.nd.exp(-x))
                self.save_for_backward(y)
                return y

            def backward(self, dy):
                y, = self.saved_tensors
                return dy * y * (1 - y)

    A Function object is called once: y = sigmoid()(x)."""

    def __init__(self):
        self._used = False
        self.saved_tensors = ()

    def save_for_backward(self, *args):
        # Detached: an output kept here would otherwise hold its own tape node (and this
        # Function) alive through C++ references that Python's collector cannot see.
        self.saved_tensors = tuple(a.detach() if isinstance(a, NDArray) else a for a in args)

    def __call__(self, *inputs):
        if self._used:
            raise RuntimeError("Each Function instance can only be called once. "
                               "Please create another instance.")
        self._used = True
        single = [False]
        fwd = self.forward

        def forward(*args):  # run unrecorded by the C++ side: its outputs are one tape node
            out = fwd(*args)
            single[0] = isinstance(out, NDArray)
            return out

        self.forward = forward
        try:
            outputs = _ag.call_function(self, list(inputs))
        finally:
            del self.forward
        return outputs[0] if single[0] else tuple(outputs)

    def forward(self, *inputs):
        """Forward computation."""
        raise NotImplementedError

    def backward(self, *output_grads):
        """Backward computation: one gradient per input of forward."""
        raise NotImplementedError
