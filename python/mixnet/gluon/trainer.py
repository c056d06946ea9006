"""gluon.Trainer: the C++ Trainer (mixnet/gluon/trainer.h).

Trainer(params, optimizer, optimizer_params=None, kvstore='device', compression_params=None,
update_on_kvstore=None). kvstore: 'device'/'local' sum gradients over the parameters'
contexts, None no reduction; a KVStore object is taken as 'device' (mixnet reduces within the
process itself), compression_params and update_on_kvstore are accepted and ignored, and the
distributed kinds raise NotImplementedError. save_states writes the optimizer's states as an
MXNet .nd list, where MXNet pickled them.
"""
from .. import _core

Trainer = _core.Trainer
