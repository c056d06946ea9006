"""Visualization (mx.viz): a training progress bar and training-curve charts written as PNG,
both drawn by mixnet's C++ viz layer (mixnet/viz/), the same code the C++ programs use.

    bar = mx.viz.ProgressBar(num_batches, prefix="epoch 1/10")
    for i, (data, label) in enumerate(loader, 1):
        ...
        bar.update(i, i * batch_size, {"loss": loss, "acc": acc})
    bar.finish()

    mx.viz.plot_curves("curves.png", {"loss": {"train loss": losses},
                                      "accuracy": {"train acc": train_acc,
                                                   "test acc": test_acc}})
"""
import sys

import numpy as np

from . import _core

__all__ = ["ProgressBar", "plot_curves", "render_curves", "eta_seconds", "format_duration"]

_viz = _core.viz
eta_seconds = _viz.eta_seconds
format_duration = _viz.format_duration


class ProgressBar:
    """A progress bar over `total` items (batches): items done, named running values,
    samples/s and the ETA.

    On a terminal the line is redrawn in place with '\\r' (at most every `min_redraw_s`
    seconds); otherwise (a log file, a pipe, CI) a plain line is written each time another
    `every` fraction of the total is done, about ten lines per bar.

    Parameters
    ----------
    total : int
        Number of items (>= 1).
    prefix : str
        Text before the bar, e.g. 'epoch 1/10'.
    width : int, default 30
        Cells of the bar on a terminal.
    file : file object, default sys.stdout (as it is at construction)
    tty : bool, default None
        Redraw in place; None: file.isatty().
    every : float, default 0.1
    min_redraw_s : float, default 0.1
    """

    def __init__(self, total, prefix="", width=30, file=None, tty=None, every=0.1,
                 min_redraw_s=0.1):
        file = sys.stdout if file is None else file
        if tty is None:
            isatty = getattr(file, "isatty", None)
            tty = bool(isatty()) if isatty is not None else False

        def write(text):
            file.write(text)
            file.flush()

        self._bar = _viz.ProgressBar(int(total), str(prefix), int(width), bool(tty),
                                     float(every), float(min_redraw_s), write)

    def update(self, done, samples=None, metrics=None):
        """Reports `done` items and `samples` processed so far (default: done); `metrics` is a
        dict (or pairs) of name -> value shown after the count."""
        items = list(metrics.items()) if isinstance(metrics, dict) else list(metrics or [])
        self._bar.update(int(done), int(done if samples is None else samples),
                         [(str(k), float(v)) for k, v in items])

    def finish(self):
        """Draws the last state if needed and ends the line."""
        self._bar.finish()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.finish()

    @property
    def total(self):
        return self._bar.total

    @property
    def tty(self):
        return self._bar.tty

    @property
    def elapsed(self):
        """Seconds since the bar was made."""
        return self._bar.elapsed


def _panels(curves, xlabel, ylabels, x):
    if not isinstance(curves, dict) or not curves:
        raise ValueError("plot_curves: curves must be a non-empty dict of panel title -> "
                         "{series label: values}")
    ylabels = ylabels or {}
    panels = []
    for title, series in curves.items():
        if not isinstance(series, dict):
            raise TypeError(f"plot_curves: panel '{title}' must be a dict of series label -> "
                            f"values, got {type(series).__name__}")
        items = []
        for label, values in series.items():
            y = [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]
            xs = [] if x is None else [float(v) for v in x]
            items.append((str(label), y, xs))
        panels.append((str(title), str(xlabel), str(ylabels.get(title, "")), items))
    return panels


def render_curves(curves, title="", xlabel="epoch", ylabels=None, x=None, width=1200,
                  height=480, text_scale=2):
    """The chart plot_curves writes, as an (height, width, 3) uint8 RGB NumPy array."""
    data, h, w = _viz.render_line_chart(_panels(curves, xlabel, ylabels, x), int(width),
                                        int(height), str(title), int(text_scale))
    return np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)


def plot_curves(path, curves, title="", xlabel="epoch", ylabels=None, x=None, width=1200,
                height=480, text_scale=2):
    """Writes line charts of training curves to `path` as PNG: one panel per entry of
    `curves` (panel title -> {series label: values}), side by side, each with axes, tick
    labels, a grid and a legend; series are coloured in order across the panels.

    Parameters
    ----------
    path : str
    curves : dict
        e.g. {'loss': {'train loss': [...]}, 'accuracy': {'train acc': [...],
        'test acc': [...]}}.
    title : str
        Text above the panels.
    xlabel : str, default 'epoch'
    ylabels : dict, optional
        Panel title -> y-axis label.
    x : sequence of float, optional
        x of the points (default 1, 2, ..., n); every series then has len(x) values.
    width, height : int
        Image size in pixels.
    text_scale : int
        Pixels per font pixel (the font is 5x7).
    """
    _viz.save_line_chart(str(path), _panels(curves, xlabel, ylabels, x), int(width), int(height),
                         str(title), int(text_scale))
