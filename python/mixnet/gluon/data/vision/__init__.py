"""gluon.data.vision: MNIST, FashionMNIST, CIFAR10 and CIFAR100 from local files, and
MXNet 1.x's vision transforms."""
from .datasets import MNIST, FashionMNIST, CIFAR10, CIFAR100
from ._image_datasets import ImageRecordDataset, ImageFolderDataset
from . import transforms
