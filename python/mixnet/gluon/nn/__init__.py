"""gluon.nn: neural-network layers. Every layer is a C++ class (mixnet/gluon/nn.h) with MXNet
1.x's constructor signature; Python subclasses of gluon.Block/HybridBlock mix with them."""
from ... import _core
from ..block import Block, HybridBlock, SymbolBlock

_nn = _core.nn
Sequential = _nn.Sequential
HybridSequential = _nn.HybridSequential
Dense = _nn.Dense
Dropout = _nn.Dropout
BatchNorm = _nn.BatchNorm
InstanceNorm = _nn.InstanceNorm
LayerNorm = _nn.LayerNorm
GroupNorm = _nn.GroupNorm
Embedding = _nn.Embedding
Flatten = _nn.Flatten
Lambda = _nn.Lambda
HybridLambda = _nn.HybridLambda
Activation = _nn.Activation
LeakyReLU = _nn.LeakyReLU
PReLU = _nn.PReLU
ELU = _nn.ELU
SELU = _nn.SELU
GELU = _nn.GELU
Swish = _nn.Swish
Conv1D, Conv2D, Conv3D = _nn.Conv1D, _nn.Conv2D, _nn.Conv3D
Conv1DTranspose, Conv2DTranspose, Conv3DTranspose = (
    _nn.Conv1DTranspose, _nn.Conv2DTranspose, _nn.Conv3DTranspose)
MaxPool1D, MaxPool2D, MaxPool3D = _nn.MaxPool1D, _nn.MaxPool2D, _nn.MaxPool3D
AvgPool1D, AvgPool2D, AvgPool3D = _nn.AvgPool1D, _nn.AvgPool2D, _nn.AvgPool3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    _nn.GlobalMaxPool1D, _nn.GlobalMaxPool2D, _nn.GlobalMaxPool3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    _nn.GlobalAvgPool1D, _nn.GlobalAvgPool2D, _nn.GlobalAvgPool3D)
ReflectionPad2D = _nn.ReflectionPad2D
# gluon.contrib.nn's, also reachable here
Identity = _nn.Identity
Concurrent = _nn.Concurrent
HybridConcurrent = _nn.HybridConcurrent


def _getitem(self, key):
    """The i-th child, or a new container of the children in a slice (as MXNet)."""
    if isinstance(key, slice):
        net = type(self)(prefix=self.prefix)
        with net.name_scope():
            net.add(*[self._get(i) for i in range(len(self))[key]])
        return net
    n = len(self)
    if key < 0:
        key += n
    if not 0 <= key < n:
        raise IndexError(f"index {key} is out of range for {type(self).__name__} of {n} blocks")
    return self._get(key)


for _cls in (_nn._SequentialBase, _nn._HybridSequentialBase):
    _cls.__getitem__ = _getitem
