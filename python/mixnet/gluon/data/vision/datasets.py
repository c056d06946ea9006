"""MNIST and FashionMNIST read from local idx (.gz) files; nothing is downloaded."""
import gzip
import os
import struct

import numpy as np

from .... import ndarray as nd
from ..dataset import Dataset

__all__ = ["MNIST", "FashionMNIST"]


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an idx file of unsigned bytes")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: holds {data.size} bytes of data, its header says {dims}")
    return data.reshape(dims)


class MNIST(Dataset):
    """MNIST handwritten digits from `root` (train-images-idx3-ubyte.gz, ...). Each sample is
    an image NDArray of shape (28, 28, 1), uint8, and an int32 label."""

    _FILES = {True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
              False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
    _DEFAULT_ROOT = os.path.join("~", ".mxnet", "datasets", "mnist")

    def __init__(self, root=None, train=True, transform=None):
        root = os.path.expanduser(root if root is not None else self._DEFAULT_ROOT)
        self._root = root
        self._train = train
        self._transform = transform
        images, labels = (os.path.join(root, f) for f in self._FILES[train])
        missing = [p for p in (images, labels) if not os.path.isfile(p)]
        if missing:
            raise ValueError(
                f"{type(self).__name__}: expected the files {', '.join(self._FILES[train])} in "
                f"'{root}'; missing: {', '.join(missing)} (mixnet downloads nothing: put the idx "
                f".gz files there, or pass root=)")
        self._data = _read_idx(images)[..., np.newaxis]
        self._label = _read_idx(labels).astype(np.int32)
        if len(self._data) != len(self._label):
            raise ValueError(f"{type(self).__name__}: {images} holds {len(self._data)} images "
                             f"but {labels} {len(self._label)} labels")

    def __getitem__(self, idx):
        img = nd.array(self._data[idx], dtype=np.uint8)
        label = self._label[idx]
        if self._transform is not None:
            return self._transform(img, label)
        return img, label

    def __len__(self):
        return len(self._label)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando's clothing images), same layout as MNIST; the default root is
    Debian's dataset-fashion-mnist folder /usr/share/datasets/fashion-mnist."""

    _DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
