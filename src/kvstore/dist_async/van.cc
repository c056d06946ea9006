#include "kvstore/dist_async/van.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kvstore/wait.h"
#include "mixnet/base/env.h"
#include "mixnet/base/error.h"

namespace mixnet::kvstore::dist_async {

namespace {

[[noreturn]] void ZmqFail(const char* what) {
  MX_THROW(Error) << "dist_async: " << what << ": " << zmq_strerror(zmq_errno());
}

void SendFrame(void* s, const void* data, size_t n, int flags) {
  while (zmq_send(s, data, n, flags) < 0) {
    if (zmq_errno() != EINTR) ZmqFail("zmq_send");
  }
}

/*! \brief Receives one frame into `out`; returns whether more frames follow. */
bool RecvFrame(void* s, std::string* out) {
  zmq_msg_t msg;
  zmq_msg_init(&msg);
  while (zmq_msg_recv(&msg, s, 0) < 0) {
    if (zmq_errno() != EINTR) {
      zmq_msg_close(&msg);
      ZmqFail("zmq_msg_recv");
    }
  }
  out->assign(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
  bool more = zmq_msg_more(&msg);
  zmq_msg_close(&msg);
  return more;
}

int EnvInt(const char* name, int fallback, bool required) {
  MX_CHECK(std::getenv(name) || !required, ValueError)
      << "dist_async: " << name << " is not set (start the job with `python -m "
      << "mixnet.tools.launch`, which sets DMLC_ROLE, DMLC_PS_ROOT_URI, DMLC_PS_ROOT_PORT, "
      << "DMLC_NUM_WORKER and DMLC_NUM_SERVER)";
  return static_cast<int>(GetEnvInt(name, fallback));
}

}  // namespace

Context::Context() : ctx_(zmq_ctx_new()) {
  if (!ctx_) ZmqFail("zmq_ctx_new");
}
Context::~Context() {
  zmq_ctx_term(ctx_);
}

Socket::Socket(void* context, int type) : sock_(zmq_socket(context, type)) {
  if (!sock_) ZmqFail("zmq_socket");
  int zero = 0;
  zmq_setsockopt(sock_, ZMQ_LINGER, &zero, sizeof(zero));
  zmq_setsockopt(sock_, ZMQ_SNDHWM, &zero, sizeof(zero));
  zmq_setsockopt(sock_, ZMQ_RCVHWM, &zero, sizeof(zero));
}
Socket::~Socket() {
  zmq_close(sock_);
}

void Socket::Bind(const std::string& endpoint) {
  MX_CHECK(zmq_bind(sock_, endpoint.c_str()) == 0, Error)
      << "dist_async: cannot bind " << endpoint << ": " << zmq_strerror(zmq_errno());
}
void Socket::Connect(const std::string& endpoint) {
  MX_CHECK(zmq_connect(sock_, endpoint.c_str()) == 0, Error)
      << "dist_async: cannot connect to " << endpoint << ": " << zmq_strerror(zmq_errno());
}
std::string Socket::LastEndpoint() const {
  char buf[256];
  size_t n = sizeof(buf);
  if (zmq_getsockopt(sock_, ZMQ_LAST_ENDPOINT, buf, &n) != 0) ZmqFail("ZMQ_LAST_ENDPOINT");
  return std::string(buf);
}

void Socket::Send(const Msg& m, const std::string* to) {
  if (to) SendFrame(sock_, to->data(), to->size(), ZMQ_SNDMORE);
  SendFrame(sock_, &m.head, sizeof(Head), ZMQ_SNDMORE);
  SendFrame(sock_, m.body.data(), m.body.size(), 0);
}

bool Socket::TryRecv(Msg* m, std::string* from) {
  int events = 0;
  size_t n = sizeof(events);
  zmq_getsockopt(sock_, ZMQ_EVENTS, &events, &n);
  if (!(events & ZMQ_POLLIN)) return false;
  std::vector<std::string> frames(1);
  while (RecvFrame(sock_, &frames.back()))
    frames.emplace_back();
  size_t first = from ? 1 : 0;
  MX_INTERNAL_ASSERT(frames.size() == first + 2 && frames[first].size() == sizeof(Head))
      << "dist_async: malformed message of " << frames.size() << " frames";
  if (from) *from = std::move(frames[0]);
  std::memcpy(&m->head, frames[first].data(), sizeof(Head));
  m->body = std::move(frames[first + 1]);
  return true;
}

void Poll(void* const* socks, int n, int fd, int timeout_ms) {
  std::vector<zmq_pollitem_t> items;
  for (int i = 0; i < n; ++i)
    items.push_back({socks[i], 0, ZMQ_POLLIN, 0});
  if (fd >= 0) items.push_back({nullptr, fd, ZMQ_POLLIN, 0});
  if (zmq_poll(items.data(), static_cast<int>(items.size()), timeout_ms) < 0 &&
      zmq_errno() != EINTR) {
    ZmqFail("zmq_poll");
  }
}

Config Config::FromEnv() {
  Config c;
  c.role = GetEnvString("DMLC_ROLE", "worker");
  MX_CHECK(c.role == "worker" || c.role == "server" || c.role == "scheduler", ValueError)
      << "dist_async: DMLC_ROLE='" << c.role << "' is not worker, server or scheduler";
  const char* uri = std::getenv("DMLC_PS_ROOT_URI");
  MX_CHECK(uri && *uri, ValueError)
      << "dist_async: DMLC_PS_ROOT_URI is not set (start the job with `python -m "
      << "mixnet.tools.launch -n W -s S --launcher local ...`)";
  c.root_uri = uri;
  c.root_port = EnvInt("DMLC_PS_ROOT_PORT", 0, true);
  c.num_workers = EnvInt("DMLC_NUM_WORKER", 1, true);
  c.num_servers = EnvInt("DMLC_NUM_SERVER", 1, true);
  MX_CHECK(c.num_workers >= 1 && c.num_servers >= 1, ValueError)
      << "dist_async: DMLC_NUM_WORKER=" << c.num_workers << " and DMLC_NUM_SERVER=" << c.num_servers
      << " must both be >= 1";
  c.worker_id = EnvInt("DMLC_WORKER_ID", -1, false);
  c.server_id = EnvInt("DMLC_SERVER_ID", -1, false);
  c.heartbeat_interval_s = EnvSeconds("MIXNET_KVSTORE_HEARTBEAT_INTERVAL", c.heartbeat_interval_s);
  c.heartbeat_timeout_s = EnvSeconds("MIXNET_KVSTORE_HEARTBEAT_TIMEOUT", c.heartbeat_timeout_s);
  c.timeout_s = TimeoutSeconds();
  c.bigarray_bound = GetEnvInt("MIXNET_KVSTORE_BIGARRAY_BOUND", c.bigarray_bound);
  MX_CHECK(c.bigarray_bound >= 1, ValueError)
      << "dist_async: MXNET_KVSTORE_BIGARRAY_BOUND must be >= 1, got " << c.bigarray_bound;
  c.stats_path = GetEnvString("MIXNET_KVSTORE_SERVER_STATS", "");
  return c;
}

std::string Config::SchedulerEndpoint() const {
  return "tcp://" + root_uri + ":" + std::to_string(root_port);
}

std::string LocalAddressTowards(const std::string& peer) {
  if (peer == "127.0.0.1" || peer == "localhost") return "127.0.0.1";
  // A UDP "connection" sends nothing; it only makes the kernel pick the route's source address.
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  MX_CHECK(getaddrinfo(peer.c_str(), "9", &hints, &res) == 0 && res, ValueError)
      << "dist_async: cannot resolve DMLC_PS_ROOT_URI '" << peer << "'";
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  std::string out = "0.0.0.0";
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    char buf[INET_ADDRSTRLEN];
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        inet_ntop(AF_INET, &local.sin_addr, buf, sizeof(buf))) {
      out = buf;
    }
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(res);
  return out;
}

}  // namespace mixnet::kvstore::dist_async
