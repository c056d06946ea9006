"""mx.kv: MXNet 1.9's tests/python/unittest/test_kvstore.py behaviour (single and list keys,
str keys, aggregation over contexts, updaters, set_optimizer, errors), 2-bit compression
bit-exact against a NumPy statement of the rule, and the same snippets under MXNet 1.9.1."""
import json
import os

import numpy as np
import pytest

import mixnet as mx
from mxnet19_ref import run_mxnet

SHAPE = (4, 4)
KEYS = [5, 7, 11]
STR_KEYS = ["b", "c", "d"]
DEVS = [mx.cpu(i) for i in range(4)]


def init_kv(name="local", str_keys=False):
    kv = mx.kv.create(name)
    kv.init("a" if str_keys else 3, mx.nd.zeros(SHAPE))
    kv.init(STR_KEYS if str_keys else KEYS, [mx.nd.zeros(SHAPE)] * len(KEYS))
    return kv


def check_scalar(arr, x):
    np.testing.assert_array_equal(arr.asnumpy(), np.full(arr.shape, x, np.float32))


@pytest.mark.parametrize("name", ["local", "device"])
@pytest.mark.parametrize("str_keys", [False, True])
def test_single_and_list_kv_pair(name, str_keys):
    kv = init_kv(name, str_keys)
    key, keys = ("a", STR_KEYS) if str_keys else (3, KEYS)
    kv.push(key, mx.nd.ones(SHAPE))
    val = mx.nd.empty(SHAPE)
    kv.pull(key, out=val)
    check_scalar(val, 1)
    kv.push(keys, [mx.nd.ones(SHAPE) * 4] * len(keys))
    vals = [mx.nd.empty(SHAPE) for _ in keys]
    kv.pull(keys, out=vals)
    for v in vals:
        check_scalar(v, 4)
    # Without an updater a push replaces the stored value.
    kv.push(key, mx.nd.ones(SHAPE) * 2)
    kv.pull(key, out=val)
    check_scalar(val, 2)
    assert kv.type == name and kv.rank == 0 and kv.num_workers == 1


@pytest.mark.parametrize("name", ["local", "device"])
def test_aggregator(name):
    kv = init_kv(name)
    vals = [mx.nd.ones(SHAPE, d) for d in DEVS]
    outs = [mx.nd.empty(SHAPE, d) for d in DEVS]
    kv.push(3, vals)
    kv.pull(3, out=outs)
    for out in outs:
        check_scalar(out, len(DEVS))
        assert out.context in DEVS
    vals = [[mx.nd.ones(SHAPE, d) * 2.0 for d in DEVS]] * len(KEYS)
    outs = [[mx.nd.empty(SHAPE, d) for d in DEVS] for _ in KEYS]
    kv.push(KEYS, vals)
    kv.pull(KEYS, out=outs)
    for out in outs:
        for o in out:
            check_scalar(o, len(DEVS) * 2.0)


def test_pushpull_and_broadcast():
    kv = mx.kv.create("device")
    kv.init(0, mx.nd.zeros(SHAPE))
    grads = [mx.nd.ones(SHAPE, d) * (i + 1) for i, d in enumerate(DEVS[:2])]
    kv.pushpull(0, grads)  # in place
    for g in grads:
        check_scalar(g, 3)
    outs = [mx.nd.empty(SHAPE, d) for d in DEVS[:2]]
    kv.pushpull(0, [mx.nd.ones(SHAPE)] * 2, out=outs, priority=-1)
    for o in outs:
        check_scalar(o, 2)
    outs = [mx.nd.empty(SHAPE, d) for d in DEVS]
    kv.broadcast("w" if False else 9, mx.nd.ones(SHAPE) * 7, out=outs)
    for o in outs:
        check_scalar(o, 7)


def test_row_sparse_pull_dense():
    kv = mx.kv.create("local")
    w = mx.nd.array(np.arange(12).reshape(4, 3))
    kv.init("w", w)
    outs = [mx.nd.empty((4, 3)), mx.nd.empty((4, 3), mx.cpu(1))]
    kv.row_sparse_pull("w", out=outs, row_ids=mx.nd.array([0, 2]))
    want = w.asnumpy().copy()
    want[[1, 3]] = 0
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), want)
    kv.row_sparse_pull("w", out=outs, row_ids=[mx.nd.array([3], dtype="int64"),
                                               mx.nd.array([1])])
    np.testing.assert_array_equal(outs[0].asnumpy()[3], w.asnumpy()[3])
    assert outs[0].asnumpy()[:3].sum() == 0
    np.testing.assert_array_equal(outs[1].asnumpy()[1], w.asnumpy()[1])


def _updater(key, recv, local):
    local += recv


