"""gluon.data.vision: MNIST and FashionMNIST from local idx files, and the transforms
(placeholder: see mixnet.gluon.data)."""
from .datasets import MNIST, FashionMNIST
from . import transforms
