// oneDNN plumbing shared by the kernels that use it: the CPU engine, a stream per thread,
// per-thread primitive caches, and arguments seen through a primitive's preferred layout.
//
// NOTE [ oneDNN kernels ]
// A oneDNN kernel builds its primitive (and the reorders around it) once per shape and
// parameters and keeps it in a cache owned by the calling thread, so engine workers never
// share a primitive and no lock is taken on the hot path. Primitives use a user-managed
// scratchpad drawn from the call's TempSpace (the ops declare NeedsTempSpace()), so a cached
// primitive holds no working memory. Arrays stay in MXNet's plain layouts (NCHW, OIHW) between
// ops; a primitive that prefers a blocked layout gets reorders into temporary buffers around
// it, and each kernel decides per shape whether that pays (NOTE [ Conv layouts ] in
// nn/conv_dnnl.cc).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "operator/op_def.h"

namespace mixnet::op::dnnl_util {

using dnnl::memory;

/*! \brief The process's oneDNN CPU engine. */
const dnnl::engine& Engine();
/*! \brief The calling thread's in-order stream on Engine(). */
dnnl::stream& Stream();

/*! \brief A memory object over user data (oneDNN takes a non-const pointer for inputs too). */
inline memory Mem(const memory::desc& d, const void* p) {
  return memory(d, Engine(), const_cast<void*>(p));
}

/*! \brief Primitive attributes with a user-managed scratchpad (NOTE [ oneDNN kernels ]). */
dnnl::primitive_attr ScratchpadAttr();

/*!
 * \brief The calling thread's cached entry for `key`, made by `make` on first use. Keys name
 * the kernel and every shape and parameter the entry depends on. The cache is bounded: it is
 * cleared when it grows past a few hundred entries (shapes that keep changing).
 */
template <typename Entry>
Entry& Cached(const std::string& key, const std::function<std::shared_ptr<Entry>()>& make);

/*! \brief Appends integers to a cache key. */
class Key {
 public:
  explicit Key(std::string kernel) : s_(std::move(kernel)) {}
  Key& operator<<(int64_t v) {
    s_ += ',';
    s_ += std::to_string(v);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

/*!
 * \brief One primitive argument, planned when the cache entry is built: the user's plain
 * layout, the layout the primitive wants, and the reorder between them if they differ.
 */
class Arg {
 public:
  /*! \brief `in`: the primitive reads the argument (else writes it). */
  void Plan(const memory::desc& user, const memory::desc& want, bool in);
  bool reordered() const { return static_cast<bool>(reorder_); }

 private:
  friend class BoundArg;
  memory::desc user_, want_;
  bool in_ = true;
  dnnl::reorder reorder_;
};

/*!
 * \brief An Arg bound to user data for one call: mem() is the user buffer itself, or a pooled
 * scratch buffer in the wanted layout (filled from the user's data for inputs). Outputs call
 * Finish() after the primitive ran, which reorders the result back.
 */
class BoundArg {
 public:
  BoundArg(const Arg& arg, void* ptr, TempSpace& temp);
  const memory& mem() const { return arg_.reorder_ ? want_ : user_; }
  void Finish();

 private:
  const Arg& arg_;
  memory user_, want_;
};

/*!
 * \brief Runs `prim` with `args`, giving it a scratchpad of the size `pd` asks for from `temp`.
 * Waits for the stream, so results are in memory when it returns.
 */
void Execute(const dnnl::primitive& prim, const dnnl::primitive_desc_base& pd,
             std::unordered_map<int, memory> args, TempSpace& temp);

/*!
 * \brief Where a primitive writes one float32 output under `req`: the output itself for
 * kWrite/kWriteInplace, else a temporary buffer that Commit() adds to the output (kAdd) or
 * drops (kNull, for primitives that write every output they have).
 */
class OutputSlot {
 public:
  OutputSlot(OpReq req, const TBlob& out, TempSpace& temp);
  float* ptr() const { return ptr_; }
  void Commit();

 private:
  OpReq req_;
  const TBlob& out_;
  float* ptr_;
};

/*! \brief Calls run(y) with y = OutputSlot(req, out, temp).ptr(), then commits; nothing for kNull.
 */
void WriteFloatOutput(OpReq req, const TBlob& out, TempSpace& temp,
                      const std::function<void(float*)>& run);

// ---- implementation of the template ----

std::unordered_map<std::string, std::shared_ptr<void>>& ThreadCache();

template <typename Entry>
Entry& Cached(const std::string& key, const std::function<std::shared_ptr<Entry>()>& make) {
  auto& cache = ThreadCache();
  auto it = cache.find(key);
  if (it == cache.end()) {
    constexpr size_t kMaxEntries = 512;
    if (cache.size() >= kMaxEntries) cache.clear();
    it = cache.emplace(key, make()).first;
  }
  return *static_cast<Entry*>(it->second.get());
}

}  // namespace mixnet::op::dnnl_util
