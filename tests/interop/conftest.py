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
    parser.addoption("--module-run", default=None,
                     help="path to the mixnet_module_run tool (ctest passes the built target)")
    parser.addoption("--gluon-run", default=None,
                     help="path to the mixnet_gluon_run tool (ctest passes the built target)")
    parser.addoption("--zoo-run", default=None,
                     help="path to the mixnet_zoo_run tool (ctest passes the built target)")


def tool_path(request, option, target):
    path = request.config.getoption(option)
    if path is None:
        pytest.skip(f"pass {option} PATH to the {target} tool")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{option} {path} is not an executable")
    return path


@pytest.fixture(scope="session")
def ndfile(request):
    return tool_path(request, "--ndfile", "mixnet_ndfile")


@pytest.fixture(scope="session")
def op_run(request):
    return tool_path(request, "--op-run", "mixnet_op_run")


@pytest.fixture(scope="session")
def sym_json(request):
    return tool_path(request, "--sym-json", "mixnet_sym_json")


@pytest.fixture(scope="session")
def module_run(request):
    return tool_path(request, "--module-run", "mixnet_module_run")


@pytest.fixture(scope="session")
def gluon_run(request):
    return tool_path(request, "--gluon-run", "mixnet_gluon_run")


@pytest.fixture(scope="session")
def zoo_run(request):
    return tool_path(request, "--zoo-run", "mixnet_zoo_run")
