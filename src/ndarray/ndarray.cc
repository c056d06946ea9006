#include "mixnet/ndarray/ndarray.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <mutex>
#include <type_traits>

namespace mixnet {
namespace {

template <typename T>
inline constexpr bool kIsHalf = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;

/*! \brief One element converted: 16-bit floats go through float, the rest is a static_cast. */
template <typename D, typename S>
D ConvertValue(S v) {
  if constexpr (std::is_same_v<D, S>) {
    return v;
  } else if constexpr (kIsHalf<S>) {
    return ConvertValue<D>(static_cast<float>(v));
  } else if constexpr (kIsHalf<D>) {
    return D(static_cast<float>(v));
  } else {
    return static_cast<D>(v);  // bool: v != 0
  }
}

void FillRaw(void* dst, size_t n, DType dtype, double value) {
  DispatchDType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::fill_n(static_cast<T*>(dst), n, ConvertValue<T>(value));
  });
}

void ArangeRaw(void* dst, size_t n, DType dtype, double start, double step, int repeat) {
  DispatchDType(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = static_cast<T*>(dst);
    for (size_t i = 0; i < n; ++i) {
      out[i] = ConvertValue<T>(start + static_cast<double>(i / repeat) * step);
    }
  });
}

/*! \brief Copies `n` elements, converting dtype; memmove when equal (views may overlap). */
void CastRaw(const void* src, DType src_dtype, void* dst, DType dst_dtype, size_t n) {
  if (src_dtype == dst_dtype) {
    std::memmove(dst, src, n * DTypeSize(src_dtype));
    return;
  }
  DispatchDType(src_dtype, [&](auto stag) {
    using S = typename decltype(stag)::type;
    DispatchDType(dst_dtype, [&](auto dtag) {
      using D = typename decltype(dtag)::type;
      const S* in = static_cast<const S*>(src);
      D* out = static_cast<D*>(dst);
      for (size_t i = 0; i < n; ++i)
        out[i] = ConvertValue<D>(in[i]);
    });
  });
}

/*! \brief Wraps a pushed lambda, proving at compile time that pushing it does not allocate. */
template <typename F>
SyncFn NoAllocFn(F f) {
  static_assert(sizeof(F) <= SyncFn::kInlineBytes, "capture too large for the inline buffer");
  return SyncFn(std::move(f));
}

FnProperty SizeProperty(int64_t elements) {
  return elements <= kSmallOpElements ? FnProperty::kSmall : FnProperty::kNormal;
}

void CheckNotNone(const NDArray& a, const char* op) {
  MX_CHECK(!a.is_none(), ValueError) << "NDArray::" << op << ": none array";
}

}  // namespace

/*!
 * \brief Storage shared by all views of one array: the memory and its engine variable.
 * Memory is taken on the first Data() call unless the array was created with
 * delay_alloc = false.
 */
struct NDArray::Chunk {
  Chunk(size_t bytes, Context c, bool delay_alloc)
      // A zero-byte Alloc costs nothing but still rejects contexts that cannot hold memory.
      : handle(Storage::Get()->Alloc(delay_alloc ? 0 : bytes, c)),
        ctx(c),
        nbytes(bytes),
        var(Engine::Get()->NewVariable()),
        allocated(!delay_alloc || bytes == 0) {}

  /*!
   * NOTE [ Chunk lifetime ]
   * When the last NDArray of a chunk goes away, the chunk is not destroyed at once: its
   * deletion is pushed as the var's delete op, which the engine runs after every op already
   * pushed on the var. So a pushed function may hold a plain Chunk* (no reference count to
   * bump and drop across threads on every push): the chunk outlives every op that uses it.
   */
  static void DeleteAfterPendingOps(Chunk* c) {
    Engine::Get()->DeleteVariable(
        [c](RunContext) {
          if (c->release) {
            c->release();  // external memory (NDArray::FromExternal): its owner frees it
          } else {
            Storage::Get()->Free(c->handle);
          }
          delete c;
        },
        c->ctx, c->var);
  }

  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  char* Data() {
    if (!allocated.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(mu);
      if (!allocated.load(std::memory_order_relaxed)) {
        handle = Storage::Get()->Alloc(nbytes, ctx);
        allocated.store(true, std::memory_order_release);
      }
    }
    return static_cast<char*>(handle.dptr);
  }

  StorageHandle handle;
  const Context ctx;
  const size_t nbytes;
  const VarHandle var;
  std::atomic<bool> allocated;
  std::mutex mu;                     // serialises the deferred allocation
  std::atomic<uint64_t> version{0};  // writes issued (NDArray::version)
  std::function<void()> release;     // set for external memory: gives it back to its owner
};

