"""mx.image and _core.image_encode/image_decode against NumPy references, PIL (an independent
codec and resizer, when importable) and MXNet 1.9.1's mx.image (OpenCV inside)."""
import base64
import io

import numpy as np
import pytest

import mixnet as mx
from mxnet19_ref import run_mxnet

try:
    from PIL import Image as PILImage
except ImportError:  # pragma: no cover - PIL is an optional oracle
    PILImage = None

needs_pil = pytest.mark.skipif(PILImage is None, reason="PIL (python3-pil) is not installed")


def pattern(h, w, c=3, seed=0):
    """A smooth uint8 image plus a little noise (JPEG-friendly, not constant)."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 120 // w + y * 60 // h + 25 * k for k in range(c)], axis=-1)
    noise = np.random.RandomState(seed).randint(0, 8, size=(h, w, c))
    return (base + noise).astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def pil_bytes(arr, fmt, **kw):
    f = io.BytesIO()
    PILImage.fromarray(arr).save(f, fmt, **kw)
    return f.getvalue()


# ---------------------------------------------------------------- codecs (cv2 conventions)

def test_encode_decode_png_is_exact_in_bgr():
    img = pattern(21, 34)
    buf = mx._core.image_encode(img, ".png", 3)
    assert isinstance(buf, bytes) and buf[:4] == b"\x89PNG"
    back = mx._core.image_decode(buf, 1)
    assert back.dtype == np.uint8 and back.shape == (21, 34, 3)
    np.testing.assert_array_equal(back, img)
    for other in (bytearray(buf), memoryview(buf), np.frombuffer(buf, np.uint8)):
        np.testing.assert_array_equal(mx._core.image_decode(other, 1), img)  # cv2 takes arrays
    grey = mx._core.image_decode(buf, 0)
    assert grey.shape == (21, 34)  # cv2.imdecode gives 2-D grey images
    bgra = np.concatenate([img, np.full((21, 34, 1), 77, np.uint8)], axis=2)
    np.testing.assert_array_equal(
        mx._core.image_decode(mx._core.image_encode(bgra, ".png", 3), -1), bgra)


def test_encode_decode_jpeg_within_psnr():
    img = pattern(40, 56)
    hi = mx._core.image_encode(img, ".jpg", 95)
    lo = mx._core.image_encode(img, ".jpg", 30)
    assert hi[:2] == b"\xff\xd8" and len(lo) < len(hi)
    back = mx._core.image_decode(hi, 1)
    assert back.shape == img.shape
    assert psnr(back, img) > 32
    assert psnr(mx._core.image_decode(lo, 1), img) < psnr(back, img)


def test_image_encode_grey_and_errors():
    grey = pattern(10, 12, 1)[:, :, 0]
    np.testing.assert_array_equal(
        mx._core.image_decode(mx._core.image_encode(grey, ".png", 9), -1), grey)
    with pytest.raises(ValueError, match="unsupported format"):
        mx._core.image_encode(grey, ".gif", 95)
    with pytest.raises(ValueError, match="neither JPEG nor PNG"):
        mx._core.image_decode(b"not an image at all", 1)
    png = mx._core.image_encode(pattern(16, 16), ".png", 3)
    with pytest.raises(ValueError, match="corrupt PNG"):
        mx._core.image_decode(png[: len(png) // 2], 1)
    with pytest.raises(mx.base.MXNetError):
        mx.image.imdecode(b"\xff\xd8\xff\xe0\x00\x10JF")


@needs_pil
def test_imdecode_matches_pil():
    img = pattern(30, 44)
    png = pil_bytes(img, "PNG")
    out = mx.image.imdecode(png)
    assert isinstance(out, mx.nd.NDArray) and out.dtype == np.uint8
    np.testing.assert_array_equal(out.asnumpy(), img)  # RGB by default, as MXNet
    np.testing.assert_array_equal(mx.image.imdecode(png, to_rgb=False).asnumpy(), img[:, :, ::-1])
    jpg = pil_bytes(img, "JPEG", quality=90)
    ref = np.asarray(PILImage.open(io.BytesIO(jpg)).convert("RGB"))
    got = mx.image.imdecode(jpg).asnumpy()
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 2
    g = mx.image.imdecode(jpg, flag=0)
    assert g.shape == (30, 44, 1)  # mx.image keeps the channel axis
    ref_g = np.asarray(PILImage.open(io.BytesIO(jpg)).convert("L")).astype(int)
    assert np.abs(g.asnumpy()[:, :, 0].astype(int) - ref_g).max() <= 3


@needs_pil
def test_imdecode_png_modes_match_pil():
    img = pattern(12, 10)
    pal = PILImage.fromarray(img).quantize(16)  # a palette PNG
    got = mx.image.imdecode(_save(pal))
    np.testing.assert_array_equal(got.asnumpy(), np.asarray(pal.convert("RGB")))
    rgba = np.concatenate([img, pattern(12, 10, 1)], axis=2)
    got = mx.image.imdecode(pil_bytes(rgba, "PNG"), flag=-1)
    np.testing.assert_array_equal(got.asnumpy(), rgba)  # alpha kept, as OpenCV's UNCHANGED
    np.testing.assert_array_equal(mx.image.imdecode(pil_bytes(rgba, "PNG")).asnumpy(), img)
    grey16 = (pattern(8, 9, 1)[:, :, 0].astype(np.uint16) * 257)
    got = mx.image.imdecode(_save(PILImage.fromarray(grey16.astype(np.int32), "I").convert(
        "I;16")), flag=-1)
    assert got.shape == (8, 9, 1) and got.dtype == np.uint8  # 16 bits scale down to 8
    np.testing.assert_array_equal(got.asnumpy()[:, :, 0], grey16 >> 8)


def _save(pil_image):
    f = io.BytesIO()
    pil_image.save(f, "PNG")
    return f.getvalue()


def test_imread_and_out(tmp_path):
    img = pattern(9, 7)
    path = tmp_path / "x.png"
    path.write_bytes(mx._core.image_encode(img, ".png", 3))
    np.testing.assert_array_equal(mx.image.imread(str(path)).asnumpy(), img[:, :, ::-1])
    np.testing.assert_array_equal(mx.image.imread(str(path), to_rgb=False).asnumpy(), img)
    out = mx.nd.zeros((9, 7, 3), dtype="uint8")
    mx.image.imdecode(np.frombuffer(path.read_bytes(), np.uint8), out=out)
    np.testing.assert_array_equal(out.asnumpy(), img[:, :, ::-1])


# ---------------------------------------------------------------- resizing and cropping

def ref_bilinear(src, h, w):
    """Pixel-centre bilinear (OpenCV's INTER_LINEAR), on float."""
    sh, sw = src.shape[:2]

    def axis(n_in, n_out):
        f = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        f = np.clip(f, 0, None)
        i0 = np.minimum(np.floor(f).astype(int), n_in - 1)
        t = np.where(i0 >= n_in - 1, 0.0, f - i0)
        return i0, np.minimum(i0 + 1, n_in - 1), t

    y0, y1, ty = axis(sh, h)
    x0, x1, tx = axis(sw, w)
    s = src.astype(np.float64)
    top = s[y0][:, x0] * (1 - tx)[None, :, None] + s[y0][:, x1] * tx[None, :, None]
    bot = s[y1][:, x0] * (1 - tx)[None, :, None] + s[y1][:, x1] * tx[None, :, None]
    return top * (1 - ty)[:, None, None] + bot * ty[:, None, None]


@pytest.mark.parametrize("h,w", [(30, 50), (7, 9), (16, 5)])
def test_imresize_bilinear_matches_reference(h, w):
    src = np.random.RandomState(1).uniform(0, 255, (13, 17, 3)).astype(np.float32)
    out = mx.image.imresize(mx.nd.array(src), w, h, interp=1)
    assert out.shape == (h, w, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.asnumpy(), ref_bilinear(src, h, w), rtol=1e-4, atol=1e-3)
    u8 = mx.image.imresize(mx.nd.array(src.astype(np.uint8), dtype="uint8"), w, h)
    assert u8.dtype == np.uint8
    assert np.abs(u8.asnumpy().astype(float) -
                  ref_bilinear(src.astype(np.uint8), h, w)).max() <= 0.5 + 1e-3


@needs_pil
def test_imresize_upscale_matches_pil_bilinear():
    src = pattern(10, 12, 1)[:, :, 0]
    ref = np.asarray(PILImage.fromarray(src).resize((36, 30), PILImage.BILINEAR)).astype(int)
    got = mx.image.imresize(mx.nd.array(src[:, :, None], dtype="uint8"), 36, 30).asnumpy()
    # PIL clamps sample positions the same way; it rounds in fixed point.
    assert np.abs(got[:, :, 0].astype(int) - ref).max() <= 1


def test_imresize_nearest_and_area():
    src = np.arange(64 * 3, dtype=np.float32).reshape(8, 8, 3)
    near = mx.image.imresize(mx.nd.array(src), 4, 4, interp=0).asnumpy()
    np.testing.assert_array_equal(near, src[::2, ::2])
    area = mx.image.imresize(mx.nd.array(src), 4, 2, interp=3).asnumpy()
    np.testing.assert_allclose(area, src.reshape(2, 4, 4, 2, 3).mean(axis=(1, 3)), rtol=1e-6)
    with pytest.raises(ValueError, match="Lanczos"):
        mx.image.imresize(mx.nd.array(src), 4, 4, interp=4)


def test_scale_down_resize_short_and_crops():
    assert mx.image.scale_down((640, 480), (720, 120)) == (640, 106)
    assert mx.image.scale_down((360, 1000), (480, 500)) == (360, 375)
    img = pattern(40, 60)
    x = mx.nd.array(img, dtype="uint8")
    assert mx.image.resize_short(x, 20).shape == (20, 30, 3)
    assert mx.image.resize_short(mx.nd.array(img.transpose(1, 0, 2), dtype="uint8"),
                                 20).shape == (30, 20, 3)
    np.testing.assert_array_equal(mx.image.fixed_crop(x, 5, 7, 11, 13).asnumpy(),
                                  img[7:20, 5:16])
    assert mx.image.fixed_crop(x, 5, 7, 11, 13, size=(22, 26)).shape == (26, 22, 3)
    out, box = mx.image.center_crop(x, (20, 10))
    assert box == (20, 15, 20, 10)
    np.testing.assert_array_equal(out.asnumpy(), img[15:25, 20:40])
    out, (x0, y0, w, h) = mx.image.random_crop(x, (25, 15))
    assert (w, h) == (25, 15) and 0 <= x0 <= 35 and 0 <= y0 <= 25
    np.testing.assert_array_equal(out.asnumpy(), img[y0:y0 + 15, x0:x0 + 25])
    with pytest.raises(ValueError, match="not inside the image"):
        mx.image.fixed_crop(x, 50, 0, 20, 5)


def test_random_crops_follow_the_seed():
    x = mx.nd.array(pattern(50, 70), dtype="uint8")
    mx.random.seed(11)
    a = [mx.image.random_size_crop(x, (16, 16), 0.1, (0.75, 1.33))[1] for _ in range(5)]
    b = [mx.image.random_crop(x, (20, 20))[1] for _ in range(5)]
    mx.random.seed(11)
    assert [mx.image.random_size_crop(x, (16, 16), 0.1, (0.75, 1.33))[1]
            for _ in range(5)] == a
    assert [mx.image.random_crop(x, (20, 20))[1] for _ in range(5)] == b
    assert len(set(a)) > 1 and len(set(b)) > 1
    for x0, y0, w, h in a:
        assert 0 <= x0 and x0 + w <= 70 and 0 <= y0 and y0 + h <= 50
        assert 0.1 * 3500 * 0.7 <= w * h <= 3500 * 1.05


def test_color_normalize():
    src = np.random.RandomState(2).uniform(0, 255, (4, 5, 3)).astype(np.float32)
    mean, std = np.array([1.0, 2.0, 3.0], np.float32), np.array([2.0, 4.0, 8.0], np.float32)
    out = mx.image.color_normalize(mx.nd.array(src), mx.nd.array(mean), mx.nd.array(std))
    np.testing.assert_allclose(out.asnumpy(), (src - mean) / std, rtol=1e-6)


# ---------------------------------------------------------------- augmenters

def test_jitter_augmenters_follow_mxnet_formulas():
    mx.random.seed(0)  # fixed draws: none of the factors is (nearly) 1
    src = np.random.RandomState(3).uniform(0, 255, (6, 7, 3)).astype(np.float32)
    x = mx.nd.array(src)
    coef = np.array([0.299, 0.587, 0.114], np.float32)
    out = mx.image.BrightnessJitterAug(0.3)(x).asnumpy()
    ratio = out / src
    assert np.allclose(ratio, ratio.flat[0], rtol=1e-5) and 0.7 <= ratio.flat[0] <= 1.3
    out = mx.image.ContrastJitterAug(0.3)(x).asnumpy()
    grey = (src * coef).sum(axis=2).mean()
    alpha = (out[0, 0, 0] - grey) / (src[0, 0, 0] - grey)
    np.testing.assert_allclose(out, src * alpha + (1 - alpha) * grey, rtol=1e-4, atol=1e-3)
    assert 0.7 - 1e-4 <= alpha <= 1.3 + 1e-4
    out = mx.image.SaturationJitterAug(0.3)(x).asnumpy()
    g = (src * coef).sum(axis=2, keepdims=True)
    alpha = (out[0, 0, 0] - g[0, 0, 0]) / (src[0, 0, 0] - g[0, 0, 0])
    np.testing.assert_allclose(out, src * alpha + (1 - alpha) * g, rtol=1e-4, atol=1e-3)
    # Grey pixels have no chroma to rotate (MXNet's 3-decimal YIQ matrices: 0.3% off).
    flat = mx.nd.array(np.repeat(src[:, :, :1], 3, axis=2))
    np.testing.assert_allclose(mx.image.HueJitterAug(0.4)(flat).asnumpy(), flat.asnumpy(),
                               rtol=3e-3)
    hue = mx.image.HueJitterAug(0.4)(x).asnumpy()
    assert np.abs(hue - src).max() > 1  # coloured pixels do change
    np.testing.assert_allclose((hue * coef).sum(axis=2), (src * coef).sum(axis=2), rtol=3e-3,
                               atol=0.5)  # and keep their luma


def test_lighting_flip_cast_and_gray_augmenters():
    src = np.random.RandomState(4).uniform(0, 255, (5, 6, 3)).astype(np.float32)
    x = mx.nd.array(src)
    aug = mx.image.LightingAug(0.5, [55.46, 4.794, 1.148],
                               np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                                         [-0.5836, -0.6948, 0.4203]]))
    delta = aug(x).asnumpy() - src
    np.testing.assert_allclose(delta, np.broadcast_to(delta[0, 0], delta.shape), atol=1e-3)
    assert np.abs(delta[0, 0]).max() > 0
    np.testing.assert_array_equal(mx.image.HorizontalFlipAug(1.0)(x).asnumpy(), src[:, ::-1])
    np.testing.assert_array_equal(mx.image.HorizontalFlipAug(0.0)(x).asnumpy(), src)
    assert mx.image.CastAug()(mx.nd.array(src, dtype="uint8")).dtype == np.float32
    grey = mx.image.RandomGrayAug(1.0)(x).asnumpy()
    np.testing.assert_allclose(grey[..., 0], src @ np.array([0.21, 0.72, 0.07]), rtol=1e-4)
    assert mx.image.BrightnessJitterAug(brightness=0.1).dumps() == \
        '["brightnessjitteraug", {"brightness": 0.1}]'


