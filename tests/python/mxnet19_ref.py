"""Runs a snippet under Apache MXNet 1.9.1 (its own venv) and returns what it prints as JSON,
for tests that compare mixnet with MXNet itself; they skip when that venv is absent."""
import json
import os
import subprocess
import textwrap

import pytest

MXNET_PYTHON = os.path.expanduser(
    os.environ.get("MIXNET_MXNET_PYTHON", "~/.cache/mixnet/mxnet-1.9.1-venv/bin/python"))


def have_mxnet():
    return os.path.exists(MXNET_PYTHON)


def run_mxnet(code):
    """The JSON value the snippet prints last (the snippet imports what it needs)."""
    if not have_mxnet():
        pytest.skip(f"MXNet 1.9.1 not found at {MXNET_PYTHON}")
    proc = subprocess.run([MXNET_PYTHON, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"MXNet snippet failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
