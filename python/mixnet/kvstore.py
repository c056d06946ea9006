"""Key-value store for synchronizing arrays over devices and machines (MXNet's mx.kv).

    kv = mx.kv.create('device')
    kv.init(3, mx.nd.ones((2, 3)))
    kv.push(3, [mx.nd.ones((2, 3), ctx=c) for c in (mx.cpu(0), mx.cpu(1))])
    out = mx.nd.zeros((2, 3))
    kv.pull(3, out=out)          # out == 2

The store is the C++ KVStore (mixnet/kvstore/kvstore.h): pushes and pulls are asynchronous
engine operations ordered by `priority`. This module only turns MXNet's argument forms (one
key or a list of keys; one array or a list of arrays, one per device, for each key) into lists.
"""
from . import _core
from .ndarray import NDArray

__all__ = ["KVStore", "KVStoreBase", "create"]


def _is_key(k):
    return isinstance(k, str) or (isinstance(k, int) and not isinstance(k, bool))


def _arrays(value, what):
    """One key's arrays: an NDArray or a list of them (one per device)."""
    if isinstance(value, NDArray):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, NDArray) for v in value):
        return list(value)
    raise TypeError(f"KVStore: {what} must be an NDArray or a list of NDArrays, "
                    f"got {type(value).__name__}")


def _key_value(key, value, what="value"):
    """MXNet's _ctype_key_value: ([keys], [[arrays of key 0], [arrays of key 1], ...])."""
    if _is_key(key):
        return [key], [_arrays(value, what)]
    if not isinstance(key, (list, tuple)) or not all(_is_key(k) for k in key):
        raise TypeError("KVStore: key must be an int, a str or a list of them")
    if not isinstance(value, (list, tuple)) or len(value) != len(key):
        raise ValueError(f"KVStore: {len(key)} keys need a list of {len(key)} {what}s")
    return list(key), [_arrays(v, what) for v in value]


class KVStoreBase:
    """MXNet's KVStoreBase: the capability names of is_capable."""
    OPTIMIZER = "optimizer"


