/*!
 * \file mpi_comm.h
 * \brief The MPI communication thread of dist_sync: collectives over all workers, issued in
 * program order, with agreement checks, joins and a deadline.
 *
 * NOTE [ dist_sync communication thread ]
 * One thread per process owns MPI: it calls MPI_Init_thread (MPI_THREAD_FUNNELED), issues
 * every collective and calls MPI_Finalize when the process exits (atexit), so no other thread
 * ever touches MPI. Engine operations hand it work (Allreduce, Broadcast, Allgather) with a
 * completion callback, which it calls from this thread when the collective has finished.
 *
 * Collectives must be issued in the same order on every rank, but the engine runs ready ops
 * in priority order, which can differ between processes. Each request therefore carries a
 * sequence number taken in the calling thread when the store's push/init/barrier was called
 * (NextSeq): the program order, the same on every worker running the same program. The
 * thread runs the requests strictly in sequence order, waiting for the next one to arrive.
 *
 * NOTE [ dist_sync control word ]
 * Every collective is preceded by an MPI_Allreduce(MAX) of a small control word: {op, -op,
 * key, -key, count, -count, dtype, -dtype, active, failed}. MAX of x and of -x gives the largest
 * and the smallest value over the ranks, so a single reduction tells whether all ranks agree;
 * when they do not, the ranks gather their words and every rank raises an error naming each
 * rank's operation and key, instead of hanging in (or corrupting) a mismatched collective.
 * A rank that entered Join (Barrier, or the process exiting) sends the neutral
 * word {INT64_MIN..., active 0}: while some rank is still active, the joined rank takes part in
 * the collective the others agreed on with zero contributions (Horovod's join) and hands the
 * result to its join callback, so that its store applies the same updates; when the MAX of
 * `active` is 0, every rank has joined and the barrier is complete. `failed` carries a push
 * whose input array carried an engine error: every rank then raises.
 *
 * NOTE [ dist_sync deadline ]
 * The control word is nonblocking (MPI_Iallreduce) and polled with MPI_Test: spinning with
 * yields for a few microseconds, then sleeping with a growing pause (capped at kMaxPauseUs), so
 * a waiting rank does not take a core from the computation. A collective whose control word has
 * not completed within MIXNET_KVSTORE_TIMEOUT seconds (default 120) fails with "dist_sync:
 * allreduce of key K did not complete within T s (a worker may have died or stopped pushing)";
 * the error reaches the caller at its next sync point, and every later request fails with it
 * (the pending MPI request is abandoned and MPI_Finalize is skipped, so exiting cannot hang).
 * The data itself then moves with a blocking collective (NOTE [ dist_sync blocking data phase ]
 * in mpi_comm.cc): every rank is known to be inside it.
 */
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kvstore/wait.h"
#include "mixnet/base/dtype.h"

namespace mixnet::kvstore::dist_sync {

/*! \brief The collectives the thread issues (values are part of the control word). */
enum class CollOp : int64_t { kAllreduce = 1, kBroadcast = 2, kAllgather = 3, kJoin = 4 };

class MpiComm {
 public:
  /*! \brief Called on the comm thread with a request's outcome (null: success). */
  using Done = kvstore::Done;
  /*!
   * \brief Called on the comm thread, during Join, for each collective a joined rank took part
   * in: `result` is the allreduce sum (count elements) or the allgather output (count elements
   * per rank, all ranks); null for a broadcast. May push engine work and wait for it.
   */
  using JoinFn =
      std::function<void(CollOp op, int key, const void* result, int64_t count, DType dtype)>;

  /*!
   * \brief The process's communicator; the first call starts the thread and MPI. Raises
   * ValueError when DMLC_NUM_WORKER > 1 but the process was not started by mpirun.
   */
  static MpiComm& Get();

  int rank() const { return rank_; }
  int size() const { return size_; }
  double timeout_s() const { return timeout_s_; }

  /*! \brief The next program-order sequence number (call in the pushing thread). */
  uint64_t NextSeq();

  /*! \brief recv = sum over ranks of send (`count` elements; send == recv allowed). */
  void Allreduce(uint64_t seq, int key, const void* send, void* recv, int64_t count, DType dtype,
                 Done done);
  /*! \brief buf = rank 0's buf. */
  void Broadcast(uint64_t seq, int key, void* buf, int64_t count, DType dtype, Done done);
  /*! \brief recv[r * count ...] = rank r's send (count elements each). */
  void Allgather(uint64_t seq, int key, const void* send, void* recv, int64_t count, DType dtype,
                 Done done);
  /*! \brief Request `seq` fails on every rank: this rank's input carried `error`. */
  void Fail(uint64_t seq, int key, CollOp op, std::exception_ptr error, Done done);
  /*!
   * \brief Blocks until every rank has joined, taking part meanwhile in the others'
   * collectives with zeros (NOTE [ dist_sync control word ]). Raises the thread's error.
   */
  void Join(uint64_t seq, JoinFn on_result);

  /*! \brief Payload bytes this rank contributed to collectives, and their number. */
  struct Stats {
    uint64_t bytes_sent = 0;
    uint64_t collectives = 0;
  };
  Stats stats() const;
  void ResetStats();

  /*! \brief Final join, MPI_Finalize, thread exit; idempotent (runs at exit). */
  void Shutdown();

  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

 private:
  struct Request {
    CollOp op;
    int key;
    const void* send;
    void* recv;
    int64_t count;
    DType dtype;
    std::exception_ptr input_error;
    Done done;
    JoinFn on_join;
  };
  MpiComm();
  ~MpiComm() = default;
  void Submit(uint64_t seq, Request req);
  void Loop();
  void Run(Request& req);
  void RunJoin(Request& req);
  // One collective after the control word agreed; `joined`: zero contributions.
  void Collective(const Request& req, bool joined);
  void Agree(const int64_t* mine, int64_t* maxed, const char* what, int key);
  [[noreturn]] void RaiseMismatch(const int64_t* mine);
  void WaitRequest(void* mpi_request, const char* what, int key);

  int rank_ = 0;
  int size_ = 1;
  double timeout_s_ = 120;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Request> queue_;  // by sequence number
  uint64_t next_seq_ = 0;              // handed out by NextSeq
  uint64_t run_seq_ = 0;               // the next one the thread runs
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::exception_ptr init_error_;
  std::exception_ptr failed_;  // set once: every later request fails with it
  bool abandoned_ = false;     // an MPI request was left pending (skip MPI_Finalize)
  Stats stats_;
};

}  // namespace mixnet::kvstore::dist_sync
