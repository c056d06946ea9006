"""Read and write for the RecordIO data format (mx.recordio).

Files are byte-identical to Apache MXNet 1.x's: records are written and read by mixnet's C++
RecordIO (include/mixnet/io/recordio.h), the index is MXNet's ``key\\toffset`` text file.
"""
from collections import namedtuple
from multiprocessing import current_process
import numbers

import numpy as np

from . import _core

__all__ = ["MXRecordIO", "MXIndexedRecordIO", "IRHeader", "pack", "unpack", "pack_img",
           "unpack_img"]


class MXRecordIO(object):
    """Reads/writes `RecordIO` data format, supporting sequential read and write.

    Examples
    ---------
    >>> record = mx.recordio.MXRecordIO('tmp.rec', 'w')
    >>> for i in range(5):
    ...    record.write(b'record_%d' % i)
    >>> record.close()
    >>> record = mx.recordio.MXRecordIO('tmp.rec', 'r')
    >>> for i in range(5):
    ...    print(record.read())
    b'record_0'
    ...
    >>> record.close()

    Parameters
    ----------
    uri : string
        Path to the record file.
    flag : string
        'w' for write or 'r' for read.
    resync : bool
        (mixnet) When reading, skip corrupted bytes up to the next record instead of raising;
        ``skipped_bytes`` tells how many were skipped.
    """

    def __init__(self, uri, flag, resync=False):
        self.uri = str(uri)
        self.handle = None
        self.flag = flag
        self.resync = resync
        self.pid = None
        self.is_open = False
        self.writable = flag == "w"
        self.open()

    def open(self):
        """Opens the record file."""
        if self.flag == "w":
            self.handle = _core.RecordIOWriter(self.uri)
            self.writable = True
        elif self.flag == "r":
            self.handle = _core.RecordIOReader(self.uri, self.resync)
            self.writable = False
        else:
            raise ValueError("Invalid flag %s" % self.flag)
        self.pid = current_process().pid
        self.is_open = True

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        """Override pickling behavior: the file is closed here and reopened on unpickling."""
        is_open = self.is_open
        self.close()
        d = dict(self.__dict__)
        d["is_open"] = is_open
        del d["handle"]
        return d

    def __setstate__(self, d):
        """Restore from pickled."""
        self.__dict__ = d
        is_open = d["is_open"]
        self.is_open = False
        self.handle = None
        if is_open:
            self.open()

    def _check_pid(self, allow_reset=False):
        """Check process id to ensure integrity, reset if in new process."""
        if not self.pid == current_process().pid:
            if allow_reset:
                self.reset()
            else:
                raise RuntimeError("Forbidden operation in multiple processes")

    def close(self):
        """Closes the record file."""
        if not getattr(self, "is_open", False):
            return
        self.handle.close()
        self.handle = None
        self.is_open = False
        self.pid = None

    def reset(self):
        """Resets the pointer to first item.

        If the record is opened with 'w', this function will truncate the file to empty.
        """
        self.close()
        self.open()

    def write(self, buf):
        """Inserts a string buffer as a record.

        Parameters
        ----------
        buf : bytes
            Buffer to write.
        """
        assert self.writable
        self._check_pid(allow_reset=False)
        self.handle.write(buf)

    def read(self):
        """Returns record as a string (bytes), or None at the end of the file."""
        assert not self.writable
        # trigger a reset if the process id changed
        self._check_pid(allow_reset=True)
        return self.handle.read()

    def tell(self):
        """Returns the current position of write head."""
        assert self.writable
        return self.handle.tell()

    @property
    def skipped_bytes(self):
        """(mixnet) Bytes a resynchronising reader skipped so far."""
        return self.handle.skipped_bytes if self.is_open and not self.writable else 0


