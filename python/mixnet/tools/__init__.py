"""Command-line tools of MXNet 1.x: python -m mixnet.tools.<name> (see each module's docstring)."""
