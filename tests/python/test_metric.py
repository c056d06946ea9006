"""mx.metric: each metric against hand-computed values and MXNet 1.9.1 itself, create(),
composites, local/global statistics, CustomMetric / np(), and Python EvalMetric subclasses
seen through the C++ base (as Module.fit calls them)."""
import json
import math

import numpy as np
import pytest

import mixnet as mx
from mxnet19_ref import run_mxnet

nd = mx.nd


def _update(metric, labels, preds):
    metric.update([nd.array(l) for l in labels], [nd.array(p) for p in preds])
    return metric.get()


def test_accuracy():
    acc = mx.metric.Accuracy()
    assert acc.name == "accuracy"
    assert math.isnan(acc.get()[1])
    preds = np.array([[0.3, 0.7], [0.9, 0.1], [0.4, 0.6]])
    name, value = _update(acc, [np.array([1, 1, 1])], [preds])
    assert (name, value) == ("accuracy", pytest.approx(2 / 3))
    _update(acc, [np.array([0, 1])], [np.array([0, 1])])  # class ids as predictions
    assert acc.get()[1] == pytest.approx(4 / 5)
    assert (acc.sum_metric, acc.num_inst) == (4, 5)
    acc.reset()
    assert acc.num_inst == 0
    acc0 = mx.metric.Accuracy(axis=0, name="acc0")
    assert _update(acc0, [np.array([1, 0])], [np.array([[0.1, 0.9], [0.8, 0.2]])]) == (
        "acc0", 1.0)


def test_top_k_accuracy():
    m = mx.metric.TopKAccuracy(top_k=2)
    assert m.name == "top_k_accuracy_2"
    preds = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]])
    labels = np.array([2, 2, 0, 1])  # in top 2: yes, no, (0.3 ties with 0.3), yes
    value = _update(m, [labels], [preds])[1]
    assert value in (pytest.approx(2 / 4), pytest.approx(3 / 4))
    with pytest.raises(ValueError):
        mx.metric.TopKAccuracy(top_k=1)


def _binary_preds(classes):
    return np.stack([1 - np.asarray(classes, float), np.asarray(classes, float)], axis=1)


def test_f1_and_mcc_by_hand():
    labels1, pred1 = [1, 0, 1, 1, 0], [1, 1, 0, 1, 0]  # tp 2, fp 1, fn 1, tn 1
    labels2, pred2 = [0, 0, 1, 0], [1, 0, 1, 1]        # tp 1, fp 2, fn 0, tn 1
    f1_1 = 2 * (2 / 3) * (2 / 3) / (4 / 3)
    f1_2 = 2 * (1 / 3) * 1 / (4 / 3)
    macro = mx.metric.F1()
    _update(macro, [labels1], [_binary_preds(pred1)])
    _update(macro, [labels2], [_binary_preds(pred2)])
    assert macro.get() == ("f1", pytest.approx((f1_1 + f1_2) / 2))
    micro = mx.metric.create("f1", average="micro")
    _update(micro, [labels1], [_binary_preds(pred1)])
    _update(micro, [labels2], [_binary_preds(pred2)])
    p, r = 3 / 6, 3 / 4
    assert micro.get()[1] == pytest.approx(2 * p * r / (p + r))

    mcc = mx.metric.MCC()
    _update(mcc, [labels1], [_binary_preds(pred1)])
    tp, fp, fn, tn = 2, 1, 1, 1
    want = (tp * tn - fp * fn) / math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert mcc.get() == ("mcc", pytest.approx(want))


def test_regression_by_hand():
    l1, p1 = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])
    l2, p2 = np.array([0.0, 4.0]), np.array([1.0, 1.0])
    for name, per_array in [("mae", lambda l, p: np.abs(l - p).mean()),
                            ("mse", lambda l, p: ((l - p) ** 2).mean()),
                            ("rmse", lambda l, p: np.sqrt(((l - p) ** 2).mean()))]:
        m = mx.metric.create(name)
        _update(m, [l1, l2], [p1, p2])
        # MXNet 1.x: the per-array error averaged over arrays
        assert m.get() == (name, pytest.approx((per_array(l1, p1) + per_array(l2, p2)) / 2))


def test_cross_entropy_nll_perplexity_by_hand():
    probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    labels = np.array([1, 0, 0])
    nll = -(math.log(0.8) + math.log(0.6) + math.log(0.5)) / 3
    ce = mx.metric.create("ce")
    assert _update(ce, [labels], [probs]) == ("cross-entropy", pytest.approx(nll))
    assert _update(mx.metric.NegativeLogLikelihood(), [labels], [probs]) == (
        "nll-loss", pytest.approx(nll))
    assert _update(mx.metric.Perplexity(ignore_label=None), [labels], [probs]) == (
        "perplexity", pytest.approx(math.exp(nll)))
    ignoring = mx.metric.Perplexity(ignore_label=0)  # only the first sample counts
    assert _update(ignoring, [labels], [probs])[1] == pytest.approx(1 / 0.8)


