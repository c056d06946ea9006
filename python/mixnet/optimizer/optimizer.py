"""Optimizers (mx.optimizer): MXNet 1.x's classes on the C++ optimizers.

    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=1e-4)
    updater = mx.optimizer.get_updater(opt)
    updater(0, grad, weight)            # in place; states made on the index's first update

Every optimizer is a C++ optimizer (see NOTE [ Python optimizers ] in python/src/optimizer.cc):
the update counts, rates, multipliers and states are kept there, and the update itself runs the
fused C++ ops. A custom optimizer subclasses Optimizer and gives create_state(index, weight)
and update(index, weight, grad, state), as in MXNet:

    @mx.optimizer.register
    class MySGD(mx.optimizer.Optimizer):
        def update(self, index, weight, grad, state):
            self._update_count(index)
            weight -= self._get_lr(index) * (grad * self.rescale_grad + self._get_wd(index) * weight)

Its update runs inside the C++ optimizer's update, which has counted the index and computed
its rate and decay already (_update_count is then a no-op; _get_lr/_get_wd return them), so it
also works where C++ drives the optimizer (Module, Gluon's Trainer).
"""
import pickle

import numpy as np

from .. import _core
from ..registry import Registry
from ..ndarray import NDArray, array as _nd_array

__all__ = ["Optimizer", "Updater", "get_updater", "create", "register", "SGD", "NAG", "Signum",
           "Adam", "AdamW", "AdaGrad", "AdaDelta", "RMSProp", "Ftrl", "Adamax", "Nadam", "LAMB",
           "ccSGD"]

