"""gluon.data: datasets and a DataLoader.

This is a simple Python placeholder, to be replaced by mixnet's native data pipeline (its own
issue): datasets hold NumPy arrays, and DataLoader batches samples in Python in the calling
thread (num_workers is accepted and ignored). The classes and arguments are MXNet 1.x's, so
code written against them keeps working when the native loader replaces this module.
"""
from .dataset import Dataset, SimpleDataset, ArrayDataset
from .dataloader import DataLoader, default_batchify_fn
from .sampler import Sampler, SequentialSampler, RandomSampler, BatchSampler
from ._recordio_dataset import RecordFileDataset
from . import vision
