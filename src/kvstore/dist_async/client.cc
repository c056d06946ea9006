#include "kvstore/dist_async/client.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "mixnet/base/error.h"

namespace mixnet::kvstore::dist_async {

namespace {

using Clock = std::chrono::steady_clock;

const char* CmdName(Cmd c) {
  switch (c) {
    case Cmd::kInit:
      return "init";
    case Cmd::kPush:
      return "push";
    case Cmd::kPull:
      return "pull";
    case Cmd::kSetOptimizer:
      return "set_optimizer";
    case Cmd::kBarrier:
      return "barrier";
    case Cmd::kDone:
      return "finish";
    default:
      return "request";
  }
}

std::exception_ptr MakeError(const std::string& what) {
  return std::make_exception_ptr(Error(what));
}

}  // namespace

void Client::Pending::Complete() {
  if (finished) return;
  finished = true;
  done(error);
}

Client::Client(const Config& cfg) : cfg_(cfg), sched_(ctx_.get(), ZMQ_DEALER) {
  sched_.Connect(cfg_.SchedulerEndpoint());
  Msg reg;
  reg.head.cmd = Cmd::kRegister;
  reg.head.arg = 1;
  reg.head.key = cfg_.worker_id;
  sched_.Send(reg);
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(cfg_.timeout_s));
  Msg m;
  while (true) {
    void* s = sched_.get();
    Poll(&s, 1, -1, 100);
    if (sched_.TryRecv(&m)) {
      if (m.head.cmd == Cmd::kAbort) MX_THROW(Error) << m.body;
      if (m.head.cmd == Cmd::kTable) break;
    }
    MX_CHECK(Clock::now() < deadline, Error)
        << "dist_async worker: the scheduler at " << cfg_.SchedulerEndpoint()
        << " did not start the job within " << cfg_.timeout_s
        << " s (MIXNET_KVSTORE_TIMEOUT): are DMLC_NUM_SERVER=" << cfg_.num_servers
        << " servers and DMLC_NUM_WORKER=" << cfg_.num_workers << " workers running?";
  }
  rank_ = m.head.key;
  num_workers_ = m.head.arg;
  std::istringstream table(m.body);
  for (std::string addr; std::getline(table, addr);) {
    servers_.push_back(std::make_unique<Socket>(ctx_.get(), ZMQ_DEALER));
    servers_.back()->Connect(addr);
  }
  MX_INTERNAL_ASSERT(!servers_.empty()) << "dist_async: the scheduler sent no servers";
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  MX_CHECK(wake_fd_ >= 0, Error) << "dist_async worker: eventfd failed";
  thread_ = std::thread([this] { Loop(); });
}

Client::~Client() {
  try {
    Finish();
  } catch (const std::exception&) {
    // The job failed already; that error was (or will be) raised where it was observed.
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
  close(wake_fd_);
}

std::vector<Client::Range> Client::Shards(int key, int64_t size) const {
  int n = num_servers();
  if (size <= cfg_.bigarray_bound) {
    int server = static_cast<int>((static_cast<int64_t>(key) * 9973) % n);
    return {{server < 0 ? server + n : server, 0, size}};
  }
  std::vector<Range> out;
  for (int i = 0; i < n; ++i) {
    int64_t b = std::llround(static_cast<double>(size) / n * i);
    int64_t e = std::llround(static_cast<double>(size) / n * (i + 1));
    if (e > b) out.push_back({i, b, e});
  }
  return out;
}

void Client::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void Client::Request(std::vector<Part> parts, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.emplace_back(std::move(parts), std::move(done));
  }
  Wake();
}

void Client::RequestSync(std::vector<Part> parts) {
  WaitDone([&](Done done) { Request(std::move(parts), std::move(done)); });
}

void Client::Barrier() {
  Part p;
  p.head.cmd = Cmd::kBarrier;
  RequestSync({std::move(p)});
}

void Client::Finish() {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = true;
  }
  Part p;
  p.head.cmd = Cmd::kDone;
  RequestSync({std::move(p)});
}

