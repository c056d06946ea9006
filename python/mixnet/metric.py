"""Evaluation metrics (mx.metric), MXNet 1.x's API on the C++ metrics.

    acc = mx.metric.create("acc")
    acc.update(labels=[label], preds=[pred])
    name, value = acc.get()

A metric accumulates sum_metric and num_inst; get() is their ratio (NaN before any instance).
Built-in metrics also keep global statistics: reset_local() clears the local ones only, and
get_global() reports everything since the last reset(). A custom metric subclasses EvalMetric
and gives update(labels, preds); CustomMetric and np() wrap a function of NumPy arrays.
"""
import numpy

from . import _core
from .registry import Registry
from .ndarray import NDArray

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MCC", "MAE",
           "MSE", "RMSE", "CrossEntropy", "NegativeLogLikelihood", "Perplexity",
           "PearsonCorrelation", "Loss", "CustomMetric", "Torch", "Caffe", "create", "register",
           "alias", "np", "check_label_shapes"]

def create(metric, *args, **kwargs):
    """A metric from a name ('acc', 'ce', 'top_k_accuracy', ...), an EvalMetric (returned as
    is), a function feval(label, pred) (a CustomMetric), or a list of these (a composite)."""
    if callable(metric) and not isinstance(metric, (EvalMetric, type)):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, EvalMetric):
        return metric
    if isinstance(metric, (list, tuple)):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    if not isinstance(metric, str):
        raise TypeError(f"create: expected a name, a metric, a function or a list, got "
                        f"{type(metric).__name__}")
    return _REGISTRY.find(metric)(*args, **kwargs)


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Checks that labels and preds have the same length (or shape, with shape=True); with
    wrap=True single arrays are wrapped in lists."""
    if not shape:
        label_shape, pred_shape = len(labels), len(preds)
    else:
        label_shape, pred_shape = labels.shape, preds.shape
    if label_shape != pred_shape:
        raise ValueError(f"Shape of labels {label_shape} does not match shape of "
                         f"predictions {pred_shape}")
    if wrap:
        if isinstance(labels, (NDArray, numpy.ndarray)):
            labels = [labels]
        if isinstance(preds, (NDArray, numpy.ndarray)):
            preds = [preds]
    return labels, preds


EvalMetric = _core.EvalMetric
_core_init = _core.EvalMetric.__init__
_REGISTRY = Registry(EvalMetric, "metric")
register = _REGISTRY.register
alias = _REGISTRY.alias


def _metric_init(self, name, output_names=None, label_names=None, **kwargs):
    _core_init(self, str(name))
    self.output_names = output_names
    self.label_names = label_names
    self._has_global_stats = kwargs.pop("has_global_stats", False)
    self._kwargs = kwargs
    self.global_sum_metric = 0.0
    self.global_num_inst = 0


def _get_config(self):
    """The arguments that recreate this metric with create(**config)."""
    config = dict(getattr(self, "_kwargs", {}))
    config.update({"metric": type(self).__name__, "name": self.name,
                   "output_names": getattr(self, "output_names", None),
                   "label_names": getattr(self, "label_names", None)})
    return config


def _update_dict(self, label, pred):
    """Updates from dicts name -> NDArray, picking output_names / label_names when set."""
    output_names = getattr(self, "output_names", None)
    label_names = getattr(self, "label_names", None)
    preds = [pred[n] for n in output_names] if output_names is not None else list(pred.values())
    labels = ([label[n] for n in label_names] if label_names is not None
              else list(label.values()))
    self.update(labels, preds)


def _reset_local(self):
    """Resets the local statistics (a Python metric: sum_metric and num_inst)."""
    self.num_inst = 0
    self.sum_metric = 0.0


def _get_global(self):
    """(name, value) over everything since the last reset(); a Python metric without global
    statistics reports get()."""
    if not getattr(self, "_has_global_stats", False):
        return self.get()
    value = (self.global_sum_metric / self.global_num_inst if self.global_num_inst
             else float("nan"))
    return (self.name, value)


def _pairs(result):
    name, value = result
    if not isinstance(name, list):
        name, value = [name], [value]
    return list(zip(name, value))


def _str(self):
    return f"EvalMetric: {dict(self.get_name_value())}"


EvalMetric.__init__ = _metric_init
EvalMetric.get_config = _get_config
EvalMetric.update_dict = _update_dict
EvalMetric.reset_local = _reset_local
EvalMetric.get_global = _get_global
EvalMetric.get_name_value = lambda self: _pairs(self.get())
EvalMetric.get_global_name_value = lambda self: _pairs(self.get_global())
EvalMetric.__str__ = _str


def _builtin(core_cls, default_name, arg_names, doc):
    """A Python class over a C++ metric with MXNet's constructor: its own arguments, then
    name, output_names and label_names."""
    def __init__(self, *args, name=default_name, output_names=None, label_names=None, **kwargs):
        core_cls.__init__(self, *args, **kwargs)
        if name != default_name:
            self.name = name
        self.output_names = output_names
        self.label_names = label_names
        given = dict(zip(arg_names, args))
        given.update(kwargs)
        self._kwargs = given

    klass = type(core_cls.__name__, (core_cls,), {"__init__": __init__, "__doc__": doc,
                                                  "__module__": __name__})
    return register(klass)


Accuracy = alias("acc")(_builtin(
    _core.Accuracy, "accuracy", ("axis",),
    """Fraction of correct predictions; predictions of another shape than the labels are
    argmax'ed on `axis` (default 1)."""))
