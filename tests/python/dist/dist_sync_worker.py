"""One worker of the dist_sync tests (tests/python/test_dist_sync.py), started by the launcher:

    python -m mixnet.tools.launch -n 2 python dist_sync_worker.py SCENARIO

Each scenario checks its results itself and prints "OK <scenario> rank <r>" on success.
"""
import os
import signal
import sys
import time

import numpy as np

import mixnet as mx
from mixnet import autograd, gluon


def scenario_semantics():
    kv = mx.kv.create("dist_sync")
    r, n = kv.rank, kv.num_workers
    assert r == int(os.environ["DMLC_WORKER_ID"]) and n == int(os.environ["DMLC_NUM_WORKER"])
    shape = (2, 3)
    # init takes rank 0's value on every worker
    kv.init(3, mx.nd.ones(shape) * (r + 10))
    out = mx.nd.zeros(shape)
    kv.pull(3, out=out)
    assert (out.asnumpy() == 10).all(), out.asnumpy()
    # push sums over the workers; without an optimizer the store becomes the sum
    total = n * (n + 1) / 2
    kv.push(3, mx.nd.ones(shape) * (r + 1))
    kv.pull(3, out=out)
    assert (out.asnumpy() == total).all(), out.asnumpy()
    # pushpull, several keys at once, string keys
    kv.init(["a", "b"], [mx.nd.zeros((4,)), mx.nd.zeros((5, 2))])
    va, vb = mx.nd.ones((4,)) * (r + 1), mx.nd.ones((5, 2)) * 2 * (r + 1)
    kv.pushpull(["a", "b"], [va, vb], out=[va, vb])
    assert (va.asnumpy() == total).all() and (vb.asnumpy() == 2 * total).all()
    # pushpull into other arrays, several outputs: the pushed value is left alone and the store
    # keeps the sum for later pulls
    src, o1, o2 = mx.nd.ones(shape) * (r + 1), mx.nd.zeros(shape), mx.nd.zeros(shape)
    kv.pushpull(3, src, out=[o1, o2])
    assert (o1.asnumpy() == total).all() and (o2.asnumpy() == total).all()
    assert (src.asnumpy() == r + 1).all(), src.asnumpy()
    kv.pull(3, out=out)
    assert (out.asnumpy() == total).all(), out.asnumpy()
    # repeated in-place pushpull without waiting: each round sums the previous round's result
    g = mx.nd.ones(shape) * (r + 1)
    for _ in range(3):
        kv.pushpull(3, g, out=g)
    assert (g.asnumpy() == total * n ** 2).all(), g.asnumpy()
    kv.pull(3, out=out)
    assert (out.asnumpy() == total * n ** 2).all(), out.asnumpy()
    # the devices of a worker are summed first (dist_device_sync is the same store)
    kvd = mx.kv.create("dist_device_sync")
    kvd.init(0, mx.nd.zeros(shape))
    outs = [mx.nd.zeros(shape, ctx=mx.cpu(0)), mx.nd.zeros(shape, ctx=mx.cpu(1))]
    kvd.push(0, [mx.nd.ones(shape, ctx=mx.cpu(0)) * (r + 1),
                 mx.nd.ones(shape, ctx=mx.cpu(1)) * (r + 1)])
    kvd.pull(0, out=outs)
    for o in outs:
        assert (o.asnumpy() == 2 * total).all(), o.asnumpy()
    gs = [mx.nd.ones(shape, ctx=mx.cpu(0)) * (r + 1), mx.nd.ones(shape, ctx=mx.cpu(1)) * (r + 1)]
    kvd.pushpull(0, gs, out=gs)
    for gd in gs:
        assert (gd.asnumpy() == 2 * total).all(), gd.asnumpy()
    # an optimizer on the store: every worker applies the same update to the same sum
    kvo = mx.kv.create("dist_sync")
    kvo.set_optimizer(mx.optimizer.SGD(learning_rate=0.5))
    w0 = np.arange(6, dtype=np.float32).reshape(shape)
    kvo.init("w", mx.nd.array(w0 + r))  # rank 0's value wins
    for step in range(3):
        kvo.push("w", mx.nd.ones(shape) * (r + 1) * (step + 1))
    w = mx.nd.zeros(shape)
    kvo.pull("w", out=w)
    expect = w0 - 0.5 * total * (1 + 2 + 3)
    np.testing.assert_allclose(w.asnumpy(), expect, rtol=0, atol=1e-6)
    kvo.barrier()
    kv.barrier()


def _net(seed):
    mx.random.seed(seed)
    net = gluon.nn.Sequential()
    net.add(gluon.nn.Dense(16, activation="relu", in_units=10), gluon.nn.Dense(4, in_units=16))
    net.initialize(mx.init.Xavier())
    return net


