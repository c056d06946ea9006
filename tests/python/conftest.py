"""Shared pytest fixtures for the mixnet Python suites."""
import os
import subprocess

import pytest

MXNET_PYTHON = os.environ.get(
    "MXNET_PYTHON", os.path.expanduser("~/.cache/mixnet/mxnet-1.9.1-venv/bin/python"))


@pytest.fixture(scope="session")
def mxnet_python():
    """The python of the MXNet 1.9.1 virtual environment (for interop tests run as
    subprocesses); skips when it is absent or cannot import mxnet."""
    if not os.path.exists(MXNET_PYTHON):
        pytest.skip(f"MXNet 1.9.1 venv not found at {MXNET_PYTHON} (set MXNET_PYTHON)")
    r = subprocess.run([MXNET_PYTHON, "-c", "import mxnet; print(mxnet.__version__)"],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"{MXNET_PYTHON} cannot import mxnet: {r.stderr.strip()[-300:]}")
    return MXNET_PYTHON