NDArray::NDArray(const Shape& shape, Context ctx, DType dtype, bool delay_alloc)
    : shape_(shape), dtype_(dtype) {
  MX_CHECK(shape.is_known(), ValueError)
      << "NDArray: cannot create an array of unknown shape " << shape;
  const size_t elem = DTypeSize(dtype);  // raises TypeError for invalid flags
  const int64_t n = shape.Size();
  MX_CHECK(static_cast<uint64_t>(n) <= static_cast<uint64_t>(PTRDIFF_MAX) / elem, ValueError)
      << "NDArray: shape " << shape << " of " << DTypeName(dtype) << " is too large";
  ptr_ = std::shared_ptr<Chunk>(new Chunk(static_cast<size_t>(n) * elem, ctx, delay_alloc),
                                &Chunk::DeleteAfterPendingOps);
}

// ---------------------------------------------------------------- creation

NDArray NDArray::Empty(const Shape& shape, DType dtype, Context ctx) {
  return NDArray(shape, ctx, dtype);
}

NDArray NDArray::Zeros(const Shape& shape, DType dtype, Context ctx) {
  return Full(shape, 0.0, dtype, ctx);
}

NDArray NDArray::Ones(const Shape& shape, DType dtype, Context ctx) {
  return Full(shape, 1.0, dtype, ctx);
}

NDArray NDArray::Full(const Shape& shape, double value, DType dtype, Context ctx) {
  NDArray out(shape, ctx, dtype);
  out.Fill(value);
  return out;
}

NDArray NDArray::Arange(double start, double stop, double step, int repeat, DType dtype,
                        Context ctx) {
  if (std::isnan(stop)) {  // arange(n) means [0, n)
    stop = start;
    start = 0;
  }
  MX_CHECK(step != 0, ValueError) << "arange: step must not be 0 (start=" << start
                                  << ", stop=" << stop << ", step=" << step << ")";
  MX_CHECK(repeat >= 1, ValueError) << "arange: repeat must be >= 1, got repeat=" << repeat;
  MX_CHECK(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step), ValueError)
      << "arange: start, stop and step must be finite, got start=" << start << ", stop=" << stop
      << ", step=" << step;
  const double len = std::max(0.0, std::ceil((stop - start) / step));
  MX_CHECK(len * repeat < 9.0e18, ValueError)
      << "arange: start=" << start << ", stop=" << stop << ", step=" << step
      << ", repeat=" << repeat << " gives too many elements";
  const int64_t n = static_cast<int64_t>(len) * repeat;
  NDArray out(Shape{n}, ctx, dtype);
  if (n == 0) return out;
  Engine::Get()->PushSync(
      NoAllocFn([chunk = out.ptr_.get(), n = static_cast<size_t>(n), dtype, start, step,
                 repeat](RunContext) { ArangeRaw(chunk->Data(), n, dtype, start, step, repeat); }),
      ctx, {}, {out.ptr_->var}, SizeProperty(n), 0, "Arange");
  return out;
}

NDArray NDArray::FromExternal(void* data, const Shape& shape, DType dtype, Context ctx,
                              std::function<void()> release) {
  MX_CHECK(ctx.dev_type != DeviceType::kGPU, NotImplementedError)
      << "NDArray::FromExternal: only host memory can be wrapped, got " << ctx.ToString();
  MX_CHECK(release != nullptr, ValueError) << "NDArray::FromExternal: no release function";
  const size_t elem = DTypeSize(dtype);
  MX_CHECK(reinterpret_cast<uintptr_t>(data) % elem == 0, ValueError)
      << "NDArray::FromExternal: " << DTypeName(dtype) << " data at " << data
      << " is not aligned to its " << elem << "-byte elements";
  // Created without memory (delay_alloc, zero bytes taken), then pointed at `data`.
  NDArray out(shape, ctx, dtype, /*delay_alloc=*/true);
  Chunk& c = *out.ptr_;
  c.handle.dptr = data;
  c.handle.size = c.nbytes;
  c.release = std::move(release);
  c.allocated.store(true, std::memory_order_release);
  return out;
}

NDArray NDArray::FromHost(const void* data, const Shape& shape, DType dtype, Context ctx) {
  NDArray out(shape, ctx, dtype);
  out.SyncCopyFromHost(data, static_cast<size_t>(out.Size()));
  return out;
}

// ---------------------------------------------------------------- properties

Context NDArray::ctx() const {
  CheckNotNone(*this, "ctx");
  return ptr_->ctx;
}

VarHandle NDArray::var() const {
  CheckNotNone(*this, "var");
  return ptr_->var;
}

std::string NDArray::Describe() const {
  if (is_none()) return "NDArray None";
  return "NDArray " + shape_.ToString() + " " + DTypeName(dtype_) + " @" + ptr_->ctx.ToString();
}

void* NDArray::RawData() const {
  CheckNotNone(*this, "RawData");
  char* base = ptr_->Data();
  return base ? base + byte_offset_ : nullptr;
}

