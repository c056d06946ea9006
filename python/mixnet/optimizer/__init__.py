"""Optimizers (mx.optimizer), MXNet 1.x's API on the C++ optimizers."""
from . import optimizer
from .optimizer import (Optimizer, Updater, get_updater, create, register, SGD, NAG, Signum,
                        Adam, AdamW, AdaGrad, AdaDelta, RMSProp, Ftrl, Adamax, Nadam, LAMB,
                        ccSGD)

__all__ = optimizer.__all__
