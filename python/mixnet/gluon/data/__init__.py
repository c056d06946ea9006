"""gluon.data: datasets, samplers and the DataLoader (MXNet 1.x's API; batches made by native
worker threads, see dataloader.py)."""
from .dataset import Dataset, SimpleDataset, ArrayDataset
from .dataloader import DataLoader, default_batchify_fn
from .sampler import (Sampler, SequentialSampler, RandomSampler, FilterSampler, BatchSampler,
                      IntervalSampler)
from ._recordio_dataset import RecordFileDataset
from . import vision