NDArray::DataRef NDArray::data_ref() const {
  CheckNotNone(*this, "data_ref");
  DataRef r;
  r.chunk_ = ptr_.get();
  r.byte_offset_ = byte_offset_;
  return r;
}

void* NDArray::DataRef::Data() const {
  char* base = chunk_->Data();
  return base ? base + byte_offset_ : nullptr;
}

// ---------------------------------------------------------------- synchronisation

void NDArray::WaitToRead() const {
  if (!is_none()) Engine::Get()->WaitForVar(ptr_->var);
}

void NDArray::WaitToWrite() const {
  if (is_none()) return;
  // WaitForVar waits for writes only; a no-op write queues behind pending reads too.
  Engine::Get()->PushSync([](RunContext) {}, ptr_->ctx, {}, {ptr_->var}, FnProperty::kSmall, 0,
                          "WaitToWrite");
  Engine::Get()->WaitForVar(ptr_->var);
}

// ---------------------------------------------------------------- copies

void NDArray::SyncCopyFromHost(const void* data, size_t num_elems) const {
  CheckNotNone(*this, "SyncCopyFromHost");
  MX_CHECK(num_elems == static_cast<size_t>(Size()), ValueError)
      << "NDArray::SyncCopyFromHost: " << num_elems << " elements given for an array of shape "
      << shape_ << " (" << Size() << " elements)";
  if (num_elems == 0) return;
  MX_CHECK(data != nullptr, ValueError) << "NDArray::SyncCopyFromHost: null source pointer";
  BumpVersion();
  Engine::Get()->PushSync(
      NoAllocFn([chunk = ptr_.get(), off = byte_offset_, data, bytes = nbytes()](RunContext) {
        std::memcpy(chunk->Data() + off, data, bytes);
      }),
      // The caller waits for the copy anyway: running it here, when the array is free, saves
      // the hand-off whatever its size.
      ptr_->ctx, {}, {ptr_->var}, FnProperty::kSmall, 0, "SyncCopyFromHost");
  Engine::Get()->WaitForVar(ptr_->var);
}

void NDArray::SyncCopyToHost(void* data, size_t num_elems) const {
  CheckNotNone(*this, "SyncCopyToHost");
  MX_CHECK(num_elems == static_cast<size_t>(Size()), ValueError)
      << "NDArray::SyncCopyToHost: room for " << num_elems
      << " elements given for an array of shape " << shape_ << " (" << Size() << " elements)";
  if (num_elems == 0) return;
  MX_CHECK(data != nullptr, ValueError) << "NDArray::SyncCopyToHost: null destination pointer";
  WaitToRead();
  std::memcpy(data, RawData(), nbytes());
}

void NDArray::CopyTo(const NDArray& dst, int priority) const {
  MX_CHECK(!is_none() && !dst.is_none(), ValueError)
      << "NDArray::CopyTo: the " << (is_none() ? "source" : "destination") << " is a none array";
  MX_CHECK(shape_ == dst.shape_, ValueError) << "NDArray::CopyTo: source shape " << shape_
                                             << " differs from destination shape " << dst.shape_;
  if (Size() == 0) return;
  dst.BumpVersion();
  Engine::Get()->PushSync(
      NoAllocFn([src = ptr_.get(), dst_chunk = dst.ptr_.get(), src_off = byte_offset_,
                 dst_off = dst.byte_offset_, n = static_cast<size_t>(Size()), src_dtype = dtype_,
                 dst_dtype = dst.dtype_](RunContext) {
        CastRaw(src->Data() + src_off, src_dtype, dst_chunk->Data() + dst_off, dst_dtype, n);
      }),
      dst.ptr_->ctx, {ptr_->var}, {dst.ptr_->var}, SizeProperty(Size()), priority, "CopyTo");
}

NDArray NDArray::Copy(Context ctx) const {
  CheckNotNone(*this, "Copy");
  NDArray out(shape_, ctx, dtype_);
  CopyTo(out);
  return out;
}

NDArray NDArray::AsInContext(Context ctx) const {
  CheckNotNone(*this, "AsInContext");
  return ptr_->ctx == ctx ? *this : Copy(ctx);
}

void NDArray::Fill(double value) const {
  CheckNotNone(*this, "Fill");
  if (Size() == 0) return;
  BumpVersion();
  Engine::Get()->PushSync(
      NoAllocFn([chunk = ptr_.get(), off = byte_offset_, n = static_cast<size_t>(Size()),
                 dtype = dtype_,
                 value](RunContext) { FillRaw(chunk->Data() + off, n, dtype, value); }),
      ptr_->ctx, {}, {ptr_->var}, SizeProperty(Size()), 0, "Fill");
}

// ---------------------------------------------------------------- views