void Client::SendParts(std::vector<Part> parts, Done done) {
  auto pending = std::make_shared<Pending>();
  pending->remaining = static_cast<int>(parts.size());
  pending->done = std::move(done);
  // Requests to servers have a deadline; a barrier may wait for slow workers as long as they
  // are alive, which the scheduler's heartbeats decide (a dead one aborts the job).
  pending->deadline = !parts.empty() && parts[0].server < 0
                          ? Clock::time_point::max()
                          : Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(cfg_.timeout_s));
  if (!failed_.empty() || parts.empty()) {
    if (!failed_.empty()) pending->error = MakeError(failed_);
    pending->Complete();
    return;
  }
  for (Part& p : parts) {
    Msg m;
    m.head = p.head;
    m.head.req = next_req_++;
    m.body = std::move(p.body);
    in_flight_[m.head.req] =
        InFlight{pending, p.server, p.head.cmd, p.head.key, p.reply_dst, p.reply_bytes};
    (p.server < 0 ? sched_ : *servers_[p.server]).Send(m);
  }
}

void Client::HandleReply(const Msg& m) {
  auto it = in_flight_.find(m.head.req);
  if (it == in_flight_.end()) return;  // its request failed already (timeout)
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  Pending& p = *f.pending;
  if (m.head.cmd == Cmd::kError) {
    if (!p.error) p.error = MakeError(m.body);
  } else if (f.dst) {
    if (m.body.size() == f.bytes) {
      std::memcpy(f.dst, m.body.data(), f.bytes);
    } else if (!p.error) {
      p.error =
          MakeError("dist_async: a pull of key " + std::to_string(f.key) + " got " +
                    std::to_string(m.body.size()) + " bytes, expected " + std::to_string(f.bytes));
    }
  }
  if (--p.remaining == 0) p.Complete();
}

void Client::FailAll(const std::string& why) {
  if (failed_.empty()) failed_ = why;
  auto error = MakeError(why);
  for (auto& [req, f] : in_flight_) {
    if (!f.pending->error) f.pending->error = error;
    f.pending->Complete();
  }
  in_flight_.clear();
}

void Client::Loop() {
  auto hb_every = std::chrono::duration<double>(cfg_.heartbeat_interval_s);
  auto hb_timeout = std::chrono::duration<double>(cfg_.heartbeat_timeout_s);
  auto last_hb = Clock::now(), last_heard = Clock::now();
  std::vector<void*> socks{sched_.get()};
  for (auto& s : servers_)
    socks.push_back(s->get());
  while (true) {
    Poll(socks.data(), static_cast<int>(socks.size()), wake_fd_, 100);
    uint64_t count;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
    std::deque<std::pair<std::vector<Part>, Done>> work;
    bool stop;
    {
      std::lock_guard lock(mu_);
      work.swap(queue_);
      stop = stop_;
    }
    for (auto& [parts, done] : work)
      SendParts(std::move(parts), std::move(done));
    if (stop && in_flight_.empty()) break;
    Msg m;
    while (sched_.TryRecv(&m)) {
      last_heard = Clock::now();
      if (m.head.cmd == Cmd::kAbort) {
        FailAll(m.body);
      } else if (m.head.cmd != Cmd::kHeartbeat) {
        HandleReply(m);
      }
    }
    for (auto& s : servers_) {
      while (s->TryRecv(&m))
        HandleReply(m);
    }
    auto now = Clock::now();
    if (failed_.empty() && now - last_hb > hb_every) {
      Msg hb;
      hb.head.cmd = Cmd::kHeartbeat;
      sched_.Send(hb);
      last_hb = now;
    }
    if (failed_.empty() && now - last_heard > hb_timeout) {
      std::ostringstream why;
      why << "dist_async worker " << rank_ << ": no word from the scheduler at "
          << cfg_.SchedulerEndpoint() << " for " << cfg_.heartbeat_timeout_s
          << " s (MIXNET_KVSTORE_HEARTBEAT_TIMEOUT): the job is gone";
      FailAll(why.str());
    }
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      InFlight& f = it->second;
      if (f.pending->finished || now < f.pending->deadline) {
        it = f.pending->finished ? in_flight_.erase(it) : std::next(it);
        continue;
      }
      std::ostringstream why;
      why << "dist_async worker " << rank_ << ": no answer to " << CmdName(f.cmd);
      if (f.server >= 0) why << " of key " << f.key << " from server " << f.server;
      why << " within " << cfg_.timeout_s << " s (MIXNET_KVSTORE_TIMEOUT)";
      f.pending->error = MakeError(why.str());
      f.pending->Complete();
      it = in_flight_.erase(it);
    }
  }
}

}  // namespace mixnet::kvstore::dist_async
