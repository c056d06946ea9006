"""Image transforms (MXNet 1.x's gluon.data.vision.transforms), computed by mixnet's C++
image kernels (mixnet/io/image.h). Inputs are HWC images (or NHWC batches) as NDArrays, uint8
or float32, except Normalize (CHW / NCHW float32). ToTensor, Normalize, Cast, Resize and the
random flips are C++ HybridBlocks over MXNet's image ops (mx.nd.image.*): they hybridize,
record under autograd and run in a DataLoader's workers without the GIL. The random
transforms draw from the generator that mx.random.seed seeds."""
import numbers

from .... import _core
from .... import image
from .... import ndarray as nd
from ...block import Block, HybridBlock

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop", "CropResize",
           "RandomResizedCrop", "RandomFlipLeftRight", "RandomFlipTopBottom",
           "RandomBrightness", "RandomContrast", "RandomSaturation", "RandomHue",
           "RandomColorJitter", "RandomLighting"]


def _pair(size, name):
    if isinstance(size, numbers.Number):
        return (int(size), int(size))
    if len(size) != 2:
        raise ValueError(f"{name}: size must be an int or (width, height), got {size}")
    return tuple(int(s) for s in size)


_cpp = _core.transforms


def _is_cpp_hybrid(block):
    """A C++ HybridBlock class (bound in mixnet._core), not a Python-defined one."""
    return isinstance(block, HybridBlock) and type(block).__module__.startswith("mixnet._core")


class Compose:
    """Sequentially composes multiple transforms.

    When every transform is a C++ HybridBlock (ToTensor, Normalize, Cast, the random flips,
    gluon.nn layers), Compose is a C++ HybridSequential: it hybridizes, and a DataLoader's
    workers run it without the GIL. Otherwise the transforms are called in turn in Python.

    Parameters
    ----------
    transforms : list of transform Blocks.
        The list of transforms to be composed.
    """

    def __new__(cls, transforms):
        transforms = list(transforms)
        if transforms and all(_is_cpp_hybrid(t) for t in transforms):
            return _cpp.Compose(transforms)
        return super().__new__(cls)

    def __init__(self, transforms):
        self._transforms = list(transforms)

    def __call__(self, x, *args):
        for t in self._transforms:
            x = t(x)
        return (x,) + args if args else x


def _compose_call(self, x, *args, _call=_cpp.Compose.__call__):
    # As the Python Compose: extra arguments (a sample's label) pass through untouched.
    out = _call(self, x)
    return (out,) + args if args else out


_cpp.Compose.__call__ = _compose_call


# ToTensor: "Converts an image NDArray or batch of image NDArray to a tensor NDArray.
# Converts an image NDArray of shape (H x W x C) in the range [0, 255] to a float32 tensor
# NDArray of shape (C x H x W) in the range [0, 1]. If batch input, converts a batch image
# NDArray of shape (N x H x W x C) to a float32 tensor NDArray of shape (N x C x H x W)."
ToTensor = _cpp.ToTensor
# Normalize(mean=0.0, std=1.0): "Normalize an tensor of shape (C x H x W) or (N x C x H x W)
# with mean and standard deviation: output[i] = (input[i] - mi) / si. If mean or std is
# scalar, the same value will be applied to all channels."
Normalize = _cpp.Normalize
# Cast(dtype='float32'): "Cast inputs to a specific data type", a name or a numpy dtype.
Cast = _cpp.Cast


# Resize(size, keep_ratio=False, interpolation=1): "Resize an image or a batch of image NDArray
# to the given size": size is an int or (W, H); keep_ratio resizes the short edge to an int
# size; interpolation 0 nearest, 1 bilinear, 2 cubic, 3 area.
Resize = _cpp.Resize


class CropResize(Block):
    """Crop the input image with and optionally resize it.

    Parameters
    ----------
    x, y : int
        Left and top boundary of the cropping area.
    width, height : int
        Width and height of the cropping area.
    size : int or tuple of (w, h), optional
        Optional, resize to new size after cropping.
    interpolation : int, optional
        Interpolation method for resizing. By default uses bilinear interpolation.
    """

    def __init__(self, x, y, width, height, size=None, interpolation=None):
        super().__init__()
        self._box = (x, y, width, height)
        self._size = None if size is None else _pair(size, "CropResize")
        self._interpolation = 1 if interpolation is None else interpolation

    def forward(self, x):
        out = _core._image_crop(x, *self._box)
        if self._size is not None:
            out = _core._image_resize(out, self._size[0], self._size[1], self._interpolation)
        return out


