/*!
 * \file ndarray.h
 * \brief NDArray: an n-dimensional array whose every operation runs through the engine.
 *
 * An NDArray is a view: shape, dtype and byte offset into a shared storage Chunk. The chunk
 * owns the memory and one engine variable; all views of a chunk share that variable, so the
 * engine orders every read and write of any view. Memory is allocated lazily, the first time
 * a pushed function needs it ("deferred allocation").
 *
 * Operations return at once after pushing work; WaitToRead()/WaitToWrite() (or any copy to
 * host) are the sync points where errors raised inside the engine surface.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mixnet/base/context.h"
#include "mixnet/base/dtype.h"
#include "mixnet/base/shape.h"
#include "mixnet/engine/engine.h"
#include "mixnet/storage/storage.h"

namespace mixnet {

namespace autograd {
struct Node;  // a recorded operation or variable (src/autograd/node.h)
}
namespace sym {
struct Node;  // a symbol graph node (src/symbol/node.h)
}

/*!
 * \brief Operations on at most this many elements (all arrays together) are pushed as
 * FnProperty::kSmall: they run in the caller when their arrays are free, because a hand-off to
 * a worker costs more than such a kernel (NOTE [ Small ops inline ] in engine.h). Below the
 * kernels' parallel grain, so a small op never starts a thread team in the caller.
 */
inline constexpr int64_t kSmallOpElements = 16384;

class NDArray {
  struct Chunk;  // the storage and engine var shared by all views (ndarray.cc)

 public:
  /*! \brief A "none" array: no shape, no storage (MXNet's is_none()). */
  NDArray() = default;
  /*!
   * \brief An uninitialised array. With `delay_alloc` memory is taken on first use.
   * Raises ValueError if `shape` is not fully known, NotImplementedError for GPU contexts.
   */
  explicit NDArray(const Shape& shape, Context ctx = Context::cpu(), DType dtype = DType::kFloat32,
                   bool delay_alloc = true);

  // ---- creation (all asynchronous except FromHost, which copies before returning) ----
  static NDArray Empty(const Shape& shape, DType dtype = DType::kFloat32,
                       Context ctx = Context::cpu());
  static NDArray Zeros(const Shape& shape, DType dtype = DType::kFloat32,
                       Context ctx = Context::cpu());
  static NDArray Ones(const Shape& shape, DType dtype = DType::kFloat32,
                      Context ctx = Context::cpu());
  static NDArray Full(const Shape& shape, double value, DType dtype = DType::kFloat32,
                      Context ctx = Context::cpu());
  /*!
   * \brief MXNet's arange: values start, start+step, ... < stop (stop may be omitted by
   * passing NaN: then [0, start)), each repeated `repeat` times.
   */
  static NDArray Arange(double start, double stop, double step = 1.0, int repeat = 1,
                        DType dtype = DType::kFloat32, Context ctx = Context::cpu());
  /*!
   * \brief An array over host memory it does not own (DLPack and NumPy imports share buffers
   * this way): no copy. `release` runs once the last view is gone and every op pushed on the
   * array has run, on whichever thread that is; `data` (aligned to the element size, holding
   * `Size(shape)` elements) must stay valid until then.
   */
  static NDArray FromExternal(void* data, const Shape& shape, DType dtype, Context ctx,
                              std::function<void()> release);
  /*! \brief Copies `Size(shape)` elements of `dtype` from host memory. */
  static NDArray FromHost(const void* data, const Shape& shape, DType dtype,
                          Context ctx = Context::cpu());
  template <typename T>
  static NDArray FromVector(const std::vector<T>& v, const Shape& shape,
                            Context ctx = Context::cpu()) {
    MX_CHECK(static_cast<int64_t>(v.size()) == shape.Size(), ValueError)
        << "NDArray::FromVector: " << v.size() << " values for shape " << shape;
    if constexpr (std::is_same_v<T, bool>) {  // std::vector<bool> is packed: no data()
      const std::vector<uint8_t> bytes(v.begin(), v.end());
      return FromHost(bytes.data(), shape, DType::kBool, ctx);
    } else {
      return FromHost(v.data(), shape, DTypeOf<T>::value, ctx);
    }
  }

