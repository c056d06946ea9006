"""Callback functions for training loops (mx.callback)."""
import logging
import time

from .model import save_checkpoint

__all__ = ["Speedometer", "ProgressBar", "do_checkpoint", "module_checkpoint",
           "log_train_metric"]


def do_checkpoint(prefix, period=1):
    """A callback that saves a model checkpoint every `period` epochs (for epoch_end_callback).
    The file of epoch i+1 holds the parameters after epoch i, as MXNet."""
    period = int(max(1, period))

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0:
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def module_checkpoint(mod, prefix, period=1, save_optimizer_states=False):
    """Callback to checkpoint Module to prefix every epoch."""
    period = int(max(1, period))

    def _callback(iter_no, sym=None, arg=None, aux=None):
        if (iter_no + 1) % period == 0:
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)
    return _callback


def log_train_metric(period, auto_reset=False):
    """Callback to log the training evaluation result every period."""
    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name,
                             value)
            if auto_reset:
                param.eval_metric.reset()
    return _callback


class Speedometer:
    """Logs training speed and evaluation metrics periodically.

    batch_size : int
    frequent : int (how many batches between calculations)
    auto_reset : bool (reset the evaluation metrics after each log)"""

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        self.batch_size = batch_size
        self.frequent = frequent
        self.init = False
        self.tic = 0
        self.last_count = 0
        self.auto_reset = auto_reset

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:
            self.init = False
        self.last_count = count
        if self.init:
            if count % self.frequent == 0:
                speed = self.frequent * self.batch_size / (time.time() - self.tic)
                if param.eval_metric is not None:
                    name_value = param.eval_metric.get_name_value()
                    if self.auto_reset:
                        reset = getattr(param.eval_metric, "reset_local",
                                        param.eval_metric.reset)
                        reset()
                    msg = "Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec"
                    msg += "\t%s=%f" * len(name_value)
                    logging.info(msg, param.epoch, count - self.frequent, count, speed,
                                 *sum(name_value, ()))
                else:
                    logging.info("Iter[%d] Batch [%d]\tSpeed: %.2f samples/sec", param.epoch,
                                 count, speed)
                self.tic = time.time()
        else:
            self.init = True
            self.tic = time.time()


class ProgressBar:
    """Displays a progress bar, indicating the percentage of batches processed within each
    epoch (a batch_end_callback), with the evaluation metric's current values; drawn by
    mx.viz.ProgressBar (in place on a terminal, a line per tenth of the epoch in a log).

    total : int (total number of batches per epoch)
    length : int (number of characters of the bar)"""

    def __init__(self, total, length=80):
        self.total = total
        self.bar_len = length
        self._bar = None
        self._last = -1

    def __call__(self, param):
        from . import viz
        count = param.nbatch  # 0-based: this call ends batch count + 1
        if self._bar is None or count <= self._last:
            if self._bar is not None:
                self._bar.finish()
            self._bar = viz.ProgressBar(self.total, prefix=f"Epoch[{param.epoch}]",
                                        width=self.bar_len)
        self._last = count
        done = min(count + 1, self.total)
        metrics = param.eval_metric.get_name_value() if param.eval_metric is not None else []
        self._bar.update(done, 0, metrics)  # samples unknown here: no samples/s
        if done == self.total:
            self._bar.finish()
            self._bar = None
            self._last = -1