class MXIndexedRecordIO(MXRecordIO):
    """Reads/writes `RecordIO` data format, supporting random access.

    Examples
    ---------
    >>> for i in range(5):
    ...     record.write_idx(i, b'record_%d' % i)
    >>> record.close()
    >>> record = mx.recordio.MXIndexedRecordIO('tmp.idx', 'tmp.rec', 'r')
    >>> record.read_idx(3)
    b'record_3'

    Parameters
    ----------
    idx_path : str
        Path to the index file.
    uri : str
        Path to the record file. Only supports seekable file types.
    flag : str
        'w' for write or 'r' for read.
    key_type : type
        Data type for keys.
    """

    def __init__(self, idx_path, uri, flag, key_type=int, resync=False):
        self.idx_path = str(idx_path)
        self.idx = {}
        self.keys = []
        self.key_type = key_type
        self.fidx = None
        super(MXIndexedRecordIO, self).__init__(uri, flag, resync)

    def open(self):
        super(MXIndexedRecordIO, self).open()
        self.idx = {}
        self.keys = []
        self.fidx = open(self.idx_path, self.flag)
        if not self.writable:
            for key, pos in _core.recordio_read_index(self.idx_path):
                key = self.key_type(key)
                self.idx[key] = pos
                self.keys.append(key)

    def close(self):
        """Closes the record file."""
        if not getattr(self, "is_open", False):
            return
        super(MXIndexedRecordIO, self).close()
        self.fidx.close()

    def __getstate__(self):
        """Override pickling behavior."""
        d = super(MXIndexedRecordIO, self).__getstate__()
        d["fidx"] = None
        return d

    def seek(self, idx):
        """Sets the current read pointer position.

        This function is internally called by `read_idx(idx)` to find the current
        reader pointer position. It doesn't return anything."""
        assert not self.writable
        self._check_pid(allow_reset=True)
        self.handle.seek(self.idx[idx])

    def tell(self):
        """Returns the current position of write head."""
        assert self.writable
        return self.handle.tell()

    def read_idx(self, idx):
        """Returns the record at given index."""
        self.seek(idx)
        return self.read()

    def write_idx(self, idx, buf):
        """Inserts input record at given index."""
        key = self.key_type(idx)
        pos = self.tell()
        self.write(buf)
        self.fidx.write("%s\t%d\n" % (str(key), pos))
        self.idx[key] = pos
        self.keys.append(key)


IRHeader = namedtuple("HEADER", ["flag", "label", "id", "id2"])
"""An alias for HEADER. Used to store metadata (e.g. labels) accompanying a record.

Parameters
----------
flag : int
    Available for convenience, can be set arbitrarily (pack sets it from the label).
label : float or an array
    Label of the record; an array is stored after the header and `flag` is its length.
id : int
    Unique id.
id2 : int
    Higher order bits of the unique id, should be set to 0 (in most cases).
"""


def pack(header, s):
    """Pack a string into MXImageRecord.

    Parameters
    ----------
    header : IRHeader
        Header of the image record. ``header.label`` can be a number or an array.
    s : bytes
        Raw image string to be packed.

    Returns
    -------
    s : bytes
        The packed string.
    """
    header = IRHeader(*header)
    if isinstance(header.label, numbers.Number):
        labels = None
        label = float(header.label)
    else:
        labels = np.asarray(header.label, dtype=np.float32).ravel().tolist()
        label = 0.0
    return _core.recordio_pack(label, labels, int(header.id), int(header.id2), s)


def unpack(s):
    """Unpack a MXImageRecord to string.

    Returns
    -------
    header : IRHeader
        Header of the image record (label is a float32 array when flag > 0).
    s : bytes
        Unpacked string.
    """
    flag, label, id_, id2, labels, rest = _core.recordio_unpack(s)
    if flag > 0:
        label = np.frombuffer(labels, np.float32, flag)
    return IRHeader(flag, label, id_, id2), rest


def pack_img(header, img, quality=95, img_fmt=".jpg"):
    """Pack an image into ``MXImageRecord``.

    Parameters
    ----------
    header : IRHeader
        Header of the image record.
    img : numpy.ndarray
        Image to be packed (uint8, HWC, BGR as OpenCV).
    quality : int
        Quality for JPEG encoding in range 1-100, or compression for PNG encoding in range 1-9.
    img_fmt : str
        Encoding of the image (.jpg for JPEG, .png for PNG).
    """
    buf = _core.image_encode(np.ascontiguousarray(img, dtype=np.uint8), img_fmt.lower(), int(quality))
    return pack(header, bytes(buf))


def unpack_img(s, iscolor=-1):
    """Unpack a MXImageRecord to image.

    Returns
    -------
    header : IRHeader
        Header of the image record.
    img : numpy.ndarray
        Unpacked image (uint8 HWC, BGR as OpenCV's imdecode).
    """
    header, s = unpack(s)
    return header, _core.image_decode(s, iscolor)
