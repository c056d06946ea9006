"""gluon.data.vision: MNIST, FashionMNIST, CIFAR10 and CIFAR100 from local files, and the
transforms."""
from .datasets import MNIST, FashionMNIST, CIFAR10, CIFAR100
from . import transforms