@pytest.mark.parametrize("str_keys", [False, True])
def test_updater(str_keys):
    kv = init_kv("local", str_keys)
    key, keys = ("a", STR_KEYS) if str_keys else (3, KEYS)
    seen = []

    def updater(k, recv, local):
        seen.append(k)
        _updater(k, recv, local)

    kv._set_updater(updater)
    vals = [mx.nd.ones(SHAPE, d) for d in DEVS]
    outs = [mx.nd.empty(SHAPE, d) for d in DEVS]
    kv.push(key, vals)
    kv.pull(key, out=outs)
    for out in outs:
        check_scalar(out, len(DEVS))
    assert seen == [key]
    num_push = 4
    vals = [[mx.nd.ones(SHAPE, d) for d in DEVS]] * len(keys)
    outs = [[mx.nd.empty(SHAPE, d) for d in DEVS] for _ in keys]
    for _ in range(num_push):
        kv.push(keys, vals)
    kv.pull(keys, out=outs)
    for out in outs:
        for o in out:
            check_scalar(o, len(DEVS) * num_push)
    assert set(seen[1:]) == set(keys)


def test_set_optimizer_equals_optimizer_by_hand(tmp_path):
    kv = mx.kv.create("device")
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01)
    kv.set_optimizer(opt)
    ref_opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01)
    rng = np.random.RandomState(0)
    w0 = rng.uniform(-1, 1, SHAPE).astype(np.float32)
    kv.init(2, mx.nd.array(w0))
    ref_w = mx.nd.array(w0)
    state = ref_opt.create_state(2, ref_w)
    for _ in range(3):
        g = [rng.uniform(-1, 1, SHAPE).astype(np.float32) for _ in range(2)]
        kv.push(2, [mx.nd.array(g[0], mx.cpu(0)), mx.nd.array(g[1], mx.cpu(1))])
        ref_opt.update(2, ref_w, mx.nd.array(g[0] + g[1]), state)
    out = mx.nd.empty(SHAPE)
    kv.pull(2, out=out)
    np.testing.assert_allclose(out.asnumpy(), ref_w.asnumpy(), rtol=1e-6, atol=1e-7)
    fname = str(tmp_path / "kv.states")
    kv.save_optimizer_states(fname)
    kv.push(2, mx.nd.ones(SHAPE))
    kv.load_optimizer_states(fname)
    kv2 = mx.kv.create("local")
    kv2.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01))
    kv2.load_optimizer_states(fname)
    with pytest.raises(NotImplementedError):
        kv.save_optimizer_states(fname, dump_optimizer=True)
    assert kv.is_capable(mx.kv.KVStoreBase.OPTIMIZER)


def test_get_type_and_create():
    for name in ["local", "device", "local_allreduce_cpu", "local_update_cpu"]:
        assert mx.kv.create(name).type == name
    assert mx.kvstore.create().type == "local"
    with pytest.raises(ValueError, match="unknown kind"):
        mx.kv.create("nosuch")
    with pytest.raises(TypeError):
        mx.kv.create(3)


def test_errors():
    kv = init_kv()
    with pytest.raises(ValueError, match="duplicate init of key 3"):
        kv.init(3, mx.nd.zeros(SHAPE))
    with pytest.raises(ValueError, match="key 4 has not been initialized"):
        kv.pull(4, out=mx.nd.empty(SHAPE))
    with pytest.raises(ValueError, match="key 4 has not been initialized"):
        kv.push(4, mx.nd.ones(SHAPE))
    with pytest.raises(ValueError, match=r"key 3 holds \(4, 4\)"):
        kv.push(3, mx.nd.ones((2, 2)))
    with pytest.raises(ValueError, match="out must be given"):
        kv.pull(3)
    with pytest.raises(TypeError, match="all int or all str"):
        kv.push([3, "a"], [mx.nd.ones(SHAPE)] * 2)
    with pytest.raises(ValueError, match="3 keys"):
        kv.push(KEYS, [mx.nd.ones(SHAPE)])
    skv = init_kv(str_keys=True)
    with pytest.raises(ValueError, match="'zz' has not been initialized"):
        skv.pull("zz", out=mx.nd.empty(SHAPE))
    with pytest.raises(ValueError, match="not supported for kvstore type 'local'"):
        kv.set_gradient_compression({"type": "2bit"})
    with pytest.raises(ValueError, match="dist_sync"):
        mx.kv.create("dist_sync_nonexistent")
    with pytest.raises(TypeError):
        kv.set_optimizer("sgd")


# ---- 2-bit compression ----

def np_quantize(grad, residual, t):
    """NOTE [ 2-bit compression ] in NumPy: returns the words (uint32) and updates residual."""
    residual += grad
    pos = residual >= t
    neg = (~pos) & (residual <= -t)
    residual[pos] -= t
    residual[neg] += t
    codes = np.zeros(grad.size, np.uint8)
    codes[pos.ravel()] = 3
    codes[neg.ravel()] = 2
    n = grad.size
    codes = np.concatenate([codes, np.zeros((-n) % 16, np.uint8)]).reshape(-1, 4, 4)
    shifts = np.array([6, 4, 2, 0], np.uint8)
    byte = (codes << shifts).sum(axis=2).astype(np.uint8)  # element j of a block: byte j // 4
    return byte.reshape(-1).view("<u4")


def np_dequantize(words, n, t):
    byte = words.view(np.uint8).reshape(-1, 4, 1)
    codes = ((byte >> np.array([6, 4, 2, 0], np.uint8)) & 3).reshape(-1)[:n]
    return np.where(codes == 3, t, np.where(codes == 2, -t, 0)).astype(np.float32)


