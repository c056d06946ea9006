/*!
 * \file client.h
 * \brief A dist_async worker's connection to the scheduler and the servers, with its I/O
 * thread (NOTE [ dist_async protocol ] in van.h).
 */
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kvstore/dist_async/van.h"
#include "kvstore/wait.h"

namespace mixnet::kvstore::dist_async {

/*!
 * \brief Registers with the scheduler (blocking until the job's table arrives), then serves
 * requests from any thread on one I/O thread, which owns every socket (ZeroMQ sockets are not
 * thread-safe). `done` callbacks run on the I/O thread.
 */
class Client {
 public:
  using Done = kvstore::Done;
  /*! \brief One message of a request: to server `server` (or the scheduler when -1). */
  struct Part {
    int server = -1;
    Head head;
    std::string body;
    char* reply_dst = nullptr;  //!< where a pull's answer is copied (reply_bytes bytes)
    size_t reply_bytes = 0;
  };
  /*! \brief A contiguous range [begin, end) of a key's elements that one server holds. */
  struct Range {
    int server;
    int64_t begin, end;
  };

  explicit Client(const Config& cfg);
  /*! \brief Finish(), then stops the I/O thread and closes every socket. */
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int rank() const { return rank_; }
  int num_workers() const { return num_workers_; }
  int num_servers() const { return static_cast<int>(servers_.size()); }
  const Config& config() const { return cfg_; }

  /*!
   * \brief MXNet's key sharding: a key of at most MXNET_KVSTORE_BIGARRAY_BOUND elements lives
   * on server (key * 9973) % num_servers; a bigger one is split in num_servers contiguous
   * ranges, range i on server i.
   */
  std::vector<Range> Shards(int key, int64_t size) const;

  /*! \brief Sends every part; `done` runs once all were answered, or with the first error. */
  void Request(std::vector<Part> parts, Done done);
  /*! \brief Request, blocking until done; rethrows its error. */
  void RequestSync(std::vector<Part> parts);
  /*! \brief Waits for every worker to arrive (through the scheduler). */
  void Barrier();
  /*! \brief Tells the scheduler this worker is done (once; waits for its answer, bounded). */
  void Finish();

 private:
  struct Pending {
    int remaining;
    Done done;
    std::exception_ptr error;
    std::chrono::steady_clock::time_point deadline;
    bool finished = false;
    void Complete();
  };
  /*! \brief One message in flight, by request id (the I/O thread's alone). */
  struct InFlight {
    std::shared_ptr<Pending> pending;
    int server;
    Cmd cmd;
    int key;
    char* dst;
    size_t bytes;
  };
  void Loop();
  void Wake();
  void SendParts(std::vector<Part> parts, Done done);
  void HandleReply(const Msg& m);
  void FailAll(const std::string& why);

  Config cfg_;
  dist_async::Context ctx_;
  Socket sched_;
  std::vector<std::unique_ptr<Socket>> servers_;
  int rank_ = -1, num_workers_ = 0;
  int wake_fd_ = -1;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::vector<Part>, Done>> queue_;
  bool stop_ = false;
  bool finished_ = false;
  std::string failed_;  //!< set once the job is aborted: every later request fails with it
  std::thread thread_;
  uint64_t next_req_ = 1;
  std::map<uint64_t, InFlight> in_flight_;
};

}  // namespace mixnet::kvstore::dist_async
