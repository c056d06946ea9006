// The dist_async roles for `import mixnet` (python/mixnet/kvstore_server.py): the server and
// scheduler loops, and finishing this worker's stores at exit.
#include "bind.h"
#include "mixnet/kvstore/server.h"

namespace mixnet::python {

namespace {

void BindKVStoreServer(nb::module_& m) {
  m.def("_kvstore_run_server_role", &kvstore::RunServerRoleFromEnv,
        nb::call_guard<nb::gil_scoped_release>(),
        "Runs the dist_async server or scheduler named by DMLC_ROLE until the job ends; "
        "False for a worker.");
  m.def("_kvstore_finish_dist_async", &kvstore::FinishDistAsyncStores,
        nb::call_guard<nb::gil_scoped_release>(),
        "Tells the dist_async scheduler that this worker is done (at exit).");
}

}  // namespace

MIXNET_PY_BIND(92, BindKVStoreServer);

}  // namespace mixnet::python
