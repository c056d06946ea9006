"""gluon.data.vision: MNIST and FashionMNIST from local idx files, and
MXNet 1.x's vision transforms."""
from .datasets import MNIST, FashionMNIST
from . import transforms