def _attr(value):
    """An argument as the C++ kwargs take it (MXNet's attribute spelling)."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return value
    raise TypeError(f"optimizer argument: expected a number, a bool or None, got {value!r}")


def _is_weight_like(name):
    return name.endswith("_weight") or name.endswith("_gamma")


class Optimizer(_core.Optimizer):
    """The base class of optimizers.

    Parameters
    ----------
    rescale_grad : float, optional, default 1.0
        Multiplies the gradient before the update (often 1 / batch_size).
    param_idx2name : dict of int to str, optional
        The names lr_mult and wd_mult are looked up by; named parameters that end in neither
        '_weight' nor '_gamma' get no weight decay unless wd_mult says otherwise.
    wd : float, optional, default 0.0
        Weight decay (L2 regularization).
    clip_gradient : float, optional
        Clips the (rescaled) gradient to [-clip_gradient, clip_gradient].
    learning_rate : float, optional
        The fixed rate (each optimizer's own default when None), or the schedule's base_lr.
    lr_scheduler : LRScheduler, optional
        The schedule giving the rate at each num_update.
    sym : Symbol, optional
        A symbol whose variables' __lr_mult__ / __wd_mult__ attributes set the multipliers.
    begin_num_update : int, optional, default 0
        The update count to start from.
    multi_precision : bool, optional, default False
        Keep a float32 master copy of float16 weights and update it in float32.
    param_dict : dict of int to gluon.Parameter, optional
        Parameters whose lr_mult and wd_mult apply (Gluon's Trainer gives it).
    aggregate_num : int, optional
        How many parameters one fused update may take (SGD: 4 by default).
    """
    _builtin = None  # the C++ registry's name for a built-in; None for a Python subclass
    _active = None   # (index, lr, wd) while C++ runs a Python subclass's update

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None,
                 learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None, aggregate_num=None, **kwargs):
        builtin = type(self)._builtin
        if kwargs and builtin is None:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        if lr_scheduler is not None and learning_rate is None:
            learning_rate = lr_scheduler.base_lr  # MXNet keeps the schedule's rate
        args = {"rescale_grad": rescale_grad, "wd": wd, "clip_gradient": clip_gradient,
                "begin_num_update": begin_num_update, "multi_precision": multi_precision}
        if learning_rate is not None:
            args["learning_rate"] = learning_rate
        args.update(kwargs)
        _core.Optimizer.__init__(self, builtin, type(self).__name__.lower(),
                                 {k: _attr(v) for k, v in args.items()})
        self._py_states = {}
        self._lr_mult, self._wd_mult = {}, {}
        if lr_scheduler is not None:
            self.lr_scheduler = lr_scheduler
        if aggregate_num is not None:
            self.aggregate_num = aggregate_num
        self.param_dict = dict(param_dict) if param_dict else {}
        idx2name = dict(param_idx2name or {})
        for index, param in self.param_dict.items():
            idx2name[index] = param.name
        self.idx2name = idx2name
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.set_lr_mult({})
        self.set_wd_mult({})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._builtin is not None:
            for name in ("update", "update_multi_precision", "create_state"):
                if name in cls.__dict__:
                    raise TypeError(f"{cls.__name__}: a subclass of a built-in optimizer cannot "
                                    f"override {name}; subclass mx.optimizer.Optimizer instead")
            return
        for name in ("update", "update_multi_precision"):
            if name in cls.__dict__:
                setattr(cls, name, _routed(cls.__dict__[name]))

    # ---- multipliers ----

    def _names_of(self, mult, what):
        out = {}
        for key, value in mult.items():
            if isinstance(key, int):
                if key not in self.idx2name:
                    raise ValueError(f"{what}: index {key} has no name in param_idx2name")
                key = self.idx2name[key]
            out[str(key)] = float(value)
        return out

    def _sym_mult(self, attr_name):
        mult = {}
        if self.sym_info:
            attrs, arg_names = self.sym_info
            for name in arg_names:
                if name in attrs and attr_name in attrs[name]:
                    mult[name] = float(attrs[name][attr_name])
        return mult

    def _param_mult(self, field):
        return {p.name: float(getattr(p, field)) for p in self.param_dict.values()
                if hasattr(p, field)}

    def set_lr_mult(self, args_lr_mult):
        """Sets per-parameter learning-rate multipliers (by name, or by index when
        param_idx2name names it); a symbol's __lr_mult__ attributes come first."""
        mult = self._sym_mult("__lr_mult__")
        mult.update(self._param_mult("lr_mult"))
        mult.update(self._names_of(args_lr_mult, "set_lr_mult"))
        self._lr_mult = mult
        self._set_lr_mult(mult)

    def set_wd_mult(self, args_wd_mult):
        """Sets per-parameter weight-decay multipliers; named parameters ending in neither
        '_weight' nor '_gamma' default to 0, as in MXNet."""
        mult = self._sym_mult("__wd_mult__")
        mult.update(self._param_mult("wd_mult"))
        mult.update(self._names_of(args_wd_mult, "set_wd_mult"))
        self._wd_mult = mult
        self._set_wd_mult(mult)

    @property
    def lr_mult(self):
        return dict(self._lr_mult)

    @lr_mult.setter
    def lr_mult(self, value):
        self.set_lr_mult(value)

    @property
    def wd_mult(self):
        return dict(self._wd_mult)

    @wd_mult.setter
    def wd_mult(self, value):
        self.set_wd_mult(value)

    # ---- what a Python subclass's update calls ----

    def _update_count(self, index):
        """A no-op: the C++ optimizer counts each index before it runs update()."""

    def _get_lr(self, index):
        """The learning rate of parameter `index` for this update (lr_mult applied)."""
        if self._active is not None and self._active[0] == index:
            return self._active[1]
        name = self.idx2name.get(index)
        return self.learning_rate * (self._lr_mult.get(name, 1.0) if name else 1.0)

    def _get_wd(self, index):
        """The weight decay of parameter `index` (wd_mult applied)."""
        if self._active is not None and self._active[0] == index:
            return self._active[2]
        name = self.idx2name.get(index)
        if name is None:
            return self.wd
        return self.wd * self._wd_mult.get(name, 1.0 if _is_weight_like(name) else 0.0)

    def _get_lrs(self, indices):
        return [self._get_lr(i) for i in indices]

    def _get_wds(self, indices):
        return [self._get_wd(i) for i in indices]

    def _step(self, index, weight, grad, lr, wd, t):
        """Called by the C++ optimizer for a Python subclass: runs its update with the rate
        and decay C++ computed (the index already counted)."""
        state = self._py_states.get(index, _MISSING)
        if state is _MISSING:
            state = self.create_state(index, weight)
            self._py_states[index] = state
        self._active = (index, lr, wd)
        try:
            self.update(index, weight, grad, state)
        finally:
            self._active = None

    # ---- updates ----

    def update(self, index, weight, grad, state):
        """Updates `weight` in place with `grad` (index, weight and grad may be lists). The
        state from create_state is adopted on the index's first update."""
        if isinstance(index, (list, tuple)):
            states = state if isinstance(state, (list, tuple)) else [state] * len(index)
            for i, w, g, s in zip(index, weight, grad, states):
                self._update_with_state(i, w, g, s)
            return
        self._update_with_state(index, weight, grad, state)

    def update_multi_precision(self, index, weight, grad, state):
        """update(); under multi_precision float16 weights are updated through a float32
        master copy kept by the optimizer."""
        self.update(index, weight, grad, state)

    def _routed_update(self, index, weight, grad, state):
        indices = list(index) if isinstance(index, (list, tuple)) else [index]
        weights = list(weight) if isinstance(index, (list, tuple)) else [weight]
        grads = list(grad) if isinstance(index, (list, tuple)) else [grad]
        states = state if isinstance(index, (list, tuple)) else [state]
        for i, s in zip(indices, states):
            if s is not None and i not in self._py_states:
                self._py_states[i] = s
        self._update(indices, weights, grads)

    # ---- states ----

    def _get_states(self):
        if type(self)._builtin is not None:
            return self._save_states()
        py = {i: _state_to_numpy(s) for i, s in self._py_states.items()}
        return pickle.dumps({"mixnet_optimizer_states": self._save_states(), "python": py})

    def _set_states(self, states):
        if type(self)._builtin is not None:
            self._load_states(states)
            return
        loaded = pickle.loads(states)
        if not isinstance(loaded, dict) or "mixnet_optimizer_states" not in loaded:
            raise ValueError(f"{type(self).__name__}: set_states: not states of a Python "
                             "optimizer saved by get_states")
        self._load_states(loaded["mixnet_optimizer_states"])
        self._py_states = {i: _state_from_numpy(s) for i, s in loaded["python"].items()}

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.lr}, wd={self.wd})"

    # MXNet's static registry interface
    @staticmethod
    def register(klass):
        return register(klass)

    @staticmethod
    def create_optimizer(name, **kwargs):
        return create(name, **kwargs)