  // ---- properties ----
  bool is_none() const { return ptr_ == nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Context ctx() const;
  /*! \brief Number of elements. */
  int64_t Size() const { return is_none() ? 0 : shape_.Size(); }
  size_t nbytes() const { return static_cast<size_t>(Size()) * DTypeSize(dtype_); }
  size_t byte_offset() const { return byte_offset_; }
  /*! \brief The engine variable guarding this array's chunk. */
  VarHandle var() const;
  /*! \brief True if both share one storage chunk. */
  bool SharesStorageWith(const NDArray& other) const { return ptr_ && ptr_ == other.ptr_; }
  /*! \brief "NDArray (2, 3) float32 @cpu(0)". */
  std::string Describe() const;

  // ---- raw data (host contexts) ----
  /*!
   * \brief Pointer to the first element, allocating deferred storage. Only valid inside a
   * pushed function that declared this array's var, or after WaitToRead/WaitToWrite.
   */
  void* RawData() const;
  /*!
   * \brief A pushed function's way to this array's memory without owning it: no reference
   * count changes hands between the pushing thread and the worker. Valid inside functions
   * pushed with this array's var while the array was alive, because the chunk is deleted only
   * after every op already pushed on its var (NOTE [ Chunk lifetime ] in ndarray.cc).
   */
  class DataRef {
   public:
    /*! \brief Pointer to the first element, allocating deferred storage (as RawData()). */
    void* Data() const;

   private:
    friend class NDArray;
    Chunk* chunk_ = nullptr;
    size_t byte_offset_ = 0;
  };
  DataRef data_ref() const;
  template <typename T>
  T* Data() const {
    MX_CHECK(DTypeOf<T>::value == dtype_, TypeError)
        << "NDArray::Data: requested " << DTypeName(DTypeOf<T>::value) << " from a "
        << DTypeName(dtype_) << " array";
    return static_cast<T*>(RawData());
  }

  // ---- synchronisation ----
  void WaitToRead() const;
  void WaitToWrite() const;

  // ---- copies ----
  /*! \brief Blocking copy of `num_elems` elements from host memory into this array. */
  void SyncCopyFromHost(const void* data, size_t num_elems) const;
  /*! \brief Blocking copy of `num_elems` elements of this array into host memory. */
  void SyncCopyToHost(void* data, size_t num_elems) const;
  template <typename T>
  std::vector<T> ToVector() const {
    MX_CHECK(DTypeOf<T>::value == dtype_, TypeError)
        << "NDArray::ToVector: requested " << DTypeName(DTypeOf<T>::value) << " from a "
        << DTypeName(dtype_) << " array";
    if constexpr (std::is_same_v<T, bool>) {  // std::vector<bool> is packed: no data()
      std::vector<uint8_t> bytes(static_cast<size_t>(Size()));
      SyncCopyToHost(bytes.data(), bytes.size());
      return std::vector<bool>(bytes.begin(), bytes.end());
    } else {
      std::vector<T> out(static_cast<size_t>(Size()));
      SyncCopyToHost(out.data(), out.size());
      return out;
    }
  }
  /*! \brief Asynchronous copy into `dst` (same shape; dtype may differ: converts). */
  void CopyTo(const NDArray& dst, int priority = 0) const;
  /*! \brief A new array on `ctx` holding a copy (MXNet's copyto(ctx)). */
  NDArray Copy(Context ctx) const;
  /*! \brief This array if already on `ctx`, else a copy there. */
  NDArray AsInContext(Context ctx) const;
  /*! \brief Asynchronously sets every element to `value` (x[:] = value). */
  void Fill(double value) const;

  // ---- views (share storage and engine var) ----
  /*! \brief Rows [begin, end) along axis 0; Python-style negative indices allowed. */
  NDArray Slice(int64_t begin, int64_t end) const;
  /*! \brief Row `i` along axis 0, with axis 0 removed. */
  NDArray At(int64_t i) const;
  /*! \brief Same elements, new shape (sizes must match). */
  NDArray Reshape(const Shape& shape) const;
  /*! \brief Reshape with MXNet's special codes 0, -1, -2, -3, -4 (see InferReshape). */
  NDArray Reshape(std::span<const int64_t> codes, bool reverse = false) const;
  NDArray Reshape(std::initializer_list<int64_t> codes, bool reverse = false) const {
    return Reshape(std::span<const int64_t>(codes.begin(), codes.size()), reverse);
  }

  /*!
   * \brief The same memory seen with another shape and dtype (MXNet's AsArray): for executors
   * that place several arrays in one planned buffer. The bytes must fit in the storage from
   * this view's offset; not recorded by autograd.
   */
  NDArray AsArray(const Shape& shape, DType dtype) const;

  // ---- autograd's bookkeeping (used through mixnet/autograd/autograd.h) ----
  /*!
   * \brief This object's place in a recorded graph: output `index` of `node`, or none. Copies
   * of the object share it; views (Slice, At, Reshape) get their own, recorded when autograd
   * is recording and the source has one.
   */
  struct GradEntry {
    std::shared_ptr<autograd::Node> node;
    uint32_t index = 0;
  };
  const GradEntry& grad_entry() const { return entry_; }
  void set_grad_entry(GradEntry e) { entry_ = std::move(e); }
  /*!
   * \brief While a deferred-compute trace runs (sym::TraceScope), the symbol node output that
   * produced this object, and the trace it belongs to; as GradEntry, copies share it.
   */
  struct TraceEntry {
    std::shared_ptr<sym::Node> node;
    uint32_t index = 0;
    uint64_t trace_id = 0;
  };
  const TraceEntry& trace_entry() const { return trace_; }
  void set_trace_entry(TraceEntry e) { trace_ = std::move(e); }
  /*!
   * \brief How many writes to this array's chunk have been issued (pushed; not necessarily
   * run). Autograd compares it with the count when it saved the array, to report in-place
   * writes that would make a gradient wrong.
   */
  uint64_t version() const;
  /*! \brief Counts one more write; every path that writes an existing array calls it. */
  void BumpVersion() const;
  enum class ViewKind { kSlice, kReshape };
  /*! \brief Called for each view of an array that has a GradEntry (autograd installs it). */
  using ViewRecorder = void (*)(const NDArray& source, NDArray* view, ViewKind kind);
  static void SetViewRecorder(ViewRecorder recorder);
  /*! \brief Called for each view of an array that has a TraceEntry (the symbol layer's trace). */
  static void SetViewTracer(ViewRecorder tracer);

 private:
  /*! \brief Gives a fresh view its own GradEntry (none, or recorded). */
  NDArray FinishView(NDArray view, ViewKind kind) const;

  std::shared_ptr<Chunk> ptr_;
  Shape shape_;
  DType dtype_ = DType::kFloat32;
  size_t byte_offset_ = 0;
  GradEntry entry_;
  TraceEntry trace_;
};

}  // namespace mixnet