NDArray NDArray::Slice(int64_t begin, int64_t end) const {
  CheckNotNone(*this, "Slice");
  MX_CHECK(shape_.ndim() >= 1, ValueError) << "NDArray::Slice: cannot slice a 0-dim array";
  const int64_t n = shape_[0];
  const int64_t b = begin < 0 ? begin + n : begin;
  const int64_t e = end < 0 ? end + n : end;
  MX_CHECK(0 <= b && b <= e && e <= n, IndexError)
      << "NDArray::Slice: [" << begin << ", " << end << ") is not a valid range of axis 0 (size "
      << n << ") of an array of shape " << shape_;
  NDArray out = *this;
  out.shape_[0] = e - b;
  out.byte_offset_ +=
      static_cast<size_t>(b * shape_.ProdDims(1, shape_.ndim())) * DTypeSize(dtype_);
  return FinishView(std::move(out), ViewKind::kSlice);
}

NDArray NDArray::At(int64_t i) const {
  CheckNotNone(*this, "At");
  MX_CHECK(shape_.ndim() >= 1, ValueError) << "NDArray::At: cannot index a 0-dim array";
  const int64_t n = shape_[0];
  const int64_t j = i < 0 ? i + n : i;
  MX_CHECK(0 <= j && j < n, IndexError)
      << "NDArray::At: index " << i << " is out of bounds for axis 0 (size " << n
      << ") of an array of shape " << shape_;
  // Recorded as a slice then a reshape, the two views autograd knows.
  if (entry_.node || trace_.node) return Slice(j, j + 1).Reshape(Shape(shape_.dims().subspan(1)));
  NDArray out = *this;
  out.shape_ = Shape(shape_.dims().subspan(1));
  out.byte_offset_ += static_cast<size_t>(j * out.shape_.Size()) * DTypeSize(dtype_);
  return out;
}

NDArray NDArray::Reshape(const Shape& shape) const {
  CheckNotNone(*this, "Reshape");
  MX_CHECK(shape.is_known(), ValueError) << "NDArray::Reshape: target shape " << shape
                                         << " is not fully known (array shape " << shape_ << ")";
  MX_CHECK(shape.Size() == shape_.Size(), ValueError)
      << "NDArray::Reshape: cannot reshape array of shape " << shape_ << " (" << shape_.Size()
      << " elements) to " << shape << " (" << shape.Size() << " elements)";
  NDArray out = *this;
  out.shape_ = shape;
  return FinishView(std::move(out), ViewKind::kReshape);
}

NDArray NDArray::Reshape(std::span<const int64_t> codes, bool reverse) const {
  CheckNotNone(*this, "Reshape");
  return Reshape(InferReshape(shape_, codes, reverse));
}

NDArray NDArray::AsArray(const Shape& shape, DType dtype) const {
  CheckNotNone(*this, "AsArray");
  MX_CHECK(shape.is_known(), ValueError)
      << "NDArray::AsArray: target shape " << shape << " is not fully known";
  const size_t bytes = static_cast<size_t>(shape.Size()) * DTypeSize(dtype);
  MX_CHECK(byte_offset_ + bytes <= ptr_->nbytes, ValueError)
      << "NDArray::AsArray: " << shape << " " << DTypeName(dtype) << " needs " << bytes
      << " bytes but the storage has " << ptr_->nbytes - byte_offset_ << " from offset "
      << byte_offset_;
  NDArray out;
  out.ptr_ = ptr_;
  out.shape_ = shape;
  out.dtype_ = dtype;
  out.byte_offset_ = byte_offset_;
  return out;
}

// ---------------------------------------------------------------- autograd bookkeeping

namespace {
std::atomic<NDArray::ViewRecorder> g_view_recorder{nullptr};
std::atomic<NDArray::ViewRecorder> g_view_tracer{nullptr};
}  // namespace

uint64_t NDArray::version() const {
  return ptr_ ? ptr_->version.load(std::memory_order_relaxed) : 0;
}

void NDArray::BumpVersion() const {
  if (ptr_) ptr_->version.fetch_add(1, std::memory_order_relaxed);
}

void NDArray::SetViewRecorder(ViewRecorder recorder) {
  g_view_recorder.store(recorder);
}

void NDArray::SetViewTracer(ViewRecorder tracer) {
  g_view_tracer.store(tracer);
}

NDArray NDArray::FinishView(NDArray view, ViewKind kind) const {
  if (!entry_.node && !trace_.node) return view;
  view.entry_ = {};
  view.trace_ = {};
  if (entry_.node) {
    if (ViewRecorder r = g_view_recorder.load(std::memory_order_relaxed)) r(*this, &view, kind);
  }
  if (trace_.node) {
    if (ViewRecorder t = g_view_tracer.load(std::memory_order_relaxed)) t(*this, &view, kind);
  }
  return view;
}

}  // namespace mixnet
