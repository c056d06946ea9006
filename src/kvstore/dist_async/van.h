/*!
 * \file van.h
 * \brief dist_async's transport: ZeroMQ messages between the scheduler, the servers and the
 * workers (MXNet's ps-lite "van"), and the job's configuration from DMLC_* variables.
 *
 * NOTE [ dist_async protocol ]
 * Every message is two frames: a fixed `Head` and a body (bytes; empty for control messages).
 * The scheduler and each server own a ROUTER socket; every other node talks to them through a
 * DEALER, so a ROUTER answers a request by the identity frame ZeroMQ put in front of it.
 * - Rendezvous: the scheduler binds DMLC_PS_ROOT_URI:DMLC_PS_ROOT_PORT. A server binds an
 *   ephemeral port on the interface that reaches the scheduler and registers with its address;
 *   a worker registers (with DMLC_WORKER_ID when set). When DMLC_NUM_SERVER servers and
 *   DMLC_NUM_WORKER workers have registered, the scheduler sends each its rank and the server
 *   table (kTable); workers then connect to every server directly.
 * - Liveness: every node sends kHeartbeat to the scheduler each heartbeat interval and the
 *   scheduler answers it. A node silent for the heartbeat timeout is dead: the scheduler sends
 *   kAbort (naming it) to everyone else and exits with an error; a node that no longer hears
 *   the scheduler stops with an error too. Requests to servers carry a deadline
 *   (MIXNET_KVSTORE_TIMEOUT), so a worker never waits forever.
 * - End: a worker that finishes sends kDone; when every worker is done the scheduler sends kStop
 *   to the servers, waits for their answers, and everyone exits 0. Sockets have linger 0 and
 *   unlimited queues: a send never blocks and a close never waits for an absent peer.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace mixnet::optimizer {
class Optimizer;
}

namespace mixnet::kvstore::dist_async {

enum class Cmd : int32_t {
  // node <-> scheduler
  kRegister = 1,  // arg: 0 server / 1 worker; key: requested id or -1; body: server address
  kTable,         // key: rank; arg: num_workers; body: server addresses, '\n'-separated
  kHeartbeat,
  kBarrier,      // worker -> scheduler; answered with kBarrierDone carrying the same req
  kBarrierDone,  //
  kDone,         // worker finished (answered with kDone)
  kStop,         // scheduler -> server (answered with kStop)
  kAbort,        // scheduler -> node; body: why
  // worker <-> server (answered with kReply, or kError with the message as body)
  kInit = 20,     // body: the shard's bytes
  kPush,          // body: the shard's bytes, or 2-bit words when threshold > 0
  kPull,          // kReply's body: the shard's bytes
  kSetOptimizer,  // body: JSON (see kvstore_dist_async.cc)
  kReply,         //
  kError,         //
};

/*! \brief The first frame of every message. */
struct Head {
  Cmd cmd{};
  int32_t key = 0;
  uint64_t req = 0;     //!< request id, echoed by the answer
  int64_t offset = 0;   //!< first element of a shard in the whole array
  int64_t length = 0;   //!< elements in the shard
  int32_t arg = 0;      //!< command-specific (dtype for data messages)
  float threshold = 0;  //!< > 0: the body holds 2-bit words (NOTE [ 2-bit compression ])
  /*! \brief kPush: the pushing worker's optimizer's rescale_grad and learning rate now
   * (0: no optimizer), which the server's copy takes before applying the push. */
  double rescale_grad = 0, learning_rate = 0;
};

struct Msg {
  Head head;
  std::string body;
};

/*! \brief A ZeroMQ socket with linger 0 and unlimited queues, closed on destruction. */
class Socket {
 public:
  Socket(void* context, int type);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  void* get() const { return sock_; }
  void Bind(const std::string& endpoint);
  void Connect(const std::string& endpoint);
  /*! \brief The bound endpoint ("tcp://127.0.0.1:41234"). */
  std::string LastEndpoint() const;
  /*! \brief Sends `m`, to the peer `to` on a ROUTER. */
  void Send(const Msg& m, const std::string* to = nullptr);
  /*! \brief Receives one message if one is waiting (false otherwise); `from` gets a ROUTER's
   * identity frame. */
  bool TryRecv(Msg* m, std::string* from = nullptr);

 private:
  void* sock_;
};

/*! \brief A ZeroMQ context, terminated on destruction (after its sockets are closed). */
class Context {
 public:
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  void* get() const { return ctx_; }

 private:
  void* ctx_;
};

/*! \brief Waits up to timeout_ms for one of `socks` (or `fd` >= 0) to be readable. */
void Poll(void* const* socks, int n, int fd, int timeout_ms);

/*! \brief The job, from DMLC_* and MIXNET_KVSTORE_* variables (or set by in-process tests). */
struct Config {
  std::string role;  //!< DMLC_ROLE: "scheduler", "server" or "worker"
  std::string root_uri = "127.0.0.1";
  int root_port = 0;
  int num_workers = 1;
  int num_servers = 1;
  int worker_id = -1;                //!< DMLC_WORKER_ID, -1: rank by registration order
  int server_id = -1;                //!< DMLC_SERVER_ID
  double heartbeat_interval_s = 1;   //!< MIXNET_KVSTORE_HEARTBEAT_INTERVAL
  double heartbeat_timeout_s = 15;   //!< MIXNET_KVSTORE_HEARTBEAT_TIMEOUT
  double timeout_s = 120;            //!< MIXNET_KVSTORE_TIMEOUT: rendezvous and each request
  int64_t bigarray_bound = 1000000;  //!< MXNET_KVSTORE_BIGARRAY_BOUND
  std::string stats_path;            //!< MIXNET_KVSTORE_SERVER_STATS: servers write stats there

  /*! \brief Reads the environment; ValueError naming a missing or bad variable. */
  static Config FromEnv();
  /*! \brief "tcp://uri:port" of the scheduler. */
  std::string SchedulerEndpoint() const;
};

/*! \brief The address of this host's interface that routes to `peer` (for a server's bind). */
std::string LocalAddressTowards(const std::string& peer);

/*! \brief An optimizer as kSetOptimizer sends it (name, kwargs as they are now, lr_mult,
 * wd_mult, idx2name), and its recreation with optimizer::CreateOptimizer on a server. */
std::string EncodeOptimizer(const optimizer::Optimizer& opt);
std::unique_ptr<optimizer::Optimizer> DecodeOptimizer(const std::string& body);

/*! \brief Runs the scheduler until the job ends; throws mixnet::Error when it fails (a node
 * died, the rendezvous timed out). */
void RunScheduler(const Config& cfg);
/*! \brief Runs a server until the scheduler stops it; throws when the job is aborted. */
void RunServer(const Config& cfg);

}  // namespace mixnet::kvstore::dist_async
