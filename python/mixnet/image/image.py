"""Read individual images and augment them (MXNet 1.x's mx.image). Images are NDArrays in
HWC layout (height x width x channels), uint8 as decoded or float32 after CastAug; the
numerics run in C++ (mixnet/io/image.h). Random choices draw from the generator that
mx.random.seed seeds."""
import json
import math
import numbers

import numpy as np

from .. import _core
from .. import ndarray as nd
from ..ndarray import NDArray

__all__ = ["imread", "imdecode", "imresize", "scale_down", "resize_short", "fixed_crop",
           "random_crop", "center_crop", "color_normalize", "random_size_crop",
           "Augmenter", "SequentialAug", "RandomOrderAug", "ResizeAug", "ForceResizeAug",
           "RandomCropAug", "RandomSizedCropAug", "CenterCropAug", "BrightnessJitterAug",
           "ContrastJitterAug", "SaturationJitterAug", "HueJitterAug", "ColorJitterAug",
           "LightingAug", "ColorNormalizeAug", "RandomGrayAug", "HorizontalFlipAug", "CastAug",
           "CreateAugmenter"]

# AlexNet's PCA of ImageNet's RGB pixels (MXNet's CreateAugmenter and RandomLighting).
_PCA_EIGVAL = [55.46, 4.794, 1.148]
_PCA_EIGVEC = [[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
               [-0.5836, -0.6948, 0.4203]]


def _uniform(low, high):
    """One draw in [low, high) from mixnet's seeded generator."""
    return low + (high - low) * _core._image_random(1, False)[0]


def _randint(low, high):
    """One integer in [low, high], both included (Python's random.randint)."""
    return low + min(int(_core._image_random(1, False)[0] * (high - low + 1)), high - low)


def _normal(scale, n):
    return [scale * v for v in _core._image_random(n, True)]


def _shuffled(items):
    items = list(items)
    for i in range(len(items) - 1, 0, -1):
        j = _randint(0, i)
        items[i], items[j] = items[j], items[i]
    return items


def _as_image(src, name):
    if isinstance(src, NDArray):
        return src
    if isinstance(src, np.ndarray):
        return nd.array(src, dtype=src.dtype)
    raise TypeError(f"{name}: expected an NDArray or a NumPy array, got {type(src).__name__}")


def _finish(result, out):
    if out is None:
        return result
    result.copyto(out)
    return out


def imdecode(buf, flag=1, to_rgb=True, out=None):
    """Decode an image to an NDArray.

    Parameters
    ----------
    buf : str/bytes/bytearray or numpy.ndarray
        Binary image data as string or numpy ndarray.
    flag : int, optional, default=1
        1 for three channel color output. 0 for grayscale output.
    to_rgb : int, optional, default=True
        True for RGB formatted output (MXNet default). False for BGR formatted output
        (OpenCV default).
    out : NDArray, optional
        Output buffer. Use `None` for automatic allocation.

    Returns
    -------
    NDArray
        An `NDArray` containing the image (HWC, uint8).
    """
    if isinstance(buf, NDArray):
        buf = buf.asnumpy()
    if isinstance(buf, np.ndarray):
        buf = buf.astype(np.uint8, copy=False).tobytes()
    elif isinstance(buf, (bytearray, memoryview)):
        buf = bytes(buf)
    elif isinstance(buf, str):
        buf = buf.encode("latin-1")
    if not isinstance(buf, bytes):
        raise TypeError(f"imdecode: buf must be bytes or a NumPy array, got {type(buf).__name__}")
    return _finish(_core._image_imdecode(buf, int(flag), bool(to_rgb)), out)


def imread(filename, flag=1, to_rgb=True, out=None):
    """Read and decode an image to an NDArray.

    Parameters
    ----------
    filename : str
        Name of the image file to be loaded.
    flag : {0, 1}, default 1
        1 for three channel color output. 0 for grayscale output.
    to_rgb : bool, default True
        True for RGB formatted output (MXNet default). False for BGR formatted output
        (OpenCV default).
    out : NDArray, optional
        Output buffer. Use `None` for automatic allocation.
    """
    with open(filename, "rb") as f:
        return imdecode(f.read(), flag, to_rgb, out)


def _get_interp_method(interp, sizes=()):
    """Interpolation for `interp`: 9 picks by the sizes (cubic to enlarge, area to shrink),
    10 picks at random."""
    if interp == 9:
        if sizes:
            assert len(sizes) == 4
            oh, ow, nh, nw = sizes
            if nh > oh and nw > ow:
                return 2
            if nh < oh and nw < ow:
                return 3
            return 1
        return 2
    if interp == 10:
        return _randint(0, 3)
    if interp == 4:
        raise ValueError("interp 4 (Lanczos) is not supported: use 0 (nearest), 1 (bilinear), "
                         "2 (cubic) or 3 (area)")
    if interp not in (0, 1, 2, 3):
        raise ValueError("Unknown interp method %d" % interp)
    return interp


def imresize(src, w, h, interp=1, out=None):
    """Resize image with OpenCV's conventions.

    Parameters
    ----------
    src : NDArray
        source image (HWC)
    w : int, required
        Width of resized image.
    h : int, required
        Height of resized image.
    interp : int, optional, default=1
        Interpolation method (default=cv2.INTER_LINEAR): 0 nearest, 1 bilinear, 2 cubic,
        3 area, 9 auto, 10 random.
    out : NDArray, optional
        The output NDArray to hold the result.
    """
    src = _as_image(src, "imresize")
    interp = _get_interp_method(interp, (src.shape[0], src.shape[1], h, w))
    return _finish(_core._image_resize(src, int(w), int(h), interp), out)


def scale_down(src_size, size):
    """Scales down crop size if it's larger than image size.

    If width/height of the crop is larger than the width/height of the image, sets the
    width/height to the width/height of the image, keeping the aspect ratio.

    Example
    -------
    >>> scale_down((640, 480), (720, 120))
    (640, 106)
    """
    w, h = size
    sw, sh = src_size
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


def resize_short(src, size, interp=2):
    """Resizes shorter edge to size, keeping the aspect ratio."""
    src = _as_image(src, "resize_short")
    h, w, _ = src.shape
    if h > w:
        new_h, new_w = size * h // w, size
    else:
        new_h, new_w = size, size * w // h
    return imresize(src, new_w, new_h, interp=_get_interp_method(interp, (h, w, new_h, new_w)))


def fixed_crop(src, x0, y0, w, h, size=None, interp=2):
    """Crop src at fixed location, and (optionally) resize it to size (w, h)."""
    out = _core._image_crop(_as_image(src, "fixed_crop"), int(x0), int(y0), int(w), int(h))
    if size is not None and (w, h) != tuple(size):
        sizes = (h, w, size[1], size[0])
        out = imresize(out, *size, interp=_get_interp_method(interp, sizes))
    return out


def random_crop(src, size, interp=2):
    """Randomly crop `src` with `size` (width, height). Upsample result if `src` is smaller
    than `size`. Returns the cropped image and its (x, y, width, height) in `src`."""
    h, w, _ = src.shape
    new_w, new_h = scale_down((w, h), size)
    x0 = _randint(0, w - new_w)
    y0 = _randint(0, h - new_h)
    out = fixed_crop(src, x0, y0, new_w, new_h, size, interp)
    return out, (x0, y0, new_w, new_h)


def center_crop(src, size, interp=2):
    """Crops the image `src` to the given `size` (width, height) by trimming on all four
    sides and preserving the center of the image; upsamples if `src` is smaller than `size`.
    Returns the cropped image and its (x, y, width, height) in `src`."""
    h, w, _ = src.shape
    new_w, new_h = scale_down((w, h), size)
    x0 = int((w - new_w) / 2)
    y0 = int((h - new_h) / 2)
    out = fixed_crop(src, x0, y0, new_w, new_h, size, interp)
    return out, (x0, y0, new_w, new_h)


def color_normalize(src, mean, std=None):
    """Normalize src with mean and std: (src - mean) / std, per channel (last axis)."""
    if mean is not None:
        src = src - mean
    if std is not None:
        src = src / std
    return src


def random_size_crop(src, size, area, ratio, interp=2, **kwargs):
    """Randomly crop src with size. Randomize area and aspect ratio.

    Parameters
    ----------
    src : NDArray
        Input image
    size : tuple of (int, int)
        Size of the crop formatted as (width, height).
    area : float in (0, 1] or tuple of (float, float)
        If tuple, minimum area and maximum area to be maintained after cropping
        If float, minimum area to be maintained after cropping, maximum area is set to 1.0
    ratio : tuple of (float, float)
        Aspect ratio range as (min_aspect_ratio, max_aspect_ratio)
    interp: int, optional, default=2
        Interpolation method. See resize_short for details.
    Returns
    -------
    NDArray
        An `NDArray` containing the cropped image.
    Tuple
        A tuple (x, y, width, height) where (x, y) is top-left position of the crop in the
        original image and (width, height) are the dimensions of the cropped image.
    """
    h, w, _ = src.shape
    src_area = h * w
    if "min_area" in kwargs:  # MXNet's deprecated name
        area = kwargs.pop("min_area")
    assert not kwargs, "unexpected keyword arguments for `random_size_crop`."
    if isinstance(area, numbers.Number):
        area = (area, 1.0)
    for _ in range(10):
        target_area = _uniform(area[0], area[1]) * src_area
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        new_ratio = math.exp(_uniform(*log_ratio))
        new_w = int(round(math.sqrt(target_area * new_ratio)))
        new_h = int(round(math.sqrt(target_area / new_ratio)))
        if new_w <= w and new_h <= h:
            x0 = _randint(0, w - new_w)
            y0 = _randint(0, h - new_h)
            out = fixed_crop(src, x0, y0, new_w, new_h, size, interp)
            return out, (x0, y0, new_w, new_h)
    # fall back to center_crop
    return center_crop(src, size, interp)


class Augmenter:
    """Image Augmenter base class"""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        for k, v in self._kwargs.items():
            if isinstance(v, NDArray):
                v = v.asnumpy()
            if isinstance(v, np.ndarray):
                self._kwargs[k] = v.tolist()

    def dumps(self):
        """Saves the Augmenter to string

        Returns
        -------
        str
            JSON formatted string that describes the Augmenter.
        """
        return json.dumps([self.__class__.__name__.lower(), self._kwargs])

    def __call__(self, src):
        """Abstract implementation body"""
        raise NotImplementedError("Must override implementation.")


class SequentialAug(Augmenter):
    """Composing a sequential augmenter list."""

    def __init__(self, ts):
        super().__init__()
        self.ts = ts

    def dumps(self):
        return [self.__class__.__name__.lower(), [x.dumps() for x in self.ts]]

    def __call__(self, src):
        for aug in self.ts:
            src = aug(src)
        return src


class RandomOrderAug(SequentialAug):
    """Apply list of augmenters in random order"""

    def __call__(self, src):
        for t in _shuffled(self.ts):
            src = t(src)
        return src


class _SizeAug(Augmenter):
    """An augmenter of a target `size` and interpolation `interp`."""

    def __init__(self, size, interp=2):
        super().__init__(size=size, interp=interp)
        self.size = size
        self.interp = interp


class ResizeAug(_SizeAug):
    """Make resize shorter edge to size augmenter."""

    def __call__(self, src):
        return resize_short(src, self.size, self.interp)


class ForceResizeAug(_SizeAug):
    """Force resize to size (width, height) regardless of aspect ratio."""

    def __call__(self, src):
        sizes = (src.shape[0], src.shape[1], self.size[1], self.size[0])
        return imresize(src, *self.size, interp=_get_interp_method(self.interp, sizes))


class RandomCropAug(_SizeAug):
    """Make random crop augmenter"""

    def __call__(self, src):
        return random_crop(src, self.size, self.interp)[0]


class RandomSizedCropAug(Augmenter):
    """Make random crop with random resizing and random aspect ratio jitter augmenter."""

    def __init__(self, size, area, ratio, interp=2, **kwargs):
        super().__init__(size=size, area=area, ratio=ratio, interp=interp)
        self.size = size
        if "min_area" in kwargs:
            area = kwargs.pop("min_area")
        self.area = area
        self.ratio = ratio
        self.interp = interp
        assert not kwargs, "unexpected keyword arguments for `RandomSizedCropAug`."

    def __call__(self, src):
        return random_size_crop(src, self.size, self.area, self.ratio, self.interp)[0]


class CenterCropAug(_SizeAug):
    """Make center crop augmenter."""

    def __call__(self, src):
        return center_crop(src, self.size, self.interp)[0]


class _JitterAug(Augmenter):
    """Scales one colour property (`_op`) by 1 + U(-v, v); v is named as the property."""

    _op = None

    def __init__(self, *args, **kwargs):
        value = args[0] if args else kwargs.pop(self._op)
        super().__init__(**{self._op: value})
        setattr(self, self._op, value)

    def __call__(self, src):
        v = getattr(self, self._op)
        return _core._image_color(src, self._op, 1.0 + _uniform(-v, v))


class BrightnessJitterAug(_JitterAug):
    """Random brightness jitter augmentation.

    Parameters
    ----------
    brightness : float
        The brightness jitter ratio range, [0, 1]
    """

    _op = "brightness"


class ContrastJitterAug(_JitterAug):
    """Random contrast jitter augmentation.

    Parameters
    ----------
    contrast : float
        The contrast jitter ratio range, [0, 1]
    """

    _op = "contrast"


class SaturationJitterAug(_JitterAug):
    """Random saturation jitter augmentation.

    Parameters
    ----------
    saturation : float
        The saturation jitter ratio range, [0, 1]
    """

    _op = "saturation"


class HueJitterAug(Augmenter):
    """Random hue jitter augmentation: rotates the chroma in YIQ space by up to
    hue * pi radians."""

    def __init__(self, hue):
        super().__init__(hue=hue)
        self.hue = hue

    def __call__(self, src):
        return _core._image_color(src, "hue", _uniform(-self.hue, self.hue))


class ColorJitterAug(RandomOrderAug):
    """Apply random brightness, contrast and saturation jitter in random order."""

    def __init__(self, brightness, contrast, saturation):
        ts = []
        if brightness > 0:
            ts.append(BrightnessJitterAug(brightness))
        if contrast > 0:
            ts.append(ContrastJitterAug(contrast))
        if saturation > 0:
            ts.append(SaturationJitterAug(saturation))
        super().__init__(ts)


class LightingAug(Augmenter):
    """Add PCA based noise."""

    def __init__(self, alphastd, eigval, eigvec):
        super().__init__(alphastd=alphastd, eigval=eigval, eigvec=eigvec)
        self.alphastd = alphastd
        self.eigval = np.asarray(eigval, dtype=np.float32).tolist()
        self.eigvec = np.asarray(eigvec, dtype=np.float32).tolist()

    def __call__(self, src):
        alpha = _normal(self.alphastd, 3)
        return _core._image_lighting(src, alpha, self.eigval, self.eigvec)


class ColorNormalizeAug(Augmenter):
    """Mean and std normalization."""

    def __init__(self, mean, std):
        super().__init__(mean=mean, std=std)
        self.mean = mean if mean is None or isinstance(mean, NDArray) else nd.array(mean)
        self.std = std if std is None or isinstance(std, NDArray) else nd.array(std)

    def __call__(self, src):
        return color_normalize(src, self.mean, self.std)


class RandomGrayAug(Augmenter):
    """Randomly convert to gray image."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p
        self.mat = nd.array([[0.21, 0.21, 0.21], [0.72, 0.72, 0.72], [0.07, 0.07, 0.07]])

    def __call__(self, src):
        if _uniform(0, 1) < self.p:
            src = nd.dot(src, self.mat)
        return src


class HorizontalFlipAug(Augmenter):
    """Random horizontal flip."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p

    def __call__(self, src):
        if _uniform(0, 1) < self.p:
            src = _core._image_flip(src, True)
        return src


class CastAug(Augmenter):
    """Cast to float32"""

    def __init__(self, typ="float32"):
        super().__init__(type=typ)
        self.typ = typ

    def __call__(self, src):
        return src.astype(self.typ)


def CreateAugmenter(data_shape, resize=0, rand_crop=False, rand_resize=False,
                    rand_mirror=False, mean=None, std=None, brightness=0, contrast=0,
                    saturation=0, hue=0, pca_noise=0, rand_gray=0, inter_method=2):
    """Creates an augmenter list.

    Parameters
    ----------
    data_shape : tuple of int
        Shape for output data (channels, height, width).
    resize : int
        Resize shorter edge if larger than 0 at the begining
    rand_crop : bool
        Whether to enable random cropping other than center crop
    rand_resize : bool
        Whether to enable random sized cropping, require rand_crop to be enabled
    rand_mirror : bool
        Whether to apply horizontal flip to image with probability 0.5
    mean : np.ndarray or None
        Mean pixel values for [r, g, b]
    std : np.ndarray or None
        Standard deviations for [r, g, b]
    brightness, contrast, saturation, hue : float
        Jitter strengths.
    pca_noise : float
        Pca noise level (percent)
    rand_gray : float
        [0, 1], probability to convert to grayscale for all channels
    inter_method : int, default=2(Bicubic)
        Interpolation method for all resizing operations (0 nearest, 1 bilinear, 2 cubic,
        3 area, 9 auto, 10 random).
    """
    auglist = []
    if resize > 0:
        auglist.append(ResizeAug(resize, inter_method))
    crop_size = (data_shape[2], data_shape[1])
    if rand_resize:
        assert rand_crop
        auglist.append(RandomSizedCropAug(crop_size, 0.08, (3.0 / 4.0, 4.0 / 3.0), inter_method))
    elif rand_crop:
        auglist.append(RandomCropAug(crop_size, inter_method))
    else:
        auglist.append(CenterCropAug(crop_size, inter_method))
    if rand_mirror:
        auglist.append(HorizontalFlipAug(0.5))
    auglist.append(CastAug())
    if brightness or contrast or saturation:
        auglist.append(ColorJitterAug(brightness, contrast, saturation))
    if hue:
        auglist.append(HueJitterAug(hue))
    if pca_noise > 0:
        auglist.append(LightingAug(pca_noise, _PCA_EIGVAL, _PCA_EIGVEC))
    if rand_gray > 0:
        auglist.append(RandomGrayAug(rand_gray))
    if mean is True:
        mean = nd.array([123.68, 116.28, 103.53])
    elif mean is not None:
        assert isinstance(mean, (np.ndarray, NDArray)) and mean.shape[0] in [1, 3]
    if std is True:
        std = nd.array([58.395, 57.12, 57.375])
    elif std is not None:
        assert isinstance(std, (np.ndarray, NDArray)) and std.shape[0] in [1, 3]
    if mean is not None or std is not None:
        auglist.append(ColorNormalizeAug(mean, std))
    return auglist
