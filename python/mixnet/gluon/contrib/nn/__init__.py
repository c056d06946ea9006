"""gluon.contrib.nn: Identity, Concurrent and HybridConcurrent."""
from ...nn import Identity, Concurrent, HybridConcurrent
