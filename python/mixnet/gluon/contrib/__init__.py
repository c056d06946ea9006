"""gluon.contrib: the contrib layers mixnet has (contrib.nn)."""
from . import nn
