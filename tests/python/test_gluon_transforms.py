"""gluon.data.vision.transforms: each transform's shape, dtype and values against NumPy, the
op fallback of ToTensor/Normalize inside a hybridized block, and seeded reproducibility."""
import numpy as np
import pytest

import mixnet as mx
from mixnet.gluon.data.vision import transforms as T


def image(h=20, w=30, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (h, w, 3)).astype(np.uint8)


def nd8(a):
    return mx.nd.array(a, dtype="uint8")


def test_to_tensor_and_normalize():
    img = image()
    out = T.ToTensor()(nd8(img))
    assert out.shape == (3, 20, 30) and out.dtype == np.float32
    np.testing.assert_allclose(out.asnumpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    batch = T.ToTensor()(nd8(np.stack([img, img[::-1]])))
    assert batch.shape == (2, 3, 20, 30)
    np.testing.assert_allclose(batch.asnumpy()[1], img[::-1].transpose(2, 0, 1) / 255.0,
                               rtol=1e-6)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    norm = T.Normalize(mean, std)(out).asnumpy()
    ref = (img.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / \
        np.array(std)[:, None, None]
    np.testing.assert_allclose(norm, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(T.Normalize(0.5, 2.0)(out).asnumpy(), (out.asnumpy() - 0.5) / 2,
                               rtol=1e-6)
    np.testing.assert_allclose(T.Normalize(mean, std)(batch).asnumpy()[0], ref, rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        T.Normalize((0.1, 0.2), (1, 1))(out)
    composed = T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    x, label = composed(nd8(img), 7)
    assert label == 7
    np.testing.assert_allclose(x.asnumpy(), ref, rtol=1e-5, atol=1e-6)


def test_to_tensor_and_normalize_hybridized_and_recorded():
    img = image(6, 5)
    net = mx.gluon.nn.HybridSequential()
    net.add(T.ToTensor(), T.Normalize(0.5, 0.25))
    net.hybridize()
    ref = (img.transpose(2, 0, 1) / 255.0 - 0.5) / 0.25
    for _ in range(2):  # the traced graph, then the cached one
        np.testing.assert_allclose(net(nd8(img)).asnumpy(), ref, rtol=1e-5, atol=1e-6)
    x = mx.nd.array(img.astype(np.float32))
    x.attach_grad()
    with mx.autograd.record():
        y = T.Normalize(0.0, 2.0)(T.ToTensor()(x))
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), np.full(img.shape, 1 / 510.0), rtol=1e-5)


def test_cast():
    out = T.Cast("float16")(nd8(image()))
    assert out.dtype == np.float16


def test_resize_and_crops():
    img = image()
    x = nd8(img)
    assert T.Resize(10)(x).shape == (10, 10, 3)
    assert T.Resize(10, keep_ratio=True)(x).shape == (10, 15, 3)
    assert T.Resize(10, keep_ratio=True)(nd8(img.transpose(1, 0, 2))).shape == (15, 10, 3)
    out = T.Resize((60, 40), interpolation=0)(x)
    assert out.shape == (40, 60, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out.asnumpy(), img.repeat(2, axis=0).repeat(2, axis=1))
    batch = T.Resize((7, 5))(nd8(np.stack([img, img])))
    assert batch.shape == (2, 5, 7, 3)
    np.testing.assert_array_equal(T.CenterCrop(10)(x).asnumpy(), img[5:15, 10:20])
    np.testing.assert_array_equal(T.CenterCrop((12, 8))(x).asnumpy(), img[6:14, 9:21])
    assert T.CenterCrop(40)(x).shape == (40, 40, 3)  # upsampled when larger than the image
    np.testing.assert_array_equal(T.CropResize(3, 4, 10, 6)(x).asnumpy(), img[4:10, 3:13])
    assert T.CropResize(3, 4, 10, 6, size=5)(x).shape == (5, 5, 3)
    out = T.RandomResizedCrop(16)(x)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert T.RandomResizedCrop((12, 9), scale=(0.5, 1.0))(x).shape == (9, 12, 3)


def test_flips_are_exact_and_random():
    img = image()
    x = nd8(img)
    seen = set()
    for _ in range(40):
        lr = T.RandomFlipLeftRight()(x).asnumpy()
        tb = T.RandomFlipTopBottom()(x).asnumpy()
        assert np.array_equal(lr, img) or np.array_equal(lr, img[:, ::-1])
        assert np.array_equal(tb, img) or np.array_equal(tb, img[::-1])
        seen.add((np.array_equal(lr, img), np.array_equal(tb, img)))
    assert len(seen) == 4


def test_colour_transforms():
    img = image().astype(np.float32)
    x = mx.nd.array(img)
    coef = np.array([0.299, 0.587, 0.114], np.float32)
    out = T.RandomBrightness(0.5)(x).asnumpy()
    ratio = out / np.maximum(img, 1e-3)
    alpha = ratio[img > 10].mean()
    assert 0.5 <= alpha <= 1.5
    np.testing.assert_allclose(out, img * alpha, rtol=1e-4, atol=1e-3)
    out = T.RandomContrast(0.5)(x).asnumpy()
    grey = (img * coef).sum(axis=2).mean()
    a = (out[0, 0, 0] - grey) / (img[0, 0, 0] - grey)
    np.testing.assert_allclose(out, img * a + (1 - a) * grey, rtol=1e-4, atol=1e-2)
    out = T.RandomSaturation(0.5)(x).asnumpy()
    g = (img * coef).sum(axis=2, keepdims=True)
    a = (out[0, 0, 0] - g[0, 0, 0]) / (img[0, 0, 0] - g[0, 0, 0])
    np.testing.assert_allclose(out, img * a + (1 - a) * g, rtol=1e-4, atol=1e-2)
    out = T.RandomHue(0.3)(x).asnumpy()
    assert out.shape == img.shape and np.abs(out - img).max() > 0
    np.testing.assert_allclose((out * coef).sum(axis=2), (img * coef).sum(axis=2), rtol=3e-3,
                               atol=0.5)
    u8 = T.RandomBrightness(0.5)(nd8(image()))
    assert u8.dtype == np.uint8 and u8.shape == (20, 30, 3)
    out = T.RandomColorJitter(0.3, 0.3, 0.3, 0.1)(x)
    assert out.shape == (20, 30, 3) and out.dtype == np.float32
    delta = T.RandomLighting(0.5)(x).asnumpy() - img
    np.testing.assert_allclose(delta, np.broadcast_to(delta[0, 0], delta.shape), atol=1e-3)
    with pytest.raises(ValueError, match="3 channels"):
        T.RandomContrast(0.5)(mx.nd.ones((4, 4, 1)))


def test_random_transforms_follow_the_seed():
    x = nd8(image(40, 50))
    pipe = T.Compose([T.RandomResizedCrop(24), T.RandomFlipLeftRight(),
                      T.RandomColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomLighting(0.1),
                      T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    mx.random.seed(3)
    a = [pipe(x).asnumpy() for _ in range(3)]
    mx.random.seed(3)
    b = [pipe(x).asnumpy() for _ in range(3)]
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
        assert p.shape == (3, 24, 24) and p.dtype == np.float32
    assert not np.array_equal(a[0], a[1])