class KVStore(KVStoreBase):
    """A key-value store for synchronizing arrays over devices and machines (mx.kv.KVStore).
    Create one with mx.kv.create."""

    def __init__(self, handle):
        if not isinstance(handle, _core.KVStore):
            raise TypeError("KVStore: create a store with mx.kv.create(name)")
        self.handle = handle
        self._updater = None

    def init(self, key, value):
        """Initializes a single or a sequence of key-value pairs into the store. Each key is
        initialized once; distributed stores take rank 0's values."""
        keys, vals = _key_value(key, value)
        flat_keys = [k for k, v in zip(keys, vals) for _ in v]  # a list for one key repeats it
        self.handle._init(flat_keys, [a for v in vals for a in v])

    def push(self, key, value, priority=0):
        """Pushes a single or a sequence of key-value pairs into the store. The values of one
        key (a list, one per device) are summed; without an updater the sum replaces the
        stored value, with one (set_optimizer) it updates it."""
        keys, vals = _key_value(key, value)
        self.handle._push(keys, vals, int(priority))

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Pulls a single value or a sequence of values from the store into `out` (an NDArray
        or a list of them for each key)."""
        if out is None:
            raise ValueError("KVStore.pull: out must be given")
        keys, outs = _key_value(key, out, "out")
        self.handle._pull(keys, outs, int(priority), bool(ignore_sparse))

    def pushpull(self, key, value, out=None, priority=0):
        """Performs push and pull of a single value or a sequence of values; with out=None
        the values are updated in place."""
        keys, vals = _key_value(key, value)
        outs = vals if out is None else _key_value(key, out, "out")[1]
        self.handle._pushpull(keys, vals, outs, int(priority))

    def broadcast(self, key, value, out, priority=0):
        """Broadcasts the value to `out` (init, then pull)."""
        keys, vals = _key_value(key, value)
        _, outs = _key_value(key, out, "out")
        self.handle._broadcast(keys, [v[0] for v in vals], outs, int(priority))

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        """Pulls the rows `row_ids` of the stored value into `out` (dense in mixnet: the other
        rows are zero). One row_ids may serve all outputs of a key."""
        if out is None:
            raise ValueError("KVStore.row_sparse_pull: out must be given")
        if row_ids is None:
            raise ValueError("KVStore.row_sparse_pull: row_ids must be given")
        keys, outs = _key_value(key, out, "out")
        if _is_key(key):
            row_ids = [row_ids]
        if not isinstance(row_ids, (list, tuple)) or len(row_ids) != len(keys):
            raise ValueError("KVStore.row_sparse_pull: one row_ids (or list) per key")
        ids = []
        for o, r in zip(outs, row_ids):
            r = _arrays(r, "row_ids")
            if len(r) == 1 and len(o) > 1:
                r = r * len(o)
            if len(r) != len(o):
                raise ValueError(f"KVStore.row_sparse_pull: {len(o)} outputs but "
                                 f"{len(r)} row_ids")
            ids.append(r)
        self.handle._row_sparse_pull(keys, outs, ids, int(priority))

    def set_gradient_compression(self, compression_params):
        """Specifies the type of low-bit quantization for gradient compression:
        {'type': '2bit', 'threshold': 0.5} ('device' and distributed stores)."""
        if not isinstance(compression_params, dict):
            raise TypeError("KVStore.set_gradient_compression: compression_params must be a "
                            "dict")
        self.handle._set_gradient_compression(
            [(str(k), str(v)) for k, v in compression_params.items()])

    def set_optimizer(self, optimizer):
        """Registers an optimizer with the store: every push then updates the stored value
        (on the servers for dist_async)."""
        from .optimizer import Optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError("KVStore.set_optimizer: optimizer must be an mx.optimizer."
                            f"Optimizer, got {type(optimizer).__name__}")
        self.handle._set_optimizer(optimizer)
        self._optimizer = optimizer

    def _set_updater(self, updater):
        """Sets a push updater: updater(key, recv, stored) updates the NDArray `stored` in
        place with the pushed (summed) `recv`."""
        self.handle._set_updater(updater)
        self._updater = updater

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Saves the optimizer (updater) state to a file (Optimizer states as an MXNet .nd
        list)."""
        if dump_optimizer:
            raise NotImplementedError("KVStore.save_optimizer_states: dump_optimizer=True "
                                      "(pickling the optimizer) is not supported")
        self.handle._save_optimizer_states(str(fname))

    def load_optimizer_states(self, fname):
        """Loads the optimizer (updater) state from the file."""
        self.handle._load_optimizer_states(str(fname))

    @staticmethod
    def is_capable(capability):
        """Whether the store supports `capability` (KVStoreBase.OPTIMIZER)."""
        if capability.lower() == KVStoreBase.OPTIMIZER:
            return True
        raise ValueError(f"Unknown capability: {capability}")

    @property
    def type(self):
        """The type of this kvstore ('local', 'device', 'dist_sync', ...)."""
        return self.handle.type

    @property
    def rank(self):
        """The rank of this worker node, in [0, num_workers)."""
        return self.handle.rank

    @property
    def num_workers(self):
        """The number of worker nodes."""
        return self.handle.num_workers

    def barrier(self):
        """Waits for this store's pushes and pulls, then for all workers (global barrier)."""
        self.handle._barrier()

    _barrier = barrier

    def __repr__(self):
        return f"<KVStore {self.type} rank {self.rank}/{self.num_workers}>"


def create(name="local"):
    """Creates a new KVStore: 'local', 'device', 'dist_sync', 'dist_device_sync' or
    'dist_async' (the distributed kinds in a process started by mpirun or
    `python -m mixnet.tools.launch`)."""
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    return KVStore(_core._kvstore_create(name))