TopKAccuracy = alias("top_k_accuracy", "top_k_acc")(_builtin(
    _core.TopKAccuracy, None, ("top_k",),
    """Fraction of labels among the top_k (> 1) scores of (batch, classes) predictions."""))
F1 = _builtin(_core.F1, "f1", ("average",),
              """F1 score of binary classification ((batch, 2) scores, class 1 positive);
    average 'macro' averages per-batch scores, 'micro' pools the counts.""")
MCC = _builtin(_core.MCC, "mcc", ("average",),
               """Matthews correlation coefficient of binary classification.""")
MAE = _builtin(_core.MAE, "mae", (), """Mean absolute error (averaged over the arrays).""")
MSE = _builtin(_core.MSE, "mse", (), """Mean squared error (averaged over the arrays).""")
RMSE = _builtin(_core.RMSE, "rmse", (), """Root mean squared error (averaged over the arrays).""")
CrossEntropy = alias("ce")(_builtin(
    _core.CrossEntropy, "cross-entropy", ("eps",),
    """Mean of -log(p[label] + eps) over (batch, classes) probabilities."""))
NegativeLogLikelihood = alias("nll_loss")(_builtin(
    _core.NegativeLogLikelihood, "nll-loss", ("eps",),
    """Negative log-likelihood: -log(p[label] + eps), averaged."""))
Perplexity = _builtin(_core.Perplexity, "perplexity", ("ignore_label",),
                      """exp of the mean -log p[label] over the last axis; samples labelled
    ignore_label do not count.""")
PearsonCorrelation = alias("pearsonr")(_builtin(
    _core.PearsonCorrelation, "pearsonr", ("average",),
    """Pearson correlation of labels and predictions ('macro': per-batch values averaged,
    'micro': all samples pooled)."""))
Loss = _builtin(_core.Loss, "loss", (),
                """Mean of every element of the predictions (labels are ignored).""")


@register
class Torch(Loss):
    """MXNet's alias of Loss, named 'torch'."""

    def __init__(self, name="torch", output_names=None, label_names=None):
        super().__init__(name=name, output_names=output_names, label_names=label_names)


@register
class Caffe(Loss):
    """MXNet's alias of Loss, named 'caffe'."""

    def __init__(self, name="caffe", output_names=None, label_names=None):
        super().__init__(name=name, output_names=output_names, label_names=label_names)


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; get() gives ([names], [values])."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)
        self.metrics = [create(m) for m in (metrics or [])]

    def add(self, metric):
        """Adds a metric (anything create() takes)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The index-th child metric."""
        try:
            return self.metrics[index]
        except IndexError:
            raise ValueError(f"Metric index {index} is out of range 0 and "
                             f"{len(self.metrics)}") from None

    def update_dict(self, labels, preds):
        if self.label_names is not None:
            labels = {n: labels[n] for n in self.label_names}
        if self.output_names is not None:
            preds = {n: preds[n] for n in self.output_names}
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self):
        for metric in self.metrics:
            metric.reset_local()

    def _collect(self, results):
        names, values = [], []
        for name, value in results:
            if isinstance(name, str):
                name, value = [name], [value]
            names.extend(name)
            values.extend(value)
        return (names, values)

    def get(self):
        return self._collect(m.get() for m in self.metrics)

    def get_global(self):
        return self._collect(m.get_global() for m in self.metrics)

    def get_config(self):
        config = super().get_config()
        config.update({"metrics": [m.get_config() for m in self.metrics]})
        return config


@register
class CustomMetric(EvalMetric):
    """A metric from feval(label, pred) on NumPy arrays, returning a value (one instance) or
    (sum_metric, num_inst).

    Parameters
    ----------
    feval : callable(label, pred)
    name : str, optional
        Defaults to feval's name ('custom(<lambda>)' for a lambda).
    allow_extra_outputs : bool, optional
        Allow more predictions than labels (they are ignored).
    """

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None,
                 label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = f"custom({name})"
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs,
                         output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        elif isinstance(labels, NDArray):
            labels, preds = [labels], ([preds] if isinstance(preds, NDArray) else preds)
        for pred, label in zip(preds, labels):
            label = label.asnumpy() if isinstance(label, NDArray) else label
            pred = pred.asnumpy() if isinstance(pred, NDArray) else pred
            reval = self._feval(label, pred)
            if isinstance(reval, tuple):
                sum_metric, num_inst = reval
            else:
                sum_metric, num_inst = reval, 1
            self.sum_metric += sum_metric
            self.global_sum_metric += sum_metric
            self.num_inst += num_inst
            self.global_num_inst += num_inst

    def reset(self):
        super().reset()
        self.global_sum_metric = 0.0
        self.global_num_inst = 0

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """A CustomMetric from a function of NumPy arrays (mx.metric.np)."""
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)
