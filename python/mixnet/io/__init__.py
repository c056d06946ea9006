"""Data iterators for common data formats and utility functions (mx.io): what Module and
training loops use. The full data pipeline (record files, image iterators) comes later."""
from .io import DataDesc, DataBatch, DataIter, NDArrayIter

__all__ = ["DataDesc", "DataBatch", "DataIter", "NDArrayIter"]