def _train(net, trainer, batches, part):
    loss_fn = gluon.loss.L2Loss()
    for x, y in batches:
        x, y = part(x), part(y)
        with autograd.record():
            loss = loss_fn(net(mx.nd.array(x)), mx.nd.array(y))
        loss.backward()
        trainer.step(len(batches[0][0]))  # the global batch: the workers' gradients are summed


def scenario_train():
    """dist_sync training == single-process training on the same global batches."""
    rs = np.random.RandomState(1)
    batches = [(rs.randn(8, 10).astype(np.float32), rs.randn(8, 4).astype(np.float32))
               for _ in range(4)]
    for update_on_kvstore in (False, True):
        kv = mx.kv.create("dist_sync")
        r, n = kv.rank, kv.num_workers
        # Sharding: worker r takes rows [r*B/n, (r+1)*B/n) of each global batch of B rows.
        per = len(batches[0][0]) // n
        net = _net(seed=7 + r)  # different local inits: the store's init (rank 0's) must win
        trainer = gluon.Trainer(net.collect_params(), "sgd",
                                {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3},
                                kvstore=kv, update_on_kvstore=update_on_kvstore)
        _train(net, trainer, batches, lambda a: a[r * per:(r + 1) * per])
        ref = _net(seed=7)  # rank 0's init
        ref_trainer = gluon.Trainer(ref.collect_params(), "sgd",
                                    {"learning_rate": 0.1, "momentum": 0.9, "wd": 1e-3},
                                    kvstore=None)
        _train(ref, ref_trainer, batches, lambda a: a)
        for (name, p), q in zip(net.collect_params().items(), ref.collect_params().values()):
            np.testing.assert_allclose(p.data().asnumpy(), q.data().asnumpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=f"{name} update_on_kvstore="
                                                          f"{update_on_kvstore}")
        kv.barrier()
    # MNISTIter's num_parts/part_index: the workers read disjoint parts covering the set.
    path = "/usr/share/datasets/fashion-mnist/t10k-%s-idx%d-ubyte.gz"
    if os.path.exists(path % ("images", 3)):
        it = mx.io.MNISTIter(image=path % ("images", 3), label=path % ("labels", 1),
                             batch_size=100, shuffle=False, flat=True, num_parts=n,
                             part_index=r)
        count = sum(b.data[0].shape[0] - b.pad for b in it)
        kvc = mx.kv.create("dist_sync")  # no optimizer: the store becomes the sum
        kvc.init(0, mx.nd.zeros((1,)))
        c = mx.nd.array([count])
        kvc.pushpull(0, c, out=c)
        assert c.asnumpy()[0] == 10000, (count, c.asnumpy())


def _quantize(grad, residual, t):
    """MXNet's 2-bit rule (NOTE [ 2-bit compression ]): what the servers receive."""
    residual += grad
    sent = np.where(residual >= t, t, np.where(residual <= -t, -t, 0)).astype(np.float32)
    residual -= sent
    return sent


def scenario_compress():
    """2-bit compression between workers, bit-exact against MXNet's rule in NumPy."""
    kv = mx.kv.create("dist_sync")
    r, n = kv.rank, kv.num_workers
    t = 0.5
    kv.set_gradient_compression({"type": "2bit", "threshold": t})
    shape = (7, 9)  # 63 elements: a partial last word
    kv.init(0, mx.nd.zeros(shape))
    residuals = [np.zeros(shape, np.float32) for _ in range(n)]
    out = mx.nd.zeros(shape)
    for step in range(5):
        grads = [np.random.RandomState(100 * step + w).uniform(-1, 1, shape).astype(np.float32)
                 for w in range(n)]
        kv.push(0, mx.nd.array(grads[r]))
        kv.pull(0, out=out)
        expect = np.zeros(shape, np.float32)
        for w in range(n):  # the sum over workers in rank order
            expect += _quantize(grads[w], residuals[w], np.float32(t))
        got = out.asnumpy()
        assert got.tobytes() == expect.tobytes(), (step, got, expect)
    kv.barrier()


