"""gluon.rnn: the fused recurrent layers (RNN, LSTM, GRU) and the cells, C++ blocks
(mixnet/gluon/rnn.h) with MXNet 1.x's signatures and call conventions:

    layer(x) -> out;  layer(x, states) -> (out, [states])
    cell(x, states) -> (out, [states]);  cell.unroll(length, inputs, ...) -> (outputs, states)
"""
from ... import _core
from ...ndarray import zeros as _zeros
from ..block import Block

_rnn = _core.rnn
RNN, LSTM, GRU = _rnn.RNN, _rnn.LSTM, _rnn.GRU
RecurrentCell = _rnn.RecurrentCell
HybridRecurrentCell = _rnn.RecurrentCell
RNNCell, LSTMCell, GRUCell = _rnn.RNNCell, _rnn.LSTMCell, _rnn.GRUCell
SequentialRNNCell = _rnn.SequentialRNNCell
HybridSequentialRNNCell = _rnn.HybridSequentialRNNCell
DropoutCell = _rnn.DropoutCell
ModifierCell = _rnn.ModifierCell
ZoneoutCell = _rnn.ZoneoutCell
ResidualCell = _rnn.ResidualCell
BidirectionalCell = _rnn.BidirectionalCell

_block_call = Block.__call__


def _layer_call(self, inputs, states=None, sequence_length=None):
    """out = layer(x), or (out, [new states]) = layer(x, states)."""
    if sequence_length is not None:
        raise NotImplementedError("RNN layers: use_sequence_length is not supported by mixnet")
    if states is None:
        return _block_call(self, inputs)
    if not isinstance(states, (list, tuple)):
        states = [states]
    out = _block_call(self, inputs, *states)
    return out[0], list(out[1:])


def _cell_call(self, inputs, states):
    """(out, [new states]) = cell(x, states): one time step."""
    if not isinstance(states, (list, tuple)):
        states = [states]
    out = _block_call(self, inputs, *states)
    if not isinstance(out, tuple):
        return out, []
    return out[0], list(out[1:])


def _begin_state(self, batch_size=0, func=_zeros, ctx=None, dtype=None, **kwargs):
    """Initial states (zeros) for batch_size; only func=mx.nd.zeros is supported."""
    if func is not _zeros:
        return [func(shape=info["shape"], ctx=ctx, **kwargs)
                for info in self.state_info(batch_size)]
    return self._begin_state(batch_size, ctx, dtype)


_rnn._RNNLayer.__call__ = _layer_call
_rnn._RNNLayer.begin_state = _begin_state
RecurrentCell.__call__ = _cell_call
RecurrentCell.begin_state = _begin_state
