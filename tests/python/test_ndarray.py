"""mx.nd.NDArray: arithmetic, properties, conversions and fluent methods against NumPy."""
import pickle

import numpy as np
import pytest

import mixnet as mx


def rand(*shape, dtype=np.float32):
    return np.random.RandomState(sum(shape) + len(shape)).uniform(-2, 2, shape).astype(dtype)


def test_array_copies_and_defaults_to_float32():
    src = np.arange(6, dtype=np.int32).reshape(2, 3)
    a = mx.nd.array(src)
    src[0, 0] = 100
    # MXNet 1.9.1 makes float32 from any NumPy array unless dtype is given.
    assert a.dtype == np.float32 and a.shape == (2, 3)
    assert mx.nd.array(np.zeros(2)).dtype == np.float32
    assert mx.nd.array(src, dtype=src.dtype).dtype == np.int32
    assert mx.nd.array(mx.nd.array(src, dtype="int32")).dtype == np.int32  # NDArrays keep theirs
    np.testing.assert_array_equal(a.asnumpy(), np.arange(6).reshape(2, 3))
    assert mx.nd.array([1, 2, 3]).dtype == np.float32  # lists default to float32 (MXNet)
    assert mx.nd.array([1, 2], dtype="float64").dtype == np.float64
    flags = mx.nd.array([1, 0, 2], dtype="bool")
    assert flags.dtype == np.bool_
    np.testing.assert_array_equal(flags.asnumpy(), [True, False, True])


