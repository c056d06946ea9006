// The dist_async scheduler: rendezvous, barriers, liveness and the end of the job
// (NOTE [ dist_async protocol ] in van.h).
#include <zmq.h>

#include <chrono>
#include <map>
#include <sstream>
#include <vector>

#include "kvstore/dist_async/van.h"
#include "mixnet/base/error.h"

namespace mixnet::kvstore::dist_async {

namespace {

using Clock = std::chrono::steady_clock;

struct Node {
  std::string id;  // ROUTER identity
  bool server;
  int requested;  // DMLC_WORKER_ID / DMLC_SERVER_ID, -1 if unset
  std::string addr;
  int rank = -1;
  Clock::time_point seen;
  bool done = false;
};

std::string NodeName(const Node& n) {
  return std::string(n.server ? "server " : "worker ") + std::to_string(n.rank);
}

/*! \brief Gives the requested ranks first, then the others in registration order. */
void AssignRanks(std::vector<Node*>& nodes, const char* what) {
  std::vector<bool> taken(nodes.size(), false);
  for (Node* n : nodes) {
    if (n->requested < 0) continue;
    MX_CHECK(n->requested < static_cast<int>(nodes.size()) && !taken[n->requested], ValueError)
        << "dist_async scheduler: " << what << " id " << n->requested
        << " is out of range or given twice (" << nodes.size() << " " << what << "s)";
    n->rank = n->requested;
    taken[n->rank] = true;
  }
  int next = 0;
  for (Node* n : nodes) {
    if (n->rank >= 0) continue;
    while (taken[next])
      ++next;
    n->rank = next;
    taken[next] = true;
  }
}

class Scheduler {
 public:
  explicit Scheduler(const Config& cfg) : cfg_(cfg), sock_(ctx_.get(), ZMQ_ROUTER) {
    bool loopback = cfg.root_uri == "127.0.0.1" || cfg.root_uri == "localhost";
    sock_.Bind(std::string("tcp://") + (loopback ? "127.0.0.1" : "*") + ":" +
               std::to_string(cfg.root_port));
  }

  void Run() {
    auto start = Clock::now();
    auto hb_timeout = std::chrono::duration<double>(cfg_.heartbeat_timeout_s);
    while (true) {
      void* s = sock_.get();
      Poll(&s, 1, -1, 100);
      Msg m;
      std::string from;
      while (sock_.TryRecv(&m, &from)) {
        if (Handle(m, from)) return;
      }
      auto now = Clock::now();
      if (!started_) {
        MX_CHECK(now - start < std::chrono::duration<double>(cfg_.timeout_s), Error)
            << "dist_async scheduler: " << servers_ << " of " << cfg_.num_servers << " servers and "
            << workers_ << " of " << cfg_.num_workers << " workers registered within "
            << cfg_.timeout_s << " s (MIXNET_KVSTORE_TIMEOUT)";
        continue;
      }
      for (Node& n : nodes_) {
        if (!n.done && now - n.seen > hb_timeout) {
          std::ostringstream why;
          why << "dist_async: " << NodeName(n) << " sent no heartbeat for "
              << cfg_.heartbeat_timeout_s
              << " s (MIXNET_KVSTORE_HEARTBEAT_TIMEOUT): it died or hung; the job is stopped";
          Abort(why.str());
        }
      }
    }
  }

 private:
  /*! \brief Handles one message; true when the job has ended. */
  bool Handle(const Msg& m, const std::string& from) {
    auto it = index_.find(from);
    if (it != index_.end()) nodes_[it->second].seen = Clock::now();
    switch (m.head.cmd) {
      case Cmd::kRegister:
        Register(m, from);
        break;
      case Cmd::kHeartbeat:
        Reply(from, Cmd::kHeartbeat, 0);
        break;
      case Cmd::kBarrier:
        barrier_.emplace_back(from, m.head.req);
        MaybeReleaseBarrier();
        break;
      case Cmd::kDone: {
        if (it == index_.end()) break;
        Node& n = nodes_[it->second];
        if (!n.done) ++done_;
        n.done = true;
        Reply(from, Cmd::kDone, m.head.req);
        MaybeReleaseBarrier();
        if (done_ == cfg_.num_workers) {
          StopServers();
          return true;
        }
        break;
      }
      default:
        MX_INTERNAL_ASSERT(false) << "dist_async scheduler: unexpected command "
                                  << static_cast<int>(m.head.cmd);
    }
    return false;
  }

