"""MXNet's image ops (mx.nd.image.*: to_tensor, normalize, the flips) against NumPy, their
gradients under autograd, the C++ transform blocks over them (hybridized, traced), and a
DataLoader running Compose([ToTensor(), Normalize()]) in its workers on the GIL-free path."""
import os
import subprocess
import textwrap

import numpy as np
import pytest

import mixnet as mx
from mixnet import gluon
from mixnet.gluon.data.vision import transforms as T


def images(shape, seed=0):
    return np.random.RandomState(seed).randint(0, 256, shape).astype(np.uint8)


@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
def test_to_tensor_matches_numpy(dtype):
    img = images((5, 7, 3)).astype(dtype)
    out = mx.nd.image.to_tensor(mx.nd.array(img, dtype=dtype))
    assert out.dtype == (np.float64 if dtype == "float64" else np.float32)
    np.testing.assert_allclose(out.asnumpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    batch = images((4, 5, 7, 1)).astype(dtype)
    out = mx.nd.image.to_tensor(mx.nd.array(batch, dtype=dtype))
    assert out.shape == (4, 1, 5, 7)
    np.testing.assert_allclose(out.asnumpy(), batch.transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    with pytest.raises(ValueError, match="HWC"):
        mx.nd.image.to_tensor(mx.nd.ones((4, 4)))
    with pytest.raises(TypeError, match="uint8"):
        mx.nd.image.to_tensor(mx.nd.ones((4, 4, 3), dtype="int32"))


def test_normalize_matches_numpy():
    x = np.random.RandomState(1).uniform(-1, 1, (2, 3, 4, 5)).astype(np.float32)
    mean, std = (0.1, -0.2, 0.3), (0.5, 2.0, 0.25)
    ref = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    out = mx.nd.image.normalize(mx.nd.array(x), mean=mean, std=std)
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    out = mx.nd.image.normalize(mx.nd.array(x[0]), mean=mean, std=std)
    np.testing.assert_allclose(out.asnumpy(), ref[0], rtol=1e-5, atol=1e-6)
    out = mx.nd.image.normalize(mx.nd.array(x[0]), mean=(0.5,), std=(4.0,))
    np.testing.assert_allclose(out.asnumpy(), (x[0] - 0.5) / 4, rtol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        mx.nd.image.normalize(mx.nd.array(x), mean=(0.1, 0.2), std=(1.0,))


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_flips_match_numpy(dtype):
    img = images((2, 5, 7, 3)).astype(dtype)  # odd H and W: the middle row and column too
    x = mx.nd.array(img, dtype=dtype)
    for data, w_axis in ((img, 2), (img[0], 1)):
        arr = mx.nd.array(data, dtype=dtype)
        out = mx.nd.image.flip_left_right(arr)
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out.asnumpy(), np.flip(data, w_axis))
        np.testing.assert_array_equal(mx.nd.image.flip_top_bottom(arr).asnumpy(),
                                      np.flip(data, w_axis - 1))
    np.testing.assert_array_equal(mx.nd.image.random_flip_left_right(x, p=1).asnumpy(),
                                  img[:, :, ::-1])
    np.testing.assert_array_equal(mx.nd.image.random_flip_top_bottom(x, p=0).asnumpy(), img)


@pytest.mark.parametrize("interp", [0, 1, 2, 3])
def test_resize_matches_the_image_kernel(interp):
    img = images((2, 9, 12, 3))
    x = mx.nd.array(img, dtype="uint8")
    out = mx.nd.image.resize(x, size=(5, 7), interp=interp)
    assert out.shape == (2, 7, 5, 3) and out.dtype == np.uint8
    for i in range(2):  # mx.image.imresize: the same kernel, one image at a time
        np.testing.assert_array_equal(out.asnumpy()[i],
                                      mx.image.imresize(x[i], 5, 7, interp).asnumpy())
    assert mx.nd.image.resize(x[0], size=(6,), keep_ratio=True).shape == (6, 8, 3)
    assert mx.nd.image.resize(x[0], size=(6,)).shape == (6, 6, 3)
    with pytest.raises(ValueError, match="size"):
        mx.nd.image.resize(x, size=(1, 2, 3))


def test_random_flips_follow_the_seed_and_flip_both_ways():
    img = images((4, 6, 3))
    x = mx.nd.array(img, dtype="uint8")

    def draws():
        return [np.array_equal(mx.nd.image.random_flip_left_right(x).asnumpy(), img[:, ::-1])
                for _ in range(30)]

    mx.random.seed(5)
    a = draws()
    mx.random.seed(5)
    assert draws() == a
    assert any(a) and not all(a)


def test_gradients():
    x = mx.nd.array(np.random.RandomState(2).uniform(0, 255, (3, 4, 2)).astype(np.float32))
    head = np.random.RandomState(3).uniform(-1, 1, (2, 3, 4)).astype(np.float32)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.image.normalize(mx.nd.image.to_tensor(x), mean=(0.1, 0.2), std=(0.5, 2.0))
    y.backward(mx.nd.array(head))
    want = (head / np.array([0.5, 2.0])[:, None, None]).transpose(1, 2, 0) / 255.0
    np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-5, atol=1e-8)
    with mx.autograd.record():
        y = mx.nd.image.flip_left_right(x)
    y.backward(mx.nd.array(np.arange(24, dtype=np.float32).reshape(3, 4, 2)))
    np.testing.assert_array_equal(x.grad.asnumpy(),
                                  np.arange(24, dtype=np.float32).reshape(3, 4, 2)[:, ::-1])


def test_transform_blocks_are_cpp_and_hybridize():
    for block in (T.ToTensor(), T.Normalize(0.5, 0.2), T.Cast(np.float16),
                  T.RandomFlipLeftRight(), T.RandomFlipTopBottom()):
        assert isinstance(block, gluon.HybridBlock)
        assert type(block).__module__.startswith("mixnet._core")
    assert T.Cast(np.float16)(mx.nd.ones((2, 2, 3))).dtype == np.float16
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    pipe = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    assert type(pipe).__module__.startswith("mixnet._core")  # a C++ HybridSequential
    img = images((6, 5, 3))
    ref = (img.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / \
        np.array(std)[:, None, None]
    np.testing.assert_allclose(pipe(mx.nd.array(img, dtype="uint8")).asnumpy(), ref, rtol=1e-5,
                               atol=1e-6)
    pipe.hybridize()
    for _ in range(2):  # the traced graph, then the cached one
        out = pipe(mx.nd.array(img, dtype="uint8"))
        np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    # The same ops in a symbol graph, run by the executor.
    sym = mx.sym.image.normalize(mx.sym.image.to_tensor(mx.sym.var("data")), mean=mean, std=std)
    out = sym.eval(ctx=mx.cpu(), data=mx.nd.array(img, dtype="uint8"))[0]
    np.testing.assert_allclose(out.asnumpy(), ref, rtol=1e-5, atol=1e-6)
    assert type(T.Compose([T.Resize(4), T.ToTensor()])).__module__.startswith("mixnet._core")
    # A Python-defined transform in the list keeps the Python Compose.
    assert isinstance(T.Compose([T.ToTensor(), T.RandomBrightness(0.1)]), T.Compose)


@pytest.mark.parametrize("resize", [False, True])
def test_dataloader_runs_compose_without_the_gil(resize):
    # FashionMNIST-like rows: (N, 28, 28, 1) uint8 images and int labels.
    x = mx.nd.array(images((70, 28, 28, 1)), dtype="uint8")
    y = np.arange(70, dtype=np.int32)
    pipe = [T.ToTensor(), T.Normalize(0.286, 0.353)]
    ds = gluon.data.ArrayDataset(x, y).transform_first(
        T.Compose(([T.Resize(14)] if resize else []) + pipe))
    # The workers get the C++ tree (NOTE [ Transforms in the workers ], gluon_data.cc).
    source = ds._native_source()
    assert source is not None and source[2] is not None
    want = list(gluon.data.DataLoader(ds, batch_size=16))
    got = list(gluon.data.DataLoader(ds, batch_size=16, num_workers=2))
    assert len(got) == len(want) == 5
    for (gx, gy), (wx, wy) in zip(got, want):
        assert gx.shape == wx.shape and gx.dtype == np.float32
        assert gx.shape[1:] == ((1, 14, 14) if resize else (1, 28, 28))
        np.testing.assert_array_equal(gx.asnumpy(), wx.asnumpy())
        np.testing.assert_array_equal(gy.asnumpy(), wy.asnumpy())
    # num_workers=0 makes its batches in C++ too: each row equals the dataset's own item.
    for i in (0, 5, 15):
        np.testing.assert_array_equal(want[0][0].asnumpy()[i], ds[i][0].asnumpy())
    if resize:
        x = mx.nd.image.resize(x, size=(14,))
    ref = (x.asnumpy()[:16].transpose(0, 3, 1, 2) / 255.0 - 0.286) / 0.353
    np.testing.assert_allclose(got[0][0].asnumpy(), ref, rtol=1e-5, atol=1e-6)


MXNET_PYTHON = os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python")


@pytest.mark.skipif(not os.path.exists(MXNET_PYTHON),
                    reason=f"MXNet 1.9.1 venv not found ({MXNET_PYTHON})")
def test_same_values_and_symbol_files_as_mxnet(tmp_path):
    # Even H and W: MXNet 1.9.1's flips leave the middle row (column) of an odd height (width)
    # unwritten (rows [0 3 6], [9 12 15] flip left-right to [6 0 0], [15 0 9]); mixnet's
    # mirror every row, as test_flips_match_numpy checks.
    img = images((2, 4, 6, 3))
    np.save(tmp_path / "img.npy", img)
    script = tmp_path / "mx_side.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import mxnet as mx
        x = mx.nd.array(np.load("img.npy"), dtype="uint8")
        t = mx.nd.image.to_tensor(x)
        np.save("to_tensor.npy", t.asnumpy())
        np.save("normalize.npy", mx.nd.image.normalize(
            t, mean=(0.1, 0.2, 0.3), std=(0.5, 1.0, 2.0)).asnumpy())
        np.save("lr.npy", mx.nd.image.flip_left_right(x[0]).asnumpy())
        np.save("tb.npy", mx.nd.image.flip_top_bottom(x[0]).asnumpy())
        s = mx.sym.image.normalize(mx.sym.image.to_tensor(mx.sym.var("data")),
                                   mean=(0.1, 0.2, 0.3), std=(0.5, 1.0, 2.0))
        s.save("pipe-symbol.json")
    """))
    subprocess.run([MXNET_PYTHON, str(script)], check=True, cwd=tmp_path, timeout=300,
                   capture_output=True)
    x = mx.nd.array(img, dtype="uint8")
    t = mx.nd.image.to_tensor(x)
    np.testing.assert_allclose(t.asnumpy(), np.load(tmp_path / "to_tensor.npy"), rtol=1e-6)
    norm = mx.nd.image.normalize(t, mean=(0.1, 0.2, 0.3), std=(0.5, 1.0, 2.0))
    np.testing.assert_allclose(norm.asnumpy(), np.load(tmp_path / "normalize.npy"), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(mx.nd.image.flip_left_right(x[0]).asnumpy(),
                                  np.load(tmp_path / "lr.npy"))
    np.testing.assert_array_equal(mx.nd.image.flip_top_bottom(x[0]).asnumpy(),
                                  np.load(tmp_path / "tb.npy"))
    # MXNet's saved graph of the ops loads and runs here.
    sym = mx.sym.load(str(tmp_path / "pipe-symbol.json"))
    out = sym.eval(ctx=mx.cpu(), data=x)[0]
    np.testing.assert_allclose(out.asnumpy(), np.load(tmp_path / "normalize.npy"), rtol=1e-5,
                               atol=1e-6)