def scenario_uneven():
    """Workers with different batch counts finish; the one that stops first keeps applying the
    others' updates, so all hold the same weights."""
    kv = mx.kv.create("dist_sync")
    r, n = kv.rank, kv.num_workers
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=1.0))
    kv.init(0, mx.nd.zeros((3,)))
    steps = [2 + 3 * w for w in range(n)]
    for _ in range(steps[r]):
        kv.push(0, mx.nd.ones((3,)) * (r + 1))
    kv.barrier()
    w = mx.nd.zeros((3,))
    kv.pull(0, out=w)
    expect = -sum(steps[k] * (k + 1) for k in range(n))
    assert (w.asnumpy() == expect).all(), (w.asnumpy(), expect)
    # The same with the Trainer (update on the store): uneven epochs, then equal weights.
    kv2 = mx.kv.create("dist_sync")
    net = _net(seed=3)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}, kvstore=kv2,
                            update_on_kvstore=True)
    rs = np.random.RandomState(r)
    batches = [(rs.randn(4, 10).astype(np.float32), rs.randn(4, 4).astype(np.float32))
               for _ in range(1 + 2 * r)]
    _train(net, trainer, batches, lambda a: a)
    kv2.barrier()
    # The stores are equal; a worker that stopped early pulls the weights it did not train on
    # (the Trainer's keys are the parameters' indices, in name order).
    for i, (_, p) in enumerate(sorted(net.collect_params().items())):
        kv2.pull(i, out=p.data())
    # every worker holds the same weights: the sum over workers is n times this worker's
    flat = mx.nd.concat(*[p.data().reshape((-1,)) for p in net.collect_params().values()],
                        dim=0)
    kv3 = mx.kv.create("dist_sync")  # no optimizer: the store becomes the sum
    kv3.init(0, mx.nd.zeros(flat.shape))
    s = flat.copy()
    kv3.pushpull(0, s, out=s)
    np.testing.assert_allclose(s.asnumpy(), n * flat.asnumpy(), rtol=1e-6, atol=1e-6)


def _push_until_rank1_fails(fail):
    """Every worker pushes in a loop; rank 1 calls `fail` at its third push."""
    kv = mx.kv.create("dist_sync")
    kv.init(0, mx.nd.zeros((1000,)))
    out = mx.nd.zeros((1000,))
    for step in range(10 ** 6):
        if kv.rank == 1 and step == 2:
            fail()
        kv.pushpull(0, mx.nd.ones((1000,)), out=out)
        out.wait_to_read()


def scenario_kill():
    """Rank 1 dies (SIGKILL); the others keep pushing."""
    _push_until_rank1_fails(lambda: os.kill(os.getpid(), signal.SIGKILL))


def _raise():
    raise RuntimeError("worker 1 fails on purpose")


def scenario_crash():
    """Rank 1 raises; the others keep pushing."""
    _push_until_rank1_fails(_raise)


def scenario_mismatch():
    """Workers push different keys: every worker gets an error naming each rank's key."""
    kv = mx.kv.create("dist_sync")
    kv.init([5, 6], [mx.nd.zeros((4,)), mx.nd.zeros((8,))])
    key, size = 5 + kv.rank, 4 * (1 + kv.rank)
    kv.push(key, mx.nd.ones((size,)))
    out = mx.nd.zeros((size,))
    try:
        kv.pull(key, out=out)
        out.wait_to_read()
    except mx.MXNetError as e:
        msg = str(e)
        assert "different collectives" in msg, msg
        assert "rank 0: allreduce of key 5 (4 float32)" in msg, msg
        assert "rank 1: allreduce of key 6 (8 float32)" in msg, msg
        print(f"mismatch error: {msg}", flush=True)
    else:
        raise AssertionError("mismatched keys were not reported")


def scenario_badpush():
    """Rank 1's pushed value fails to compute (an engine error): the push op still runs
    (kNoSkip) and every worker's pushpull fails, rank 1 with its own error."""
    kv = mx.kv.create("dist_sync")
    kv.init(7, mx.nd.zeros((2, 4)))
    if kv.rank == 1:  # row 7 of 3: found when gather_nd runs
        v = mx.nd.gather_nd(mx.nd.ones((3, 4)), mx.nd.array([[0, 7]], dtype="int64"))
    else:
        v = mx.nd.ones((2, 4))
    kv.pushpull(7, v, out=v)
    try:
        v.wait_to_read()
    except mx.MXNetError as e:
        msg = str(e)
        if kv.rank == 1:
            assert "gather_nd" in msg, msg
        else:
            assert "the pushed value failed to compute on rank 1" in msg, msg
        print(f"push error: {msg}", flush=True)
    else:
        raise AssertionError("the failed push was not reported")
    out = mx.nd.ones((2, 4))
    kv.pushpull(7, out, out=out)  # every later collective fails with the same error
    try:
        out.wait_to_read()
    except mx.MXNetError as e:
        assert "the pushed value failed to compute on rank 1" in str(e), str(e)
    else:
        raise AssertionError("a push after the failed one succeeded")


def scenario_stall():
    """Rank 1 stops pushing (alive, not dead): rank 0's push fails after the deadline."""
    kv = mx.kv.create("dist_sync")
    kv.init(0, mx.nd.zeros((10,)))
    if kv.rank == 1:
        time.sleep(60)
        return
    out = mx.nd.zeros((10,))
    kv.pushpull(0, mx.nd.ones((10,)), out=out)
    out.wait_to_read()  # raises the deadline error


def main():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    name = sys.argv[1]
    globals()["scenario_" + name]()
    print(f"OK {name} rank {os.environ.get('DMLC_WORKER_ID')}", flush=True)


if __name__ == "__main__":
    main()
