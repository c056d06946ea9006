"""mx.gluon: MXNet 1.x's imperative/hybrid neural-network API on mixnet's C++ gluon
(blocks, parameters, layers, losses, Trainer and model zoo are C++ classes; this package gives
them MXNet's Python names and signatures)."""
from .parameter import Parameter, Constant, ParameterDict, DeferredInitializationError
from .block import Block, HybridBlock, SymbolBlock
from . import nn
from . import rnn
from . import loss
from .trainer import Trainer
from . import utils
from . import data
from . import model_zoo
from . import contrib