_REGISTRY = Registry(Optimizer, "optimizer")
register = _REGISTRY.register
Optimizer.opt_registry = _REGISTRY.classes
_MISSING = object()


def _routed(original):
    """A Python subclass's update: called from C++ (_step, or super().update inside it) it is
    the subclass's own code; called by the user it goes through the C++ optimizer, which
    counts, computes the rate and calls back."""
    def update(self, index, weight, grad, state):
        if self._active is not None:
            return original(self, index, weight, grad, state)
        return self._routed_update(index, weight, grad, state)
    update.__doc__ = original.__doc__
    update.__wrapped__ = original
    return update


def _state_to_numpy(state):
    if isinstance(state, NDArray):
        return ("nd", state.asnumpy())
    if isinstance(state, (list, tuple)):
        return ("seq", type(state) is tuple, [_state_to_numpy(s) for s in state])
    return ("obj", state)


def _state_from_numpy(saved):
    kind = saved[0]
    if kind == "nd":
        return _nd_array(saved[1], dtype=saved[1].dtype)
    if kind == "seq":
        items = [_state_from_numpy(s) for s in saved[2]]
        return tuple(items) if saved[1] else items
    return saved[1]


def create(name, **kwargs):
    """An optimizer by name (case-insensitive), or `name` itself if it is an Optimizer."""
    if isinstance(name, Optimizer):
        if kwargs:
            raise ValueError("create: keyword arguments given with an Optimizer instance")
        return name
    return _REGISTRY.find(name)(**kwargs)


def _builtin(cname, doc):
    def decorate(klass):
        klass._builtin = cname
        klass.__doc__ = doc
        return register(klass)
    return decorate


@_builtin("sgd", """SGD with momentum and weight decay (MXNet's SGD):
    state = momentum * state - lr * (rescale_grad * grad + wd * weight); weight += state
    (weight -= lr * (rescale_grad * grad + wd * weight) when momentum is 0).

    Parameters: momentum=0.0, lazy_update=True, and Optimizer's.""")
