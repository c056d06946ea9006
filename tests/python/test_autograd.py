"""mx.autograd: flags, scopes, gradients against analytic values, grad(), Function."""
import numpy as np
import pytest

import mixnet as mx
from mixnet import autograd


def test_flags_and_scopes():
    assert not autograd.is_recording() and not autograd.is_training()
    with autograd.record():
        assert autograd.is_recording() and autograd.is_training()
        with autograd.pause():
            assert not autograd.is_recording() and not autograd.is_training()
        with autograd.predict_mode():
            assert autograd.is_recording() and not autograd.is_training()
        assert autograd.is_training()
    with autograd.record(train_mode=False):
        assert autograd.is_recording() and not autograd.is_training()
    with autograd.train_mode():
        assert autograd.is_training() and not autograd.is_recording()
    assert not autograd.is_recording() and not autograd.is_training()
    assert autograd.set_recording(True) is False
    assert autograd.set_recording(False) is True


def test_backward_matches_analytic():
    xn = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
    x = mx.nd.array(xn)
    x.attach_grad()
    assert x.grad is not None and np.all(x.grad.asnumpy() == 0)
    with autograd.record():
        y = mx.nd.sum(mx.nd.exp(x) * x + 3 * x * x)
    y.backward()
    expect = np.exp(xn) * (1 + xn) + 6 * xn
    np.testing.assert_allclose(x.grad.asnumpy(), expect, rtol=1e-5)


def test_head_grads_retain_graph_and_grad_req_add():
    x = mx.nd.array([1.0, 2.0, 3.0])
    x.attach_grad(grad_req="add")
    with autograd.record():
        y = x * x
    y.backward(mx.nd.array([1.0, 10.0, 100.0]), retain_graph=True)
    y.backward(mx.nd.array([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(x.grad.asnumpy(), [2 * 1 + 2, 4 * 10 + 4, 6 * 100 + 6])
    with pytest.raises(mx.MXNetError):
        y.backward()  # the tape was freed


def test_module_backward_several_heads():
    a = mx.nd.array([1.0, 2.0])
    b = mx.nd.array([3.0, 4.0])
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        u = a * b
        v = a + b
    autograd.backward([u, v], [None, mx.nd.array([2.0, 2.0])])
    np.testing.assert_allclose(a.grad.asnumpy(), [3 + 2, 4 + 2])
    np.testing.assert_allclose(b.grad.asnumpy(), [1 + 2, 2 + 2])


def test_grad_and_higher_order():
    x = mx.nd.array([0.5, 1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = x * x * x
        dy = autograd.grad(y, x, create_graph=True)
        z = mx.nd.sum(dy)
    np.testing.assert_allclose(dy.asnumpy(), 3 * np.array([0.5, 1.0, 2.0]) ** 2, rtol=1e-6)
    assert np.all(x.grad.asnumpy() == 0)  # grad() leaves the buffer alone
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * np.array([0.5, 1.0, 2.0]), rtol=1e-6)


def test_mark_variables_and_detach():
    x = mx.nd.array([1.0, 2.0])
    g = mx.nd.zeros((2,))
    autograd.mark_variables([x], [g])
    with autograd.record():
        y = x * 2 + x.detach() * 100
    y.backward()
    np.testing.assert_allclose(g.asnumpy(), [2.0, 2.0])
    np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 2.0])
    assert mx.nd.array([1.0]).grad is None


def test_errors_are_mxnet_errors():
    x = mx.nd.array([1.0])
    with pytest.raises(ValueError):
        x.attach_grad(grad_req="sometimes")
    y = x * 2
    with pytest.raises(mx.MXNetError):
        y.backward()  # not recorded


def test_custom_function():
    class Sigmoid(autograd.Function):
        def forward(self, x):
            assert not autograd.is_recording()
            y = 1 / (1 + mx.nd.exp(-x))
            self.save_for_backward(y)
            return y

        def backward(self, dy):
            (y,) = self.saved_tensors
            return dy * y * (1 - y) * 10  # scaled, to see it is this backward that ran

    xn = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    x = mx.nd.array(xn)
    x.attach_grad()
    f = Sigmoid()
    with autograd.record():
        y = f(x)
        z = y * 2
    z.backward()
    s = 1 / (1 + np.exp(-xn))
    np.testing.assert_allclose(y.asnumpy(), s, rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * s * (1 - s) * 10, rtol=1e-5)
    with pytest.raises(RuntimeError):
        f(x)


def test_custom_function_two_outputs():
    class SplitScale(autograd.Function):
        def forward(self, x, w):
            return x * 2, x * w

        def backward(self, da, db):
            return da * 2, None

    x = mx.nd.array([1.0, 2.0])
    w = mx.nd.array([5.0, 7.0])
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        a, b = SplitScale()(x, w)
    a.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [2.0, 2.0])
    np.testing.assert_allclose(w.grad.asnumpy(), [0.0, 0.0])
