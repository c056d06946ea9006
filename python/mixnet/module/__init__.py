"""A module is like a FeedForward model but would like to make it easier to compose, similar
to Torch modules (mx.mod)."""
from .module import Module

__all__ = ["Module"]