def test_pearson_and_loss_by_hand():
    l1, p1 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 5.0])
    l2, p2 = np.array([2.0, 0.0, 1.0]), np.array([1.0, 0.5, 0.0])
    macro = mx.metric.PearsonCorrelation()
    _update(macro, [l1], [p1])
    _update(macro, [l2], [p2])
    r1, r2 = np.corrcoef(l1, p1)[0, 1], np.corrcoef(l2, p2)[0, 1]
    assert macro.get() == ("pearsonr", pytest.approx((r1 + r2) / 2))
    micro = mx.metric.PearsonCorrelation(average="micro")
    _update(micro, [l1], [p1])
    _update(micro, [l2], [p2])
    want = np.corrcoef(np.concatenate([l1, l2]), np.concatenate([p1, p2]))[0, 1]
    assert micro.get()[1] == pytest.approx(want)

    loss = mx.metric.Loss()
    _update(loss, [], [np.array([[1.0, 2.0], [3.0, 6.0]])])
    assert loss.get() == ("loss", 3.0)
    loss.update(None, mx.nd.array([5.0, 7.0]))  # MXNet's idiom: the labels are ignored
    assert loss.get() == ("loss", 4.0)
    assert mx.metric.create("torch").name == "torch"


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        _update(mx.metric.MSE(), [np.ones(3)], [np.ones(4)])
    with pytest.raises(TypeError):
        mx.metric.Accuracy().update([np.ones(3)], [np.ones(3)])


def test_create_and_composite():
    assert isinstance(mx.metric.create("acc"), mx.metric.Accuracy)
    assert isinstance(mx.metric.create("top_k_accuracy", top_k=3), mx.metric.TopKAccuracy)
    with pytest.raises(ValueError, match="nosuch"):
        mx.metric.create("nosuch")
    comp = mx.metric.create(["acc", "mse"])
    assert isinstance(comp, mx.metric.CompositeEvalMetric)
    assert isinstance(comp, mx.metric.EvalMetric)
    comp.add(mx.metric.MAE())
    labels, preds = [np.array([1.0, 0.0])], [np.array([[0.2, 0.8], [0.6, 0.4]])]
    comp.update([nd.array(l) for l in labels], [nd.array(p) for p in preds])
    names, values = comp.get()
    assert names == ["accuracy", "mse", "mae"]
    assert values[0] == 1.0
    assert comp.get_metric(2).name == "mae"
    with pytest.raises(ValueError, match="out of range"):
        comp.get_metric(5)
    assert dict(comp.get_name_value())["accuracy"] == 1.0


def test_local_and_global():
    acc = mx.metric.Accuracy()
    _update(acc, [np.array([1, 1])], [np.array([[0.1, 0.9], [0.9, 0.1]])])
    acc.reset_local()
    assert math.isnan(acc.get()[1])
    _update(acc, [np.array([1])], [np.array([[0.1, 0.9]])])
    assert acc.get()[1] == 1.0
    assert acc.get_global() == ("accuracy", pytest.approx(2 / 3))
    assert acc.get_global_name_value() == [("accuracy", pytest.approx(2 / 3))]
    acc.reset()
    assert math.isnan(acc.get_global()[1])


def test_update_dict():
    acc = mx.metric.Accuracy(output_names=["out"], label_names=["lab"])
    acc.update_dict({"lab": nd.array([1, 0]), "other": nd.array([0, 0])},
                    {"out": nd.array([[0.2, 0.8], [0.3, 0.7]]), "x": nd.array([[1.0, 0.0]])})
    assert acc.get()[1] == 0.5


def test_custom_metric_and_np():
    def close_enough(label, pred):
        return float(np.sum(np.abs(label - pred) < 0.5)), label.size

    m = mx.metric.create(close_enough)
    assert isinstance(m, mx.metric.CustomMetric)
    assert m.name == "close_enough"
    _update(m, [np.array([1.0, 2.0, 3.0])], [np.array([1.2, 2.9, 3.1])])
    assert m.get() == ("close_enough", pytest.approx(2 / 3))
    m.reset_local()
    _update(m, [np.array([0.0])], [np.array([0.1])])
    assert m.get()[1] == 1.0
    assert m.get_global()[1] == pytest.approx(3 / 4)

    mae = mx.metric.np(lambda label, pred: np.abs(label - pred).mean())
    assert mae.name == "custom(<lambda>)"
    _update(mae, [np.array([1.0, 3.0]), np.array([0.0])], [np.array([2.0, 3.0]),
                                                           np.array([4.0])])
    assert mae.get()[1] == pytest.approx((0.5 + 4.0) / 2)
    with pytest.raises(ValueError):
        _update(mae, [np.array([1.0])], [np.array([1.0]), np.array([2.0])])
    extra = mx.metric.np(lambda label, pred: 1.0, name="one", allow_extra_outputs=True)
    _update(extra, [np.array([1.0])], [np.array([1.0]), np.array([2.0])])
    assert extra.get() == ("one", 1.0)