def test_properties():
    a = mx.nd.zeros((2, 3, 4), dtype="float16")
    assert a.shape == (2, 3, 4) and a.size == 24 and a.ndim == 3 and len(a) == 2
    assert a.dtype == np.float16 and a.stype == "default"
    assert a.context == mx.cpu() and a.ctx == mx.cpu(0)
    assert mx.nd.ones((2, 3)).T.shape == (3, 2)
    v = mx.nd.ones((3,))
    assert v.T is v


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "%", "**"])
def test_binary_operators_match_numpy(op):
    x, y = rand(3, 4), rand(3, 4)
    y = np.abs(y) + 0.5
    if op == "**":
        x = np.abs(x) + 0.1
    a, b = mx.nd.array(x), mx.nd.array(y)
    f = eval(f"lambda p, q: p {op} q")  # noqa: S307
    np.testing.assert_allclose(f(a, b).asnumpy(), f(x, y), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f(a, 1.5).asnumpy(), f(x, np.float32(1.5)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f(2.5, b).asnumpy(), f(np.float32(2.5), y), rtol=1e-5, atol=1e-6)
    # broadcasting
    np.testing.assert_allclose(f(a, b[0:1]).asnumpy(), f(x, y[0:1]), rtol=1e-5, atol=1e-6)


def test_mod_sign_follows_numpy():
    x = np.array([-5.0, -3.5, 3.5, 5.0], dtype=np.float32)
    np.testing.assert_allclose((mx.nd.array(x) % 3).asnumpy(), x % 3, atol=1e-6)
    np.testing.assert_allclose((7 % mx.nd.array([3.0, -2.0])).asnumpy(), [1.0, -1.0], atol=1e-6)


@pytest.mark.parametrize("op", ["==", "!=", ">", ">=", "<", "<="])
def test_comparisons(op):
    x = np.array([1, 2, 3, 4], dtype=np.float32)
    y = np.array([4, 2, 1, 4], dtype=np.float32)
    f = eval(f"lambda p, q: p {op} q")  # noqa: S307
    r = f(mx.nd.array(x), mx.nd.array(y))
    assert r.dtype == np.float32  # MXNet's comparisons keep the input dtype
    np.testing.assert_array_equal(r.asnumpy(), f(x, y).astype(np.float32))
    np.testing.assert_array_equal(f(mx.nd.array(x), 2).asnumpy(), f(x, 2).astype(np.float32))


def test_unary_operators():
    x = rand(5)
    np.testing.assert_allclose((-mx.nd.array(x)).asnumpy(), -x)
    np.testing.assert_allclose(abs(mx.nd.array(x)).asnumpy(), np.abs(x))


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "%="])
def test_inplace_operators_keep_identity_and_write_in_place(op):
    x, y = rand(2, 3), np.abs(rand(2, 3)) + 1
    a = mx.nd.array(x)
    view = a[0]  # a view of the first row sees in-place writes
    ident = id(a)
    before = a
    exec(f"a {op} mx.nd.array(y)")  # noqa: S102
    assert id(a) == ident and a is before
    expected = eval(f"x.copy().__i{ {'+=': 'add', '-=': 'sub', '*=': 'mul', '/=': 'truediv', '%=': 'mod'}[op] }__(y)")  # noqa: S307,E501
    np.testing.assert_allclose(a.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(view.asnumpy(), expected[0], rtol=1e-5, atol=1e-6)
    a += 1
    assert a is before


def test_scalar_conversions():
    a = mx.nd.array([3.5])
    assert float(a) == 3.5 and int(a) == 3 and bool(a)
    assert a.asscalar() == np.float32(3.5)
    assert not bool(mx.nd.zeros((1,)))
    assert not bool(mx.nd.zeros((0,)))
    with pytest.raises(ValueError):
        bool(mx.nd.ones((2,)))
    with pytest.raises(ValueError):
        mx.nd.ones((2,)).asscalar()


def test_iteration_and_tolist():
    a = mx.nd.array([[1, 2], [3, 4]])
    rows = list(a)
    assert len(rows) == 2 and rows[1].shape == (2,)
    np.testing.assert_array_equal(rows[1].asnumpy(), [3, 4])
    assert a.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert [r.asscalar() for r in mx.nd.array([5, 6])] == [5, 6]


def test_repr_matches_mxnet_format():
    a = mx.nd.array([[1, 2], [3, 4]])
    assert repr(a) == "\n[[1. 2.]\n [3. 4.]]\n<NDArray 2x2 @cpu(0)>"
    assert str(a) == repr(a)


def test_astype_copy_and_context():
    a = mx.nd.array([1.7, -2.2])
    b = a.astype("int32")
    assert b.dtype == np.int32
    np.testing.assert_array_equal(b.asnumpy(), [1, -2])
    assert a.astype(np.float32, copy=False) is a
    c = a.copy()
    c[:] = 0
    np.testing.assert_allclose(a.asnumpy(), [1.7, -2.2], rtol=1e-6)
    d = mx.nd.zeros((2,), dtype="float64")
    assert a.copyto(d) is d
    np.testing.assert_allclose(d.asnumpy(), [1.7, -2.2], rtol=1e-6)
    e = a.copyto(mx.cpu(1))
    assert e.context == mx.cpu(1)
    assert a.as_in_context(mx.cpu(0)) is a
    assert a.as_in_context(mx.cpu(1)).context == mx.cpu(1)
    with pytest.raises(ValueError):
        a.copyto(mx.nd.zeros((3,)))


def test_makers():
    np.testing.assert_array_equal(mx.nd.full((2, 2), 7).asnumpy(), np.full((2, 2), 7))
    np.testing.assert_array_equal(mx.nd.arange(5).asnumpy(), np.arange(5))
    np.testing.assert_array_equal(mx.nd.arange(1, 7, 2, repeat=2).asnumpy(), [1, 1, 3, 3, 5, 5])
    assert mx.nd.empty((2, 3)).shape == (2, 3)
    assert mx.nd.zeros((2,), dtype="int64").dtype == np.int64
    x = mx.nd.ones((2, 3))
    np.testing.assert_array_equal(mx.nd.zeros_like(x).asnumpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(mx.nd.ones_like(x).asnumpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(
        mx.nd.concat(x, 2 * x, dim=0).asnumpy(), np.concatenate([np.ones((2, 3)), 2 * np.ones((2, 3))]))
    assert mx.nd.stack(x, x, axis=1).shape == (2, 2, 3)
    assert mx.nd.concatenate([x, x], axis=1).shape == (2, 6)


def test_reshape_is_a_view_with_mxnet_codes():
    a = mx.nd.arange(24).reshape((2, 3, 4))
    assert a.reshape(4, 6).shape == (4, 6)
    assert a.reshape((4, 0, 2)).shape == (4, 3, 2)
    assert a.reshape(shape=(-1,)).shape == (24,)
    assert a.reshape((-3, -2)).shape == (6, 4)
    assert a.reshape((-4, 1, 2, -2)).shape == (1, 2, 3, 4)
    assert mx.nd.zeros((10, 5, 4)).reshape((-1, 0), reverse=True).shape == (50, 4)
    v = a.reshape((6, 4))
    v[0] = -1  # a write through the reshaped view
    np.testing.assert_array_equal(a[0, 0].asnumpy(), [-1, -1, -1, -1])
    with pytest.raises(ValueError):
        a.reshape((5, 5))
    with pytest.raises(TypeError):
        a.reshape((24,), bad=1)


def test_fluent_methods_match_functions():
    x = rand(3, 4)
    a = mx.nd.array(x)
    np.testing.assert_allclose(a.sum(axis=1).asnumpy(), x.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(a.mean().asnumpy(), [x.mean()], rtol=1e-5)
    np.testing.assert_allclose(a.max(axis=0).asnumpy(), x.max(axis=0))
    np.testing.assert_allclose(a.min().asnumpy(), [x.min()])
    np.testing.assert_allclose(a.abs().asnumpy(), np.abs(x))
    np.testing.assert_allclose(a.square().asnumpy(), x * x, rtol=1e-6)
    np.testing.assert_allclose(a.exp().asnumpy(), np.exp(x), rtol=1e-5)
    np.testing.assert_allclose(a.relu().asnumpy(), np.maximum(x, 0))
    np.testing.assert_allclose(a.sigmoid().asnumpy(), 1 / (1 + np.exp(-x)), rtol=1e-5)
    np.testing.assert_allclose(a.tanh().asnumpy(), np.tanh(x), rtol=1e-5)
    sm = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    np.testing.assert_allclose(a.softmax().asnumpy(), sm, rtol=1e-5)
    np.testing.assert_allclose(a.log_softmax().asnumpy(), np.log(sm), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(a.clip(-1, 1).asnumpy(), np.clip(x, -1, 1))
    np.testing.assert_allclose(a.norm().asnumpy(), [np.linalg.norm(x)], rtol=1e-5)
    np.testing.assert_array_equal(a.argmax(axis=1).asnumpy(), x.argmax(axis=1))
    np.testing.assert_array_equal(a.argmin(axis=0).asnumpy(), x.argmin(axis=0))
    np.testing.assert_allclose(a.sort(axis=1).asnumpy(), np.sort(x, axis=1))
    np.testing.assert_array_equal(a.argsort(axis=1).asnumpy(), np.argsort(x, axis=1))
    np.testing.assert_array_equal(a.topk(k=2).asnumpy(), np.argsort(-x, axis=1)[:, :2])
    np.testing.assert_allclose(a.transpose().asnumpy(), x.T)
    np.testing.assert_allclose(a.swapaxes(0, 1).asnumpy(), x.T)
    assert a.expand_dims(1).shape == (3, 1, 4)
    assert a.expand_dims(0, inplace=True).shape == (1, 3, 4)
    assert a.reshape((3, 1, 4)).squeeze().shape == (3, 4)
    assert a.reshape((1, 3, 4)).squeeze(axis=0, inplace=True).shape == (3, 4)
    assert a.reshape((3, 2, 2)).flatten().shape == (3, 4)
    np.testing.assert_allclose(a.slice(begin=(1, 0), end=(3, 2)).asnumpy(), x[1:3, 0:2])
    np.testing.assert_allclose(a.slice_axis(axis=1, begin=1, end=3).asnumpy(), x[:, 1:3])
    np.testing.assert_allclose(a.take(mx.nd.array([2, 0])).asnumpy(), x[[2, 0]])
    np.testing.assert_allclose(a.pick(mx.nd.array([0, 1, 3]), axis=1).asnumpy(),
                               x[np.arange(3), [0, 1, 3]])
    assert mx.nd.array([0, 2]).one_hot(3).shape == (2, 3)
    np.testing.assert_allclose(a.tile((1, 2)).asnumpy(), np.tile(x, (1, 2)))
    np.testing.assert_allclose(a.repeat(2, axis=0).asnumpy(), np.repeat(x, 2, axis=0))
    np.testing.assert_allclose(a[0:1].broadcast_to((2, 3, 4)).asnumpy(),
                               np.broadcast_to(x[0:1], (2, 3, 4)))
    np.testing.assert_allclose(a[0:1].broadcast_like(a).asnumpy(), np.broadcast_to(x[0:1], (3, 4)))
    parts = a.split(num_outputs=2, axis=1)
    assert len(parts) == 2 and parts[0].shape == (3, 2)
    np.testing.assert_allclose(a.round().asnumpy(), np.round(x))
    np.testing.assert_allclose(a.floor().asnumpy(), np.floor(x))
    np.testing.assert_allclose(a.ceil().asnumpy(), np.ceil(x))
    np.testing.assert_allclose(a.sign().asnumpy(), np.sign(x))
    np.testing.assert_allclose(a.abs().sqrt().asnumpy(), np.sqrt(np.abs(x)), rtol=1e-6)
    np.testing.assert_allclose(a.abs().log().asnumpy(), np.log(np.abs(x)), rtol=1e-5)
    np.testing.assert_allclose(a.zeros_like().asnumpy(), np.zeros_like(x))
    np.testing.assert_allclose(a.reshape_like(mx.nd.zeros((4, 3))).asnumpy(), x.reshape(4, 3))
    assert a.prod().shape == (1,)


def test_save_load_list_and_dict(tmp_path):
    a = mx.nd.array(rand(2, 3))
    b = mx.nd.array(np.arange(4), dtype="int32")
    mx.nd.save(str(tmp_path / "l.nd"), [a, b])
    got = mx.nd.load(str(tmp_path / "l.nd"))
    assert isinstance(got, list) and len(got) == 2
    np.testing.assert_array_equal(got[0].asnumpy(), a.asnumpy())
    assert got[1].dtype == np.int32
    mx.nd.save(tmp_path / "d.nd", {"w": a, "b": b})
    got = mx.nd.load(tmp_path / "d.nd")
    assert isinstance(got, dict) and sorted(got) == ["b", "w"]
    np.testing.assert_array_equal(got["b"].asnumpy(), np.arange(4))
    mx.nd.save(str(tmp_path / "one.nd"), a)
    assert isinstance(mx.nd.load(str(tmp_path / "one.nd")), list)
    with open(tmp_path / "d.nd", "rb") as f:
        got = mx.nd.load_frombuffer(f.read())
    assert sorted(got) == ["b", "w"]
    with pytest.raises(TypeError):
        mx.nd.save(str(tmp_path / "bad.nd"), [a, 3])


def test_load_errors_are_mxnet_errors(tmp_path):
    p = tmp_path / "trunc.nd"
    mx.nd.save(str(p), [mx.nd.ones((100,))])
    p.write_bytes(p.read_bytes()[:50])
    with pytest.raises(mx.base.MXNetError) as e:
        mx.nd.load(str(p))
    assert isinstance(e.value, ValueError)
    with pytest.raises(mx.base.MXNetError):
        mx.nd.load(str(tmp_path / "missing.nd"))


def test_pickle_round_trip():
    a = mx.nd.array(rand(3, 2), dtype="float64")
    b = pickle.loads(pickle.dumps(a))
    assert b.dtype == np.float64
    np.testing.assert_array_equal(b.asnumpy(), a.asnumpy())


def test_dlpack_export_shares_memory_and_keeps_array_alive():
    torch = pytest.importorskip("torch")
    a = mx.nd.arange(6).reshape((2, 3))
    t = torch.utils.dlpack.from_dlpack(mx.nd.to_dlpack_for_write(a))
    t[1, 1] = -3  # written through the exported tensor
    assert a.asnumpy()[1, 1] == -3
    n = np.from_dlpack(a)  # NDArray.__dlpack__ / __dlpack_device__
    np.testing.assert_array_equal(n, a.asnumpy())
    a[0, 0] = 42  # the engine's write is seen by the consumer after it runs
    mx.nd.waitall()
    assert n[0, 0] == 42 and t[0, 0].item() == 42
    del a
    assert t[1, 1].item() == -3  # the tensor keeps the memory alive
    assert a_dlpack_device() == (1, 0)


def a_dlpack_device():
    return mx.nd.ones((1,)).__dlpack_device__()


def test_dlpack_export_waits_for_pending_writes():
    a = mx.nd.zeros((256, 256))
    b = mx.nd.dot(mx.nd.ones((256, 256)), mx.nd.ones((256, 256)), out=a)
    assert b is a
    n = np.from_dlpack(a)
    assert n[5, 7] == 256.0


def test_from_dlpack_shares_memory_and_keeps_the_producer_alive():
    torch = pytest.importorskip("torch")
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    a = mx.nd.from_dlpack(t)
    assert a.shape == (2, 3) and a.dtype == np.float32
    t[0, 0] = 42  # the producer's write is seen by the NDArray
    assert a.asnumpy()[0, 0] == 42
    a[1] = -1  # and the NDArray's write by the producer
    a.wait_to_read()
    assert t[1].tolist() == [-1, -1, -1]
    b = mx.nd.from_dlpack(torch.utils.dlpack.to_dlpack(t))  # a capsule
    b += 1
    b.wait_to_read()
    assert t[0, 0].item() == 43
    view = a[1]
    del t, a, b
    import gc
    gc.collect()
    np.testing.assert_array_equal((view + 5).asnumpy(), [5.0, 5.0, 5.0])  # -1 + 1, still valid
    i = mx.nd.from_dlpack(torch.arange(4, dtype=torch.int32))
    assert i.dtype == np.int32
    np.testing.assert_array_equal(i.asnumpy(), [0, 1, 2, 3])


def test_from_dlpack_copies_strided_tensors():
    torch = pytest.importorskip("torch")
    t = torch.arange(12, dtype=torch.float64).reshape(3, 4).t()  # strided
    a = mx.nd.from_dlpack(t)
    np.testing.assert_array_equal(a.asnumpy(), t.numpy())
    t[0, 0] = 100
    assert a.asnumpy()[0, 0] == 0  # a copy


def test_from_numpy_zero_copy_like_mxnet():
    src = np.arange(6.0).reshape(2, 3)
    a = mx.nd.from_numpy(src)
    assert a.dtype == np.float64 and not src.flags.writeable  # MXNet marks it read-only
    a[0, 1] = 7
    a.wait_to_read()
    assert src[0, 1] == 7  # one memory
    del src
    assert (a + 0).asnumpy()[0, 1] == 7
    with pytest.raises(ValueError):
        mx.nd.from_numpy(np.arange(6.0).reshape(2, 3)[:, ::2])
    c = mx.nd.from_numpy(np.arange(6.0).reshape(2, 3)[:, ::2], zero_copy=False)
    np.testing.assert_array_equal(c.asnumpy(), [[0, 2], [3, 5]])
    ro = np.arange(3.0)
    ro.flags.writeable = False
    d = mx.nd.from_numpy(ro)  # already read-only: copied, never written through
    d[:] = 5
    np.testing.assert_array_equal(ro, [0, 1, 2])
    with pytest.raises(TypeError):
        mx.nd.from_numpy([1, 2])


def test_imports_released_from_engine_threads():
    # Arrays over NumPy memory whose last use is a queued engine op: the release happens on a
    # worker, which hands it to the interpreter's thread; nothing leaks or crashes.
    import weakref

    class Owner(np.ndarray):
        pass
    refs = []
    for _ in range(50):
        src = np.ones((300, 300), dtype=np.float32).view(Owner)
        refs.append(weakref.ref(src))
        a = mx.nd.from_numpy(src)
        b = mx.nd.dot(a, a)  # big enough to run on a worker
        del a, src
    b.wait_to_read()
    mx.nd.waitall()
    for _ in range(100):  # pending calls run between bytecodes
        if all(r() is None for r in refs):
            break
        import time
        time.sleep(0.01)
    assert all(r() is None for r in refs)
    assert b.asnumpy()[0, 0] == 300


def test_waitall_and_wait_to_read():
    a = mx.nd.ones((64, 64))
    b = mx.nd.dot(a, a)
    b.wait_to_read()
    mx.nd.waitall()
    assert b.asnumpy()[0, 0] == 64


UFUNC_CASES = [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
    ("divide", np.divide), ("true_divide", np.true_divide), ("modulo", np.mod),
    ("power", np.power), ("maximum", np.maximum), ("minimum", np.minimum),
    ("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
    ("greater_equal", np.greater_equal), ("lesser", np.less), ("lesser_equal", np.less_equal),
    ("logical_and", np.logical_and), ("logical_or", np.logical_or),
    ("logical_xor", np.logical_xor),
]


@pytest.mark.parametrize("name,ref", UFUNC_CASES, ids=[c[0] for c in UFUNC_CASES])
def test_module_ufuncs_with_arrays_and_scalars_on_either_side(name, ref):
    f = getattr(mx.nd, name)
    x = np.array([[0.5, 2.0, 3.0], [4.0, 0.0, 1.5]], dtype=np.float32)
    y = np.array([[2.0], [1.5]], dtype=np.float32)
    a, b = mx.nd.array(x), mx.nd.array(y)

    def check(got, want):
        want = np.asarray(want, dtype=np.float32)
        if name == "modulo":
            want = np.nan_to_num(want)  # MXNet's x % 0 is 0
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5)
    check(f(a, b), ref(x, y))
    check(f(a, 1.5), ref(x, np.float32(1.5)))
    with np.errstate(divide="ignore", invalid="ignore"):
        check(f(2.0, a), ref(np.float32(2.0), x))
    assert float(f(3.0, 2.0)) == float(ref(3.0, 2.0))
    with pytest.raises(TypeError):
        f(a, "x")


def test_eye_and_onehot_encode():
    np.testing.assert_array_equal(mx.nd.eye(3, 4, k=1).asnumpy(), np.eye(3, 4, k=1))
    assert mx.nd.eye(2, dtype="int32").dtype == np.int32
    out = mx.nd.zeros((2, 3))
    assert mx.nd.onehot_encode(mx.nd.array([2, 0]), out) is out
    np.testing.assert_array_equal(out.asnumpy(), [[0, 0, 1], [1, 0, 0]])
