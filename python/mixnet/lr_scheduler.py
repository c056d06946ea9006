"""Learning-rate schedules (mx.lr_scheduler), MXNet 1.x's API on the C++ schedules.

    sched = mx.lr_scheduler.FactorScheduler(step=100, factor=0.5, base_lr=0.1)
    opt = mx.optimizer.SGD(learning_rate=0.1, lr_scheduler=sched)

Every schedule warms up over its first warmup_steps updates, from warmup_begin_lr towards
base_lr ('linear') or at warmup_begin_lr ('constant'). FactorScheduler and
MultiFactorScheduler decay base_lr in place, so they expect non-decreasing num_update. A custom
schedule subclasses LRScheduler and gives __call__(num_update).
"""
from . import _core

__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler",
           "CosineScheduler"]

LRScheduler = _core.LRScheduler
FactorScheduler = _core.FactorScheduler
MultiFactorScheduler = _core.MultiFactorScheduler
PolyScheduler = _core.PolyScheduler
CosineScheduler = _core.CosineScheduler

LRScheduler.__doc__ = """Base class of learning-rate schedules: subclasses give
__call__(num_update); get_warmup_lr(num_update) is the warm-up rate."""
FactorScheduler.__doc__ = """Multiplies base_lr by `factor` every `step` updates (never below
stop_factor_lr): lr = base_lr * factor^floor((num_update - 1) / step)."""
MultiFactorScheduler.__doc__ = """Multiplies base_lr by `factor` once num_update passes each of
the increasing steps in `step`."""
PolyScheduler.__doc__ = """final_lr + (base_lr - final_lr) * (1 - t / T)^pwr, with t and T
counted after the warm-up (T = max_update - warmup_steps)."""
CosineScheduler.__doc__ = """final_lr + (base_lr - final_lr) * (1 + cos(pi * t / T)) / 2, with
t and T counted after the warm-up (T = max_update - warmup_steps)."""