def test_create_augmenter_pipeline_is_seeded():
    augs = mx.image.CreateAugmenter((3, 24, 24), resize=32, rand_crop=True, rand_resize=True,
                                    rand_mirror=True, mean=True, std=True, brightness=0.2,
                                    contrast=0.2, saturation=0.2, hue=0.1, pca_noise=0.1)
    names = [type(a).__name__ for a in augs]
    assert names == ["ResizeAug", "RandomSizedCropAug", "HorizontalFlipAug", "CastAug",
                     "ColorJitterAug", "HueJitterAug", "LightingAug", "ColorNormalizeAug"]
    x = mx.image.imdecode(mx._core.image_encode(pattern(48, 64), ".jpg", 90))

    def run():
        y = x
        for a in augs:
            y = a(y)
        return y.asnumpy()

    mx.random.seed(5)
    first = run()
    assert first.shape == (24, 24, 3) and first.dtype == np.float32
    mx.random.seed(5)
    np.testing.assert_array_equal(run(), first)
    assert not np.array_equal(run(), first)


# ---------------------------------------------------------------- MXNet 1.9.1 (OpenCV)

def test_imdecode_and_imresize_match_mxnet():
    img = pattern(24, 32)
    jpg = mx._core.image_encode(img, ".jpg", 90)
    png = mx._core.image_encode(img, ".png", 3)
    ref = run_mxnet(f"""
        import base64, json, mxnet as mx
        jpg = base64.b64decode({base64.b64encode(jpg)!r})
        png = base64.b64decode({base64.b64encode(png)!r})
        a = mx.image.imdecode(jpg)
        print(json.dumps({{"jpg": a.asnumpy().tolist(),
                          "png": mx.image.imdecode(png).asnumpy().tolist(),
                          "grey": mx.image.imdecode(png, flag=0).asnumpy().tolist(),
                          "jpg_grey": mx.image.imdecode(jpg, flag=0).asnumpy().tolist(),
                          "resize": mx.image.imresize(a, 45, 17, interp=1).asnumpy().tolist(),
                          "area": mx.image.imresize(a, 16, 12, interp=3).asnumpy().tolist()}}))
        """)
    a = mx.image.imdecode(jpg)
    np.testing.assert_array_equal(mx.image.imdecode(png).asnumpy(), np.array(ref["png"]))
    # Colour to grey: mixnet uses OpenCV's cvtColor weights (BT.601 on the stored values);
    # the OpenCV inside MXNet's wheel lets libpng convert PNGs gamma-aware, a few levels off.
    assert np.abs(mx.image.imdecode(png, flag=0).asnumpy().astype(int) -
                  np.array(ref["grey"])).max() <= 6
    assert np.abs(mx.image.imdecode(jpg, flag=0).asnumpy().astype(int) -
                  np.array(ref["jpg_grey"])).max() <= 1
    assert np.abs(a.asnumpy().astype(int) - np.array(ref["jpg"])).max() <= 1
    # OpenCV resizes uint8 in fixed point: allow one level of rounding.
    ours = mx.image.imresize(mx.nd.array(np.array(ref["jpg"]), dtype="uint8"), 45, 17).asnumpy()
    assert np.abs(ours.astype(int) - np.array(ref["resize"])).max() <= 1
    ours = mx.image.imresize(mx.nd.array(np.array(ref["jpg"]), dtype="uint8"), 16, 12,
                             interp=3).asnumpy()
    assert np.abs(ours.astype(int) - np.array(ref["area"])).max() <= 1
