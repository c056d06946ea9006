"""Errors from Python: shape errors at the call, engine errors at the sync point, Ctrl-C
during waits, and the GIL released while waiting."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import mixnet as mx


def test_shape_error_is_mxnet_error_and_value_error_naming_op_and_shapes():
    a, b = mx.nd.ones((2, 3)), mx.nd.ones((4, 5))
    with pytest.raises(mx.base.MXNetError) as e:
        mx.nd.broadcast_add(a, b)
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert "broadcast_add" in msg and "(2, 3)" in msg and "(4, 5)" in msg
    with pytest.raises(ValueError) as e:
        a + b
    assert "(2, 3)" in str(e.value) and "(4, 5)" in str(e.value)
    with pytest.raises(ValueError) as e:
        mx.nd.FullyConnected(mx.nd.ones((2, 3)), mx.nd.ones((4, 5)), mx.nd.ones((4,)),
                             num_hidden=4)
    assert "FullyConnected" in str(e.value)


def test_attribute_errors_are_typed():
    with pytest.raises(mx.base.MXNetError) as e:
        mx.nd.Activation(mx.nd.ones((2,)), act_type="nope")
    assert isinstance(e.value, ValueError) and "Activation" in str(e.value)
    with pytest.raises(TypeError):
        mx.nd.relu(mx.nd.ones((2,)), not_a_param=1)
    with pytest.raises(TypeError):
        mx.nd.relu([1, 2])


def test_engine_error_surfaces_at_sync_points_with_the_op_name():
    data = mx.nd.ones((3, 4))
    bad = mx.nd.array([[0, 7]], dtype="int64")  # 7 is out of range: found when the op runs
    y = mx.nd.gather_nd(data, bad)
    z = y * 2  # depends on the failed op: skipped, carries its error
    with pytest.raises(mx.base.MXNetError) as e:
        z.wait_to_read()
    assert isinstance(e.value, IndexError) and "gather_nd" in str(e.value)
    y2 = mx.nd.gather_nd(data, bad)
    with pytest.raises(IndexError) as e:
        y2.asnumpy()
    assert "gather_nd" in str(e.value)
    mx.nd.gather_nd(data, bad)
    with pytest.raises(IndexError) as e:
        mx.nd.waitall()
    assert "gather_nd" in str(e.value)
    mx.nd.waitall()  # each error is raised once; the engine stays usable
    np.testing.assert_array_equal((data + 1).asnumpy(), np.full((3, 4), 2))


def long_work(n=1200, steps=40):
    """About a second or more of engine work: a chain of n x n matrix products."""
    a = mx.nd.ones((n, n)) / n
    for _ in range(steps):
        a = mx.nd.dot(a, a)
    return a


def interrupt_after(seconds):
    def fire():
        time.sleep(seconds)
        os.kill(os.getpid(), signal.SIGINT)
    t = threading.Thread(target=fire, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("wait", ["waitall", "wait_to_read", "asnumpy"])
def test_ctrl_c_interrupts_a_long_wait_promptly(wait):
    a = long_work()
    t0 = time.perf_counter()
    interrupt_after(0.2)
    with pytest.raises(KeyboardInterrupt):
        if wait == "waitall":
            mx.nd.waitall()
        elif wait == "wait_to_read":
            a.wait_to_read()
        else:
            a.asnumpy()
        pytest.fail("the work finished before the interrupt: make long_work longer")
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.5, f"KeyboardInterrupt took {elapsed:.2f}s"
    # The process stays usable: the work finishes and gives the right values.
    mx.nd.waitall()
    np.testing.assert_allclose(a.asnumpy()[:2, :2], np.full((2, 2), 1 / 1200), rtol=1e-4)
    np.testing.assert_array_equal((mx.nd.ones((2,)) + 1).asnumpy(), [2, 2])


def test_error_found_after_ctrl_c_is_raised_by_the_next_waitall():
    data = mx.nd.ones((3, 4))
    a = long_work(steps=20)
    mx.nd.gather_nd(mx.nd.dot(a, a)[:3, :4], mx.nd.array([[0, 9]], dtype="int64"))
    interrupt_after(0.1)
    with pytest.raises(KeyboardInterrupt):
        mx.nd.waitall()
    with pytest.raises(IndexError):
        mx.nd.waitall()
    mx.nd.waitall()
    assert data.asnumpy().sum() == 12


def python_steps_during(wait):
    """(steps a Python thread counts while `wait()` blocks the main thread, seconds waited)."""
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1
    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.02)
        start = counter[0]
        t0 = time.perf_counter()
        wait()
        return counter[0] - start, time.perf_counter() - t0
    finally:
        stop.set()
        t.join()


@pytest.mark.parametrize("wait", ["wait_to_read", "waitall"])
def test_gil_is_released_while_waiting(wait):
    a = long_work(steps=15)
    during, waited = python_steps_during(a.wait_to_read if wait == "wait_to_read"
                                         else mx.nd.waitall)
    assert waited > 0.1, "the work was too short to tell"
    # A thread blocked on the GIL would be stuck; it counts millions per second when free.
    assert during > 10000, f"the Python thread ran {during} steps in {waited:.2f}s"

