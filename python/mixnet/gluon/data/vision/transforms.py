"""Image transforms as HybridBlocks: ToTensor, Normalize, Cast, Compose (written on mx.nd
ops, so they also run inside a hybridized network)."""
from .... import ndarray as nd
from ...block import Block, HybridBlock

__all__ = ["Compose", "Cast", "ToTensor", "Normalize"]


class Compose:
    """Sequentially composes multiple transforms."""

    def __init__(self, transforms):
        self._transforms = list(transforms)

    def __call__(self, x, *args):
        for t in self._transforms:
            x = t(x)
        return (x,) + args if args else x


class Cast(HybridBlock):
    """Casts the input to a specific data type."""

    def __init__(self, dtype="float32"):
        super().__init__()
        self._dtype = dtype

    def hybrid_forward(self, F, x):
        return F.cast(x, dtype=self._dtype)


class ToTensor(HybridBlock):
    """Converts an image NDArray (H x W x C, or N x H x W x C) in [0, 255] to a float32
    tensor (C x H x W, or N x C x H x W) in [0, 1)."""

    def hybrid_forward(self, F, x):
        axes = (2, 0, 1) if len(x.shape) == 3 else (0, 3, 1, 2)
        return F.transpose(F.cast(x, dtype="float32"), axes=axes) / 255.0


class Normalize(HybridBlock):
    """Normalizes a tensor (C x H x W or N x C x H x W) with mean and standard deviation per
    channel: (x - mean) / std."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__()
        self._mean = mean if isinstance(mean, (list, tuple)) else (mean,)
        self._std = std if isinstance(std, (list, tuple)) else (std,)

    def hybrid_forward(self, F, x):
        shape = (-1, 1, 1) if len(x.shape) == 3 else (1, -1, 1, 1)
        mean = F.reshape(F.array(list(self._mean), ctx=x.context), shape=shape)
        std = F.reshape(F.array(list(self._std), ctx=x.context), shape=shape)
        return F.broadcast_div(F.broadcast_sub(x, mean), std)
