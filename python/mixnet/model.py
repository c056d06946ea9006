"""Checkpoints and the callback parameter of training loops (mx.model)."""
import logging
from collections import namedtuple

from . import _core

__all__ = ["BatchEndParam", "save_checkpoint", "load_checkpoint"]

BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])


class _MetricSnapshot:
    """What a batch-end callback sees as eval_metric when the metric is a C++ one without a
    Python class (mx.metric not loaded): its values at that batch. reset() does nothing."""

    def __init__(self, name_values):
        self._name_values = list(name_values)

    def get(self):
        names = [n for n, _ in self._name_values]
        values = [v for _, v in self._name_values]
        return (names[0], values[0]) if len(names) == 1 else (names, values)

    def get_name_value(self):
        return list(self._name_values)

    def reset(self):
        pass

    reset_local = reset


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Checkpoint the model data into file: ``prefix-symbol.json`` and ``prefix-%04d.params``
    (parameters named ``arg:NAME`` and ``aux:NAME``, MXNet's format)."""
    _core.module.save_checkpoint(prefix, epoch, symbol, arg_params, aux_params)
    logging.info('Saved checkpoint to "%s"', "%s-%04d.params" % (prefix, epoch))


def load_checkpoint(prefix, epoch):
    """Load model checkpoint from file. Returns (symbol, arg_params, aux_params)."""
    return _core.module.load_checkpoint(prefix, epoch)