  void Reply(const std::string& to, Cmd cmd, uint64_t req, std::string body = {}) {
    Msg r;
    r.head.cmd = cmd;
    r.head.req = req;
    r.body = std::move(body);
    sock_.Send(r, &to);
  }

  void Register(const Msg& m, const std::string& from) {
    MX_CHECK(!started_ && !index_.count(from), Error)
        << "dist_async scheduler: a node registered after the job started (more processes "
        << "than DMLC_NUM_WORKER=" << cfg_.num_workers << " + DMLC_NUM_SERVER=" << cfg_.num_servers
        << "?)";
    Node n{from, m.head.arg == 0, m.head.key, m.body};
    n.seen = Clock::now();
    index_[from] = nodes_.size();
    nodes_.push_back(std::move(n));
    (m.head.arg == 0 ? servers_ : workers_)++;
    MX_CHECK(servers_ <= cfg_.num_servers && workers_ <= cfg_.num_workers, Error)
        << "dist_async scheduler: more nodes registered than DMLC_NUM_SERVER=" << cfg_.num_servers
        << " servers and DMLC_NUM_WORKER=" << cfg_.num_workers << " workers";
    if (servers_ < cfg_.num_servers || workers_ < cfg_.num_workers) return;
    std::vector<Node*> servers, workers;
    for (Node& x : nodes_)
      (x.server ? servers : workers).push_back(&x);
    try {
      AssignRanks(servers, "server");
      AssignRanks(workers, "worker");
    } catch (const std::exception& e) {
      Abort(e.what());  // tell every node, rather than leave them waiting for the table
    }
    std::vector<std::string> addrs(servers.size());
    for (Node* s : servers)
      addrs[s->rank] = s->addr;
    std::string table;
    for (const std::string& a : addrs)
      table += a + "\n";
    for (Node& x : nodes_) {
      Msg t;
      t.head.cmd = Cmd::kTable;
      t.head.key = x.rank;
      t.head.arg = cfg_.num_workers;
      t.body = table;
      sock_.Send(t, &x.id);
      x.seen = Clock::now();
    }
    started_ = true;
  }

  // NOTE: a worker that has finished counts as arrived, so uneven numbers of barriers at the
  // end of training do not hang the others.
  void MaybeReleaseBarrier() {
    if (barrier_.empty() || static_cast<int>(barrier_.size()) + done_ < cfg_.num_workers) return;
    for (auto& [id, req] : barrier_)
      Reply(id, Cmd::kBarrierDone, req);
    barrier_.clear();
  }

  /*! \brief Stops every server and waits (bounded) for their answers, so none is left. */
  void StopServers() {
    for (Node& n : nodes_) {
      if (n.server) Reply(n.id, Cmd::kStop, 0);
    }
    int answered = 0;
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(cfg_.heartbeat_timeout_s));
    while (answered < cfg_.num_servers && Clock::now() < deadline) {
      void* s = sock_.get();
      Poll(&s, 1, -1, 50);
      Msg m;
      std::string from;
      while (sock_.TryRecv(&m, &from))
        answered += m.head.cmd == Cmd::kStop;
    }
  }

  [[noreturn]] void Abort(const std::string& why) {
    for (Node& n : nodes_) {
      if (!n.done) Reply(n.id, Cmd::kAbort, 0, why);
    }
    // Linger 0 drops what is unsent at close: give the messages a moment to leave.
    auto until = Clock::now() + std::chrono::milliseconds(300);
    while (Clock::now() < until) {
      void* s = sock_.get();
      Poll(&s, 1, -1, 50);
      Msg m;
      std::string from;
      while (sock_.TryRecv(&m, &from)) {
      }
    }
    MX_THROW(Error) << why;
  }

  const Config& cfg_;
  dist_async::Context ctx_;
  Socket sock_;
  std::vector<Node> nodes_;
  std::map<std::string, size_t> index_;
  int servers_ = 0, workers_ = 0, done_ = 0;
  bool started_ = false;
  std::vector<std::pair<std::string, uint64_t>> barrier_;
};

}  // namespace

void RunScheduler(const Config& cfg) {
  Scheduler(cfg).Run();
}

}  // namespace mixnet::kvstore::dist_async