class CenterCrop(Block):
    """Crops the image `src` to the given `size` by trimming on all four sides and preserving
    the center of the image. Upsamples if `src` is smaller than `size`.

    Parameters
    ----------
    size : int or tuple of (W, H)
        Size of output image.
    interpolation : int
        Interpolation method for resizing. By default uses bilinear interpolation.
    """

    def __init__(self, size, interpolation=1):
        super().__init__()
        self._args = (_pair(size, "CenterCrop"), interpolation)

    def forward(self, x):
        return image.center_crop(x, *self._args)[0]


class RandomResizedCrop(Block):
    """Crop the input image with random scale and aspect ratio.

    Makes a crop of the original image with random size (default: 0.08 to 1.0 of the
    original image size) and random aspect ratio (default: 3/4 to 4/3), then resize it to
    the specified size.

    Parameters
    ----------
    size : int or tuple of (W, H)
        Size of the final output.
    scale : tuple of two floats
        If scale is `(min_area, max_area)`, the cropped image's area will range from
        min_area to max_area of the original image's area
    ratio : tuple of two floats
        Range of aspect ratio of the cropped image before resizing.
    interpolation : int
        Interpolation method for resizing. By default uses bilinear interpolation.
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=1):
        super().__init__()
        self._args = (_pair(size, "RandomResizedCrop"), scale, ratio, interpolation)

    def forward(self, x):
        return image.random_size_crop(x, *self._args)[0]


# Randomly flip the input image left to right (top to bottom) with a probability of 0.5.
RandomFlipLeftRight = _cpp.RandomFlipLeftRight
RandomFlipTopBottom = _cpp.RandomFlipTopBottom


class _RandomColor(Block):
    """Scales one colour property by alpha drawn from [max(0, 1 - v), 1 + v]."""

    _op = None

    def __init__(self, value):
        super().__init__()
        self._args = (max(0, 1 - value), 1 + value)

    def forward(self, x):
        return _core._image_color(x, self._op, image.image._uniform(*self._args))


class RandomBrightness(_RandomColor):
    """Randomly jitters image brightness with a factor chosen from
    `[max(0, 1 - brightness), 1 + brightness]`."""

    _op = "brightness"


class RandomContrast(_RandomColor):
    """Randomly jitters image contrast with a factor chosen from
    `[max(0, 1 - contrast), 1 + contrast]`."""

    _op = "contrast"


class RandomSaturation(_RandomColor):
    """Randomly jitters image saturation with a factor chosen from
    `[max(0, 1 - saturation), 1 + saturation]`."""

    _op = "saturation"


class RandomHue(Block):
    """Randomly jitters image hue by up to `hue` of a full turn (a rotation of the chroma
    plane in YIQ space, as mx.image.HueJitterAug; MXNet's op shifts the HLS hue)."""

    def __init__(self, hue):
        super().__init__()
        self._hue = hue

    def forward(self, x):
        # YIQ's rotation is alpha * pi: a fraction f of a turn is alpha = 2 f.
        return _core._image_color(x, "hue", 2 * image.image._uniform(-self._hue, self._hue))


class RandomColorJitter(Block):
    """Randomly jitters the brightness, contrast, saturation, and hue of an image (the first
    three in random order, then hue).

    Parameters
    ----------
    brightness : float
        How much to jitter brightness. brightness factor is randomly chosen from
        `[max(0, 1 - brightness), 1 + brightness]`.
    contrast : float
        How much to jitter contrast. contrast factor is randomly chosen from
        `[max(0, 1 - contrast), 1 + contrast]`.
    saturation : float
        How much to jitter saturation. saturation factor is randomly chosen from
        `[max(0, 1 - saturation), 1 + saturation]`.
    hue : float
        How much to jitter hue. hue factor is randomly chosen from `[-hue, hue]`.
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self._colour = [t(v) for t, v in ((RandomBrightness, brightness),
                                          (RandomContrast, contrast),
                                          (RandomSaturation, saturation)) if v > 0]
        self._hue = RandomHue(hue) if hue > 0 else None

    def forward(self, x):
        for t in image.image._shuffled(self._colour):
            x = t(x)
        return self._hue(x) if self._hue is not None else x


class RandomLighting(Block):
    """Add AlexNet-style PCA-based noise to an image.

    Parameters
    ----------
    alpha : float
        Intensity of the image.
    """

    def __init__(self, alpha):
        super().__init__()
        self._alpha = alpha

    def forward(self, x):
        return _core._image_lighting(x, image.image._normal(self._alpha, 3),
                                     image.image._PCA_EIGVAL, image.image._PCA_EIGVEC)
