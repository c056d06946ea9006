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
        if len(self._mean) == 1 and len(self._std) == 1:
            return (x - self._mean[0]) / self._std[0]
        axis = 0 if len(x.shape) == 3 else 1
        channels = x.shape[axis]
        mean = self._mean * channels if len(self._mean) == 1 else self._mean
        std = self._std * channels if len(self._std) == 1 else self._std
        if len(mean) != channels or len(std) != channels:
            raise ValueError(f"Normalize: {len(mean)} means and {len(std)} stds for an input "
                             f"of {channels} channels (shape {x.shape})")
        parts = F.split(x, num_outputs=channels, axis=axis)
        if channels == 1:
            parts = [parts]
        return F.concat(*[(p - m) / s for p, m, s in zip(parts, mean, std)], dim=axis)
