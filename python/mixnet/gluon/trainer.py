"""gluon.Trainer: the C++ Trainer (mixnet/gluon/trainer.h).

Trainer(params, optimizer, optimizer_params=None, kvstore='device', compression_params=None,
update_on_kvstore=None), with MXNet 1.9's kvstore rules: kvstore is a kind's name, a KVStore
(mx.kv.create) or None. With one context a non-distributed name needs no store; otherwise the
store is created at the first step, every parameter is initialized on it and pulled to all
contexts (and, distributed, all workers start from rank 0's values), and each step pushpulls
the gradients (summed over contexts and workers). update_on_kvstore (default False; True for
dist_async) runs the optimizer on the store instead. compression_params goes to
kv.set_gradient_compression. save_states writes the optimizer's states as an MXNet .nd list,
where MXNet pickled them.
"""
from .. import _core
from ..kvstore import KVStore

__all__ = ["Trainer"]


class Trainer(_core.Trainer):
    """Applies an Optimizer on a set of Parameters. Trainer should be used together with
    autograd.

    Parameters
    ----------
    params : ParameterDict, dict or list of Parameters
    optimizer : str or Optimizer
    optimizer_params : dict
    kvstore : str or KVStore, default 'device'
        kvstore type for multi-gpu and distributed training.
    compression_params : dict
        Specifies type of gradient compression and additional arguments depending on the
        type of compression being used. For example, 2bit compression requires a threshold.
        Arguments would then be {'type':'2bit', 'threshold':0.5}.
    update_on_kvstore : bool, default None
        Whether to perform parameter updates on kvstore. If None, then trainer will choose the
        more suitable option depending on the type of kvstore.
    """

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device",
                 compression_params=None, update_on_kvstore=None):
        super().__init__(params, optimizer, optimizer_params, kvstore, compression_params,
                         update_on_kvstore)
        self._kvstore_given = kvstore if isinstance(kvstore, KVStore) else None
        self._kvstore_wrapper = None

    @property
    def _kvstore(self):
        """The KVStore the trainer uses (None when it needs none), as MXNet's."""
        handle = self._kvstore_handle
        if handle is None:
            return None
        if self._kvstore_given is not None:
            return self._kvstore_given
        if self._kvstore_wrapper is None or self._kvstore_wrapper.handle is not handle:
            self._kvstore_wrapper = KVStore(handle)
        return self._kvstore_wrapper
