"""Runnable examples: python -m mixnet.examples.<name> (see each module's docstring)."""
