"""The parameter-server roles of a dist_async job (MXNet's mxnet.kvstore_server).

A job started by ``python -m mixnet.tools.launch -n W -s S ...`` runs the same command as the
scheduler, the servers and the workers. As with ``import mxnet``, importing mixnet in a
process whose DMLC_ROLE is ``server`` or ``scheduler`` runs that role (the C++ loop) until the
job ends and exits the process: 0 when every worker finished, 1 with the error (e.g. which
worker died) when the job failed. Workers go on; at exit they tell the scheduler they are done.
"""
import atexit
import os
import sys

from . import _core

__all__ = ["KVStoreServer"]


class KVStoreServer:
    """MXNet's KVStoreServer: ``KVStoreServer(kvstore).run()`` runs this process's role.

    The servers recreate the optimizer that the workers' ``set_optimizer`` sends (built-in
    optimizers by name and arguments), so ``kvstore`` is not used; it is accepted for MXNet's
    signature."""

    def __init__(self, kvstore=None):
        self.kvstore = kvstore

    def run(self):
        """Runs the server or scheduler loop until the job ends."""
        _core._kvstore_run_server_role()


def _init_kvstore_server_module():
    """Runs the server or scheduler role when DMLC_ROLE names one, then exits the process."""
    role = os.environ.get("DMLC_ROLE", "worker")
    if role not in ("server", "scheduler"):
        atexit.register(_core._kvstore_finish_dist_async)
        return
    try:
        KVStoreServer().run()
    except Exception as e:  # noqa: BLE001  (the job failed: say why, exit non-zero)
        sys.stderr.write(f"mixnet {role}: {e}\n")
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


_init_kvstore_server_module()
