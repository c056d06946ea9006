"""mx.lr_scheduler: each schedule against MXNet 1.9's formulas (written out here), against
MXNet itself when its venv is present, warm-up, argument checks, and Python schedules used by
the C++ optimizers."""
import math

import numpy as np
import pytest

import mixnet as mx
from mxnet19_ref import run_mxnet


def _warmup(n, steps, begin, final, mode):
    return begin if mode == "constant" else begin + (final - begin) * n / steps


def test_factor_scheduler_formula():
    s = mx.lr_scheduler.FactorScheduler(step=3, factor=0.5, base_lr=1.0, stop_factor_lr=0.1)
    got = [s(n) for n in range(1, 20)]
    # MXNet: the rate halves each time num_update passes count + step, floored at stop_factor_lr
    expected = [max(1.0 * 0.5 ** ((n - 1) // 3), 0.1) for n in range(1, 20)]
    np.testing.assert_allclose(got, expected)
    assert s.base_lr == pytest.approx(0.1)


def test_factor_scheduler_warmup():
    s = mx.lr_scheduler.FactorScheduler(step=5, factor=0.9, base_lr=0.5, warmup_steps=4,
                                        warmup_begin_lr=0.1, warmup_mode="linear")
    assert [s(n) for n in range(4)] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert s(4) == pytest.approx(0.5)
    c = mx.lr_scheduler.FactorScheduler(step=5, base_lr=0.5, warmup_steps=4,
                                        warmup_begin_lr=0.1, warmup_mode="constant")
    assert [c(n) for n in range(4)] == pytest.approx([0.1] * 4)
    assert (c.warmup_steps, c.warmup_begin_lr, c.warmup_final_lr, c.warmup_mode) == (
        4, 0.1, 0.5, "constant")


def test_multifactor_scheduler_formula():
    s = mx.lr_scheduler.MultiFactorScheduler(step=[3, 7, 10], factor=0.1, base_lr=2.0)
    got = [s(n) for n in range(1, 15)]
    expected = [2.0 * 0.1 ** sum(n > k for k in (3, 7, 10)) for n in range(1, 15)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_poly_scheduler_formula():
    s = mx.lr_scheduler.PolyScheduler(max_update=20, base_lr=0.3, pwr=2, final_lr=0.01,
                                      warmup_steps=5, warmup_begin_lr=0.0)
    for n in range(0, 25):
        if n < 5:
            want = _warmup(n, 5, 0.0, 0.3, "linear")
        else:
            t = min(n, 20)
            want = 0.01 + (0.3 - 0.01) * (1 - (t - 5) / 15.0) ** 2
        assert s(n) == pytest.approx(want), n


def test_cosine_scheduler_formula():
    s = mx.lr_scheduler.CosineScheduler(max_update=30, base_lr=0.2, final_lr=0.02,
                                        warmup_steps=10, warmup_begin_lr=0.05)
    for n in range(0, 35):
        if n < 10:
            want = _warmup(n, 10, 0.05, 0.2, "linear")
        else:
            t = min(n, 30)
            want = 0.02 + (0.2 - 0.02) * (1 + math.cos(math.pi * (t - 10) / 20)) / 2
        assert s(n) == pytest.approx(want), n


def test_argument_checks():
    with pytest.raises(ValueError, match="step"):
        mx.lr_scheduler.FactorScheduler(step=0)
    with pytest.raises(ValueError, match="factor"):
        mx.lr_scheduler.FactorScheduler(step=2, factor=1.5)
    with pytest.raises(ValueError, match="increasing"):
        mx.lr_scheduler.MultiFactorScheduler(step=[5, 3])
    with pytest.raises(ValueError, match="warmup_mode"):
        mx.lr_scheduler.CosineScheduler(10, warmup_mode="cubic")
    with pytest.raises(ValueError, match="warmup_begin_lr"):
        mx.lr_scheduler.PolyScheduler(10, base_lr=0.1, warmup_begin_lr=0.5)


def test_against_mxnet():
    code = """
    import json, mxnet as mx
    out = {}
    s = mx.lr_scheduler.FactorScheduler(step=4, factor=0.7, base_lr=0.9, warmup_steps=3,
                                        warmup_begin_lr=0.1)
    out['factor'] = [s(n) for n in range(30)]
    s = mx.lr_scheduler.MultiFactorScheduler(step=[5, 9, 20], factor=0.3, base_lr=0.4)
    out['multi'] = [s(n) for n in range(30)]
    s = mx.lr_scheduler.PolyScheduler(max_update=25, base_lr=0.5, pwr=3, final_lr=0.05,
                                      warmup_steps=4, warmup_mode='constant',
                                      warmup_begin_lr=0.2)
    out['poly'] = [s(n) for n in range(30)]
    s = mx.lr_scheduler.CosineScheduler(max_update=25, base_lr=0.5, final_lr=0.05,
                                        warmup_steps=6)
    out['cosine'] = [s(n) for n in range(30)]
    print(json.dumps(out))
    """
    ref = run_mxnet(code)
    ls = mx.lr_scheduler
    ours = {
        "factor": ls.FactorScheduler(step=4, factor=0.7, base_lr=0.9, warmup_steps=3,
                                     warmup_begin_lr=0.1),
        "multi": ls.MultiFactorScheduler(step=[5, 9, 20], factor=0.3, base_lr=0.4),
        "poly": ls.PolyScheduler(max_update=25, base_lr=0.5, pwr=3, final_lr=0.05,
                                 warmup_steps=4, warmup_mode="constant", warmup_begin_lr=0.2),
        "cosine": ls.CosineScheduler(max_update=25, base_lr=0.5, final_lr=0.05, warmup_steps=6),
    }
    for name, sched in ours.items():
        np.testing.assert_allclose([sched(n) for n in range(30)], ref[name], rtol=1e-12,
                                   err_msg=name)


class HalvingEveryTwo(mx.lr_scheduler.LRScheduler):
    """A custom schedule: base_lr / 2^(num_update // 2)."""

    def __call__(self, num_update):
        return self.base_lr / 2 ** (num_update // 2)


def test_python_schedule():
    s = HalvingEveryTwo(base_lr=0.8)
    assert [s(n) for n in range(6)] == pytest.approx([0.8, 0.8, 0.4, 0.4, 0.2, 0.2])
    assert isinstance(s, mx.lr_scheduler.LRScheduler)


def test_python_schedule_drives_cpp_optimizer():
    # SGD's C++ update asks the Python schedule for the rate at each num_update.
    opt = mx.optimizer.SGD(learning_rate=1.0, lr_scheduler=HalvingEveryTwo(base_lr=0.3))
    assert opt.lr_scheduler.base_lr == pytest.approx(1.0)  # the optimizer's rate wins
    w = mx.nd.zeros((2,))
    g = mx.nd.ones((2,))
    updater = mx.optimizer.get_updater(opt)
    expected = 0.0
    for n in range(1, 6):
        updater(0, g, w)
        expected -= 1.0 / 2 ** (n // 2)
        np.testing.assert_allclose(w.asnumpy(), [expected] * 2, rtol=1e-6)
    assert opt.num_update == 5


def test_scheduler_rate_kept_without_learning_rate():
    opt = mx.optimizer.SGD(lr_scheduler=mx.lr_scheduler.FactorScheduler(step=10, base_lr=0.25))
    assert opt.learning_rate == pytest.approx(0.25)
    with pytest.raises(ValueError, match="LRScheduler"):
        opt.set_learning_rate(0.1)
