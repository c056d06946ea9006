/*!
 * \file server.h
 * \brief The non-worker roles of a dist_async job (MXNet's KVStoreServer / ps-lite scheduler).
 *
 * A job started by `python -m mixnet.tools.launch -n W -s S ...` runs the same program as the
 * scheduler, the servers and the workers, telling them apart by DMLC_ROLE. A C++ program calls
 * RunServerRoleFromEnv() first thing:
 *
 *   int main() {
 *     if (mixnet::kvstore::RunServerRoleFromEnv()) return 0;  // was a server or the scheduler
 *     auto kv = mixnet::kvstore::KVStore::Create("dist_async");  // a worker
 *     ...
 *   }
 *
 * (`import mixnet` does the same for Python programs, as `import mxnet` does.)
 */
#pragma once

namespace mixnet::kvstore {

/*!
 * \brief When DMLC_ROLE is "server" or "scheduler", runs that role until the job ends and
 * returns true; returns false at once for a worker (DMLC_ROLE unset or "worker"). Throws
 * mixnet::Error when the job fails (a node died; the message names it), or when mixnet was
 * built without ZeroMQ.
 */
bool RunServerRoleFromEnv();

/*!
 * \brief Finishes this process's dist_async stores: waits for their pushes and pulls and tells
 * the scheduler this worker is done (a store does it when destroyed; Python calls this at
 * exit, where stores may never be destroyed). Idempotent; a no-op without stores.
 */
void FinishDistAsyncStores();

}  // namespace mixnet::kvstore