class SumAbsError(mx.metric.EvalMetric):
    """A Python metric as MXNet users write them."""

    def __init__(self):
        super().__init__("sum_abs_error")

    def update(self, labels, preds):
        for label, pred in zip(labels, preds):
            self.sum_metric += float(np.abs(label.asnumpy() - pred.asnumpy()).sum())
            self.num_inst += label.shape[0]


class Reporting(SumAbsError):
    def get(self):
        return (["sae", "count"], [self.sum_metric, float(self.num_inst)])


def test_python_subclass():
    m = SumAbsError()
    assert isinstance(m, mx.metric.EvalMetric)
    m.update([nd.array([1.0, 2.0])], [nd.array([1.5, 0.0])])
    assert m.get() == ("sum_abs_error", pytest.approx(2.5 / 2))
    assert m.get_global() == m.get()  # no global statistics of its own
    m.reset()
    assert m.num_inst == 0 and m.sum_metric == 0


def test_python_subclass_through_cpp_base():
    # What C++ callers (Module.fit, Module.score) do: call the virtuals of metric::EvalMetric.
    base = mx._core.EvalMetric
    m = SumAbsError()
    base.update(m, [nd.array([1.0, 2.0])], [nd.array([0.0, 0.0])])
    assert base.get(m) == ("sum_abs_error", pytest.approx(1.5))
    r = Reporting()
    base.update(r, [nd.array([1.0])], [nd.array([3.0])])
    assert base.get(r) == (["sae", "count"], [2.0, 1.0])
    comp = mx.metric.CompositeEvalMetric([SumAbsError(), "mae"])
    base.update(comp, [nd.array([1.0, 2.0])], [nd.array([1.0, 0.0])])
    assert base.get(comp) == (["sum_abs_error", "mae"], [pytest.approx(1.0), pytest.approx(1.0)])
    base.reset(comp)
    assert math.isnan(comp.get()[1][1])


def test_register_custom_class():
    @mx.metric.register
    class AlwaysOne(mx.metric.EvalMetric):
        def __init__(self):
            super().__init__("always_one")

        def update(self, labels, preds):
            self.sum_metric += 1
            self.num_inst += 1

    m = mx.metric.create("alwaysone")
    m.update([], [])
    assert m.get() == ("always_one", 1.0)


def test_against_mxnet():
    rng = np.random.RandomState(3)
    probs = [rng.dirichlet(np.ones(4), size=6) for _ in range(2)]
    labels = [rng.randint(0, 4, size=6).astype(np.float32) for _ in range(2)]
    bin_probs = [rng.dirichlet(np.ones(2), size=8) for _ in range(2)]
    bin_labels = [rng.randint(0, 2, size=8).astype(np.float32) for _ in range(2)]
    reg_labels = [rng.randn(5) for _ in range(2)]
    reg_preds = [rng.randn(5) for _ in range(2)]
    cases = [
        ("acc", {}, "cls"), ("top_k_accuracy", {"top_k": 3}, "cls"), ("ce", {}, "cls"),
        ("nll_loss", {}, "cls"), ("perplexity", {"ignore_label": 2}, "cls"),
        ("f1", {}, "bin"), ("f1", {"average": "micro"}, "bin"), ("mcc", {}, "bin"),
        ("mcc", {"average": "micro"}, "bin"), ("mae", {}, "reg"), ("mse", {}, "reg"),
        ("rmse", {}, "reg"), ("pearsonr", {}, "reg"), ("pearsonr", {"average": "micro"}, "reg"),
        ("loss", {}, "reg"),
    ]
    data = {"cls": (labels, probs), "bin": (bin_labels, bin_probs),
            "reg": (reg_labels, reg_preds)}
    payload = {k: ([x.tolist() for x in v[0]], [x.tolist() for x in v[1]])
               for k, v in data.items()}
    code = f"""
    import json, mxnet as mx
    data = json.loads('{json.dumps(payload)}')
    cases = json.loads('{json.dumps(cases)}')
    out = []
    for name, kw, kind in cases:
        m = mx.metric.create(name, **kw)
        ls, ps = data[kind]
        for l, p in zip(ls, ps):
            m.update([mx.nd.array(l)], [mx.nd.array(p)])
        out.append(m.get())
    print(json.dumps(out))
    """
    ref = run_mxnet(code)
    for (name, kwargs, kind), (ref_name, ref_value) in zip(cases, ref):
        m = mx.metric.create(name, **kwargs)
        ls, ps = data[kind]
        for l, p in zip(ls, ps):
            m.update([nd.array(l)], [nd.array(p)])
        got_name, got_value = m.get()
        assert got_name == ref_name
        assert got_value == pytest.approx(ref_value, rel=1e-5, abs=1e-6), (name, kwargs)
