"""Data iterators for common data formats and utility functions (mx.io): what Module and
training loops use."""
from .io import DataDesc, DataBatch, DataIter, NDArrayIter
from .iters import MNISTIter, CSVIter, LibSVMIter, ResizeIter, PrefetchingIter
from .image_record import ImageRecordIter, ImageRecordUInt8Iter

__all__ = ["DataDesc", "DataBatch", "DataIter", "NDArrayIter", "MNISTIter", "CSVIter",
           "LibSVMIter", "ResizeIter", "PrefetchingIter", "ImageRecordIter", "ImageRecordUInt8Iter"]
