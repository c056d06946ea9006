// RunServerRoleFromEnv when mixnet is built without ZeroMQ (src/kvstore/dist_async/ is then
// left out): a worker goes on; a server or scheduler process cannot run.
#if !defined(MIXNET_USE_ZMQ)
#include "mixnet/base/env.h"
#include "mixnet/base/error.h"
#include "mixnet/kvstore/server.h"

namespace mixnet::kvstore {

bool RunServerRoleFromEnv() {
  std::string role = GetEnvString("DMLC_ROLE", "worker");
  MX_CHECK(role != "server" && role != "scheduler", NotImplementedError)
      << "DMLC_ROLE=" << role << ": mixnet was built without ZeroMQ (libzmq3-dev), so it "
      << "cannot run dist_async servers";
  return false;
}

void FinishDistAsyncStores() {}

}  // namespace mixnet::kvstore
#endif
