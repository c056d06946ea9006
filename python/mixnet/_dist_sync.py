"""dist_sync workers: an uncaught exception ends the whole job at once.

Under mpirun with several ranks, a worker whose program raises would otherwise exit through
the normal path, where the dist_sync communication thread joins the others (zero gradients)
until they all finish (NOTE [ dist_sync control word ]): the job would carry on without it and
report the failure only at the end. Instead, after printing the traceback, the worker exits at
once with status 1; mpirun then stops the other ranks and the launcher names the worker
("launch: worker rank 1 exited with status 1; stopping the job"). A worker that finishes
normally with fewer batches still joins the others.
"""
import os
import sys


def _under_mpi_with_peers():
    try:
        return int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("PMI_SIZE", "1"))) > 1
    except ValueError:
        return False


def _install():
    previous = sys.excepthook

    def excepthook(kind, value, tb):
        try:
            previous(kind, value, tb)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(1)  # skip the exit-time join: fail the job now

    sys.excepthook = excepthook


if _under_mpi_with_peers():
    _install()
