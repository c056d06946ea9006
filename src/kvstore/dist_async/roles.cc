#include "kvstore/dist_async/van.h"
#include "mixnet/base/env.h"
#include "mixnet/kvstore/server.h"

namespace mixnet::kvstore {

bool RunServerRoleFromEnv() {
  std::string role = GetEnvString("DMLC_ROLE", "worker");
  if (role != "server" && role != "scheduler") return false;
  dist_async::Config cfg = dist_async::Config::FromEnv();
  if (role == "scheduler") {
    dist_async::RunScheduler(cfg);
  } else {
    dist_async::RunServer(cfg);
  }
  return true;
}

}  // namespace mixnet::kvstore
