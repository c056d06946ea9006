"""pytest options for the MXNet 1.9.1 interoperability tests."""
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--ndfile", default=None,
                     help="path to the mixnet_ndfile tool (ctest passes the built target)")
    parser.addoption("--op-run", default=None,
                     help="path to the mixnet_op_run tool (ctest passes the built target)")
    parser.addoption("--sym-json", default=None,
                     help="path to the mixnet_sym_json tool (ctest passes the built target)")


@pytest.fixture(scope="session")
def ndfile(request):
    path = request.config.getoption("--ndfile")
    if path is None:
        pytest.skip("pass --ndfile PATH to the mixnet_ndfile tool")
    if not os.access(path, os.X_OK):
        pytest.fail(f"--ndfile {path} is not an executable")
    return path


@pytest.fixture(scope="session")
def op_run(request):
    path = request.config.getoption("--op-run")
    if path is None:
        pytest.skip("pass --op-run PATH to the mixnet_op_run tool")
    if not os.access(path, os.X_OK):
        pytest.fail(f"--op-run {path} is not an executable")
    return path


@pytest.fixture(scope="session")
def sym_json(request):
    path = request.config.getoption("--sym-json")
    if path is None:
        pytest.skip("pass --sym-json PATH to the mixnet_sym_json tool")
    if not os.access(path, os.X_OK):
        pytest.fail(f"--sym-json {path} is not an executable")
    return path