class SGD(Optimizer):
    pass


@_builtin("ccsgd", "MXNet's deprecated alias of SGD.")
class ccSGD(Optimizer):
    pass


@_builtin("nag", """Nesterov accelerated gradient. Parameters: momentum=0.0, and Optimizer's.""")
class NAG(Optimizer):
    pass


@_builtin("signum", """Signum (signSGD with momentum). Parameters: learning_rate=0.01,
    momentum=0.9, wd_lh=0.0, and Optimizer's.""")
class Signum(Optimizer):
    pass


@_builtin("adam", """Adam (Kingma and Ba). Parameters: learning_rate=0.001, beta1=0.9,
    beta2=0.999, epsilon=1e-8, lazy_update=True, and Optimizer's.""")
class Adam(Optimizer):
    pass


@_builtin("adamw", """AdamW (decoupled weight decay). Parameters: learning_rate=0.001,
    beta1=0.9, beta2=0.999, epsilon=1e-6, correct_bias=True, and Optimizer's.""")
class AdamW(Optimizer):
    pass


@_builtin("adagrad", """AdaGrad. Parameters: eps=1e-7 (also as epsilon), and Optimizer's.""")
class AdaGrad(Optimizer):
    pass


@_builtin("adadelta", """AdaDelta. Parameters: rho=0.90, epsilon=1e-5, and Optimizer's.""")
class AdaDelta(Optimizer):
    pass


@_builtin("rmsprop", """RMSProp (Tieleman and Hinton; centered: Graves). Parameters:
    learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8, centered=False,
    clip_weights=None, and Optimizer's.""")
class RMSProp(Optimizer):
    pass


@_builtin("ftrl", """FTRL-proximal. Parameters: lamda1=0.01, learning_rate=0.1, beta=1, and
    Optimizer's.""")
class Ftrl(Optimizer):
    pass


@_builtin("adamax", """AdaMax (Adam with the infinity norm). Parameters: learning_rate=0.002,
    beta1=0.9, beta2=0.999, and Optimizer's.""")
class Adamax(Optimizer):
    pass


@_builtin("nadam", """Nadam (Adam with Nesterov momentum). Parameters: learning_rate=0.001,
    beta1=0.9, beta2=0.999, epsilon=1e-8, schedule_decay=0.004, and Optimizer's.""")
class Nadam(Optimizer):
    pass


@_builtin("lamb", """LAMB (layer-wise adaptive moments). Parameters: learning_rate=0.001,
    beta1=0.9, beta2=0.999, epsilon=1e-6, lower_bound=None, upper_bound=None,
    bias_correction=True, and Optimizer's.""")
class LAMB(Optimizer):
    pass


# The C++ registry's other names (signsgd) as classes of their own.
for _name in _core.list_optimizers():
    if _name not in _REGISTRY.classes:
        register(type(_name, (Optimizer,), {"_builtin": _name,
                                            "__doc__": f"The C++ optimizer '{_name}'."}))


class Updater:
    """Applies an optimizer to (index, grad, weight) triples, as MXNet's Updater (the states
    live in the optimizer)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.aggregate_updates = optimizer.aggregate_num > 1

    def __call__(self, index, grad, weight):
        """Updates weight(s) in place; index, grad and weight may be lists."""
        if isinstance(index, (list, tuple)):
            self.optimizer._update(list(index), list(weight), list(grad))
        else:
            self.optimizer._update([index], [weight], [grad])

    def get_states(self, dump_optimizer=False):
        """The states and update counts as bytes (MXNet's .nd list format for a built-in
        optimizer; a pickle for a Python subclass)."""
        if dump_optimizer:
            raise NotImplementedError("Updater.get_states: dump_optimizer=True (pickling the "
                                      "C++ optimizer) is not supported; save its arguments")
        return self.optimizer._get_states()

    def set_states(self, states):
        """Restores get_states() bytes."""
        self.optimizer._set_states(states)


def get_updater(optimizer):
    """An Updater for `optimizer`."""
    return Updater(optimizer)
