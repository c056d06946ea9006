"""Vision datasets read from local files (MXNet 1.x's gluon.data.vision.datasets): MNIST and
FashionMNIST (idx .gz files), CIFAR10 and CIFAR100 (binary batches, decoded in C++).
Nothing is downloaded: a missing file raises an error naming the files expected."""
import gzip
import os
import struct

import numpy as np

from .... import _core
from .... import ndarray as nd
from ..dataset import Dataset

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100"]


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


def _require(cls, root, names, where):
    paths = [os.path.join(where, n) for n in names]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise ValueError(
            f"{cls.__name__}: expected the files {', '.join(names)} in '{where}'; missing: "
            f"{', '.join(missing)} (mixnet downloads nothing: put the files there, or pass "
            f"root=)")
    return paths


class _DownloadedDataset(Dataset):
    """A dataset held as an image NDArray (N, H, W, C) uint8 and int32 labels; a sample is
    (image, label), or transform(image, label)."""

    _DEFAULT_ROOT = None

    def __init__(self, root, train, transform):
        self._root = os.path.expanduser(root if root is not None else self._DEFAULT_ROOT)
        self._train = train
        self._transform = transform
        self._data, label = self._get_data()
        self._label = label.asnumpy() if isinstance(label, nd.NDArray) else label
        self._label_nd = label if isinstance(label, nd.NDArray) else nd.array(label,
                                                                             dtype=np.int32)

    def __getitem__(self, idx):
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)

    def _native_source(self):
        if self._transform is not None:
            return None
        return [self._data, self._label_nd], None, None


class MNIST(_DownloadedDataset):
    """MNIST handwritten digits dataset from http://yann.lecun.com/exdb/mnist, read from the
    idx .gz files in `root`. Each sample is an image NDArray (28, 28, 1) uint8 and an int32
    label.

    Parameters
    ----------
    root : str, default $MXNET_HOME/datasets/mnist (~/.mxnet/datasets/mnist)
    train : bool, default True
    transform : function, default None
        transform(data, label) applied to each sample.
    """

    _FILES = {True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
              False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
    _DEFAULT_ROOT = os.path.join(os.environ.get("MXNET_HOME", os.path.join("~", ".mxnet")),
                                 "datasets", "mnist")

    def __init__(self, root=None, train=True, transform=None):
        super().__init__(root, train, transform)

    def _get_data(self):
        images, labels = _require(type(self), self._root, self._FILES[self._train], self._root)
        data = _read_idx(images)[..., np.newaxis]
        label = _read_idx(labels).astype(np.int32)
        if len(data) != len(label):
            raise ValueError(f"{type(self).__name__}: {images} holds {len(data)} images "
                             f"but {labels} {len(label)} labels")
        return nd.array(data, dtype=np.uint8), label


class FashionMNIST(MNIST):
    """A dataset of Zalando's article images, in MNIST's format. The default root is
    Debian's dataset-fashion-mnist folder /usr/share/datasets/fashion-mnist."""

    _DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"


class CIFAR10(_DownloadedDataset):
    """CIFAR10 image classification dataset from https://www.cs.toronto.edu/~kriz/cifar.html,
    read from the binary version's batches (data_batch_1.bin ... data_batch_5.bin,
    test_batch.bin) in `root`/cifar-10-batches-bin or `root`. Each sample is an image NDArray
    (32, 32, 3) uint8 and an int32 label.

    Parameters
    ----------
    root : str, default $MXNET_HOME/datasets/cifar10
    train : bool, default True
    transform : function, default None
    """

    _DEFAULT_ROOT = os.path.join(os.environ.get("MXNET_HOME", os.path.join("~", ".mxnet")),
                                 "datasets", "cifar10")
    _SUBDIR = "cifar-10-batches-bin"
    _LABEL_BYTES = 1

    def __init__(self, root=None, train=True, transform=None):
        super().__init__(root, train, transform)

    def _files(self):
        if self._train:
            return [f"data_batch_{i}.bin" for i in range(1, 6)]
        return ["test_batch.bin"]

    def _label_index(self):
        return 0

    def _get_data(self):
        sub = os.path.join(self._root, self._SUBDIR)
        where = sub if os.path.isdir(sub) else self._root
        paths = _require(type(self), self._root, self._files(), where)
        return _core.data.cifar_read(paths, self._LABEL_BYTES, self._label_index())


class CIFAR100(CIFAR10):
    """CIFAR100 image classification dataset, binary version: train.bin and test.bin in
    `root`/cifar-100-binary or `root`; labels are the coarse (20) classes unless
    fine_label=True (100 classes)."""

    _DEFAULT_ROOT = os.path.join(os.environ.get("MXNET_HOME", os.path.join("~", ".mxnet")),
                                 "datasets", "cifar100")
    _SUBDIR = "cifar-100-binary"
    _LABEL_BYTES = 2

    def __init__(self, root=None, fine_label=False, train=True, transform=None):
        self._fine_label = fine_label
        super().__init__(root, train, transform)

    def _files(self):
        return ["train.bin" if self._train else "test.bin"]

    def _label_index(self):
        return 1 if self._fine_label else 0