def test_np_reference_packs_as_mxnet_masks():
    g = np.array([0.5, -0.5, 0.1, 0, 0, 0, 2, -2] + [0] * 9, np.float32)
    words = np_quantize(g, np.zeros_like(g), 0.5)
    b = words.view(np.uint8)
    assert b[0] == 0xc0 | 0x20 and b[1] == 0x0c | 0x02 and len(words) == 2


@pytest.mark.parametrize("ndev", [1, 2, 3])
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_device_compression_bit_exact(ndev, threshold):
    shape = (5, 7)  # 35 elements: not a multiple of 16
    kv = mx.kv.create("device")
    kv.set_gradient_compression({"type": "2bit", "threshold": threshold})
    kv.init("w", mx.nd.zeros(shape))
    rng = np.random.RandomState(ndev)
    residuals = [np.zeros(shape, np.float32) for _ in range(ndev)]
    t = np.float32(threshold)
    for _ in range(4):  # residuals carry over the pushes
        grads = [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(ndev)]
        kv.push("w", [mx.nd.array(g, mx.cpu(d)) for d, g in enumerate(grads)])
        want = np.zeros(35, np.float32)
        for d in range(ndev):
            want += np_dequantize(np_quantize(grads[d], residuals[d], t), 35, t)
        out = mx.nd.empty(shape)
        kv.pull("w", out=out)
        np.testing.assert_array_equal(out.asnumpy().ravel().view(np.uint32),
                                      want.view(np.uint32))
    with pytest.raises(ValueError, match="unknown type"):
        kv.set_gradient_compression({"type": "1bit"})


# ---- the same snippets under MXNet 1.9.1 ----

SNIPPET = """
import json
import numpy as np
import {mod} as mx
res = {{}}
rng = np.random.RandomState(0)
shape = (3, 7)
kv = mx.kv.create('device')
kv.set_gradient_compression({{'type': '2bit', 'threshold': 0.5}})
kv.init(0, mx.nd.zeros(shape))
comp = []
for s in range(3):
    vals = [mx.nd.array(rng.uniform(-1, 1, shape), ctx=mx.cpu(d)) for d in range(2)]
    kv.push(0, vals)
    out = mx.nd.zeros(shape)
    kv.pull(0, out=out)
    comp.append(out.asnumpy().ravel().tolist())
res['compression'] = comp
kv = mx.kv.create('local')
kv.init(['a', 'b'], [mx.nd.ones(shape), mx.nd.zeros(shape)])
kv.push('a', [mx.nd.ones(shape, ctx=mx.cpu(d)) * (d + 1) for d in range(3)])
kv.push('b', mx.nd.ones(shape) * 3)
kv.push('b', mx.nd.ones(shape) * 4)
outs = [mx.nd.zeros(shape), mx.nd.zeros(shape)]
kv.pull(['a', 'b'], out=outs)
res['push'] = [o.asnumpy().ravel().tolist() for o in outs]
# A fresh store: after a push without updater, MXNet's store aliases its merge buffer (a later
# reduction overwrites the stored value), which mixnet does not copy (it stores a copy).
kv = mx.kv.create('local')
kv.init('a', mx.nd.ones(shape) * 6)
def upd(key, recv, local):
    local += recv * 2
kv._set_updater(upd)
kv.pushpull('a', [mx.nd.ones(shape, ctx=mx.cpu(d)) for d in range(2)], out=outs[0])
res['updater'] = outs[0].asnumpy().ravel().tolist()
kv = mx.kv.create('local')
kv.set_optimizer(mx.optimizer.Adam(learning_rate=0.01, wd=0.1))
kv.init(1, mx.nd.array(rng.uniform(-1, 1, shape)))
for s in range(3):
    kv.push(1, [mx.nd.array(rng.uniform(-1, 1, shape), ctx=mx.cpu(d)) for d in range(2)])
out = mx.nd.zeros(shape)
kv.pull(1, out=out)
res['adam'] = out.asnumpy().ravel().tolist()
print(json.dumps(res))
"""


def test_same_as_mxnet():
    want = run_mxnet(SNIPPET.format(mod="mxnet"))
    scope = {}
    import io
    import contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(SNIPPET.format(mod="mixnet"), scope)
    got = json.loads(buf.getvalue().strip().splitlines()[-1])
    assert got["compression"] == want["compression"]  # bit-exact
    assert got["push"] == want["push"]
    assert got["updater"] == want["updater"]
    np.testing.assert_allclose(got["adam"], want["adam"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "float64", "int8", "uint8", "int32", "int64"])
def test_aggregation_dtypes(dtype):
    kv = mx.kv.create("device")
    kv.init(0, mx.nd.zeros((5,), dtype=dtype))
    vals = [mx.nd.array(np.full(5, d + 1), ctx=mx.cpu(d), dtype=dtype) for d in range(3)]
    kv.pushpull(0, vals)
    for v in vals:
        assert v.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(v.asnumpy(), np.full(5, 6))
