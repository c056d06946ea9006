// NDArray files (mx.nd.save / mx.nd.load, pickling), DLPack exchange and mx.random.seed.
//
// NOTE [ DLPack export ]
// An exported tensor points at the array's own memory: its owner is a capsule holding a copy
// of the NDArray (a reference to the chunk), so the memory lives as long as any consumer holds
// the tensor. The array is waited for first (for reading, or for writing with
// to_dlpack_for_write), because a consumer reads the memory directly, outside the engine.
//
// NOTE [ DLPack import ]
// from_dlpack and from_numpy wrap a row-major CPU tensor without copying
// (NDArray::FromExternal); the NDArray holds the producer's tensor (nanobind's handle on the
// capsule or buffer) until its chunk is deleted, which happens after the last op on it, often
// on an engine worker. Dropping a Python reference needs the GIL, and a worker must never wait
// for it (the Python thread may hold it while it waits for that worker), so a worker queues the
// handle and Python frees it from the interpreter's own thread (Py_AddPendingCall). Strided
// tensors are copied.
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "bind.h"
#include "mixnet/base/error.h"
#include "mixnet/ndarray/serialize.h"
#include "mixnet/op/random.h"
#include "ndarray_common.h"

namespace mixnet::python {

namespace {

namespace dl = nb::dlpack;

dl::dtype ToDLPack(DType t) {
  using C = dl::dtype_code;
  auto make = [](C c, int bits) {
    return dl::dtype{static_cast<uint8_t>(c), static_cast<uint8_t>(bits), 1};
  };
  switch (t) {
    case DType::kFloat32:
      return make(C::Float, 32);
    case DType::kFloat64:
      return make(C::Float, 64);
    case DType::kFloat16:
      return make(C::Float, 16);
    case DType::kBFloat16:
      return make(C::Bfloat, 16);
    case DType::kBool:
      return make(C::Bool, 8);
    case DType::kInt8:
      return make(C::Int, 8);
    case DType::kInt16:
      return make(C::Int, 16);
    case DType::kInt32:
      return make(C::Int, 32);
    case DType::kInt64:
      return make(C::Int, 64);
    case DType::kUint8:
      return make(C::UInt, 8);
    case DType::kUint16:
      return make(C::UInt, 16);
    case DType::kUint32:
      return make(C::UInt, 32);
    case DType::kUint64:
      return make(C::UInt, 64);
  }
  MX_INTERNAL_ASSERT(false) << "unhandled dtype " << static_cast<int>(t);
  return {};
}

DType FromDLPack(dl::dtype t) {
  for (int flag = 0; flag < kNumDTypes; ++flag) {
    if (ToDLPack(static_cast<DType>(flag)) == t) return static_cast<DType>(flag);
  }
  MX_THROW(TypeError) << "from_dlpack: no NDArray dtype for DLPack type code "
                      << static_cast<int>(t.code) << " with " << static_cast<int>(t.bits)
                      << " bits and " << t.lanes << " lanes";
}

/*! \brief A tensor sharing `a`'s memory, keeping `a` alive (NOTE [ DLPack export ]). */
nb::ndarray<> Export(const NDArray& a, bool for_write) {
  MX_CHECK(a.ctx().dev_type != DeviceType::kGPU, NotImplementedError)
      << "to_dlpack: GPU arrays are not supported by this build";
  WaitForArray(a, for_write);
  auto* keep = new NDArray(a);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<NDArray*>(p); });
  std::vector<size_t> shape(a.shape().begin(), a.shape().end());
  return nb::ndarray<>(a.RawData(), shape.size(), shape.data(), owner, nullptr, ToDLPack(a.dtype()),
                       nb::device::cpu::value);
}

using HostTensor = nb::ndarray<nb::ro, nb::device::cpu>;

// Imported tensors whose NDArray is gone, waiting for the interpreter's thread to drop them
// (NOTE [ DLPack import ]). Never destroyed: workers may queue until the process ends.
auto* const g_release_mu = new std::mutex();
auto* const g_release_queue = new std::vector<HostTensor*>();
bool g_release_scheduled = false;

int DrainReleases(void*) {
  std::vector<HostTensor*> items;
  {
    std::lock_guard<std::mutex> lock(*g_release_mu);
    items.swap(*g_release_queue);
    g_release_scheduled = false;
  }
  for (HostTensor* t : items)
    delete t;
  return 0;
}

void ReleaseTensor(HostTensor* t) {
  if (!Py_IsInitialized()) return;  // the interpreter is gone: nothing left to free it with
  if (PyGILState_Check()) {
    delete t;
    return;
  }
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(*g_release_mu);
    g_release_queue->push_back(t);
    schedule = !g_release_scheduled;
    g_release_scheduled = true;
  }
  if (schedule && Py_AddPendingCall(DrainReleases, nullptr) != 0) {
    std::lock_guard<std::mutex> lock(*g_release_mu);
    g_release_scheduled = false;  // the call queue is full: the next release asks again
  }
}

bool IsRowMajor(const HostTensor& t) {
  int64_t expected = 1;
  for (size_t i = t.ndim(); i-- > 0;) {
    if (t.shape(i) == 0) return true;
    if (t.shape(i) != 1 && t.stride(i) != expected) return false;
    expected *= static_cast<int64_t>(t.shape(i));
  }
  return true;
}

/*! \brief Row-major bytes of a strided tensor. */
std::vector<char> GatherStrided(const HostTensor& t) {
  const size_t item = t.itemsize(), nd = t.ndim(), n = t.size();
  std::vector<char> out(n * item);
  std::vector<size_t> at(nd, 0);
  const char* base = static_cast<const char*>(t.data());
  for (size_t j = 0; j < n; ++j) {
    int64_t off = 0;
    for (size_t i = 0; i < nd; ++i)
      off += static_cast<int64_t>(at[i]) * t.stride(i);
    std::memcpy(out.data() + j * item, base + off * static_cast<int64_t>(item), item);
    for (size_t i = nd; i-- > 0 && ++at[i] == t.shape(i);)
      at[i] = 0;
  }
  return out;
}

/*! \brief An NDArray over a CPU tensor's memory when `share` and the layout allow, else a copy. */
NDArray Import(HostTensor t, nb::handle ctx, bool share) {
  std::vector<int64_t> dims(t.ndim());
  for (size_t i = 0; i < t.ndim(); ++i)
    dims[i] = static_cast<int64_t>(t.shape(i));
  const Shape shape{std::span<const int64_t>(dims)};
  const DType dtype = FromDLPack(t.dtype());
  const Context c = ToContext(ctx);
  if (!IsRowMajor(t)) {
    const std::vector<char> bytes = GatherStrided(t);
    return NDArray::FromHost(bytes.data(), shape, dtype, c);
  }
  if (!share) return NDArray::FromHost(t.data(), shape, dtype, c);
  auto* keep = new HostTensor(t);
  try {
    return NDArray::FromExternal(const_cast<void*>(t.data()), shape, dtype, c,
                                 [keep] { ReleaseTensor(keep); });
  } catch (...) {
    delete keep;
    throw;
  }
}

void WaitAll(const std::vector<NDArray>& arrays) {
  for (const NDArray& a : arrays)
    WaitForArray(a);
}

nb::tuple ListToPython(NDArrayList l) {
  return nb::make_tuple(nb::cast(std::move(l.arrays)), nb::cast(std::move(l.names)));
}

void BindNDArrayIO(nb::module_& m) {
  m.def(
      "_save",
      [](const std::string& fname, const std::vector<NDArray>& arrays,
         const std::vector<std::string>& names) {
        WaitAll(arrays);  // interruptibly, before the blocking write
        nb::gil_scoped_release release;
        SaveNDArrays(fname, arrays, names);
      },
      nb::arg("fname"), nb::arg("arrays"), nb::arg("names"),
      "Writes MXNet's NDArray list file (names empty for a list).");
  m.def(
      "_load",
      [](const std::string& fname, nb::handle ctx) {
        const Context c = ToContext(ctx);
        NDArrayList l;
        {
          nb::gil_scoped_release release;
          l = LoadNDArrays(fname, c);
        }
        return ListToPython(std::move(l));
      },
      nb::arg("fname"), nb::arg("ctx").none() = nb::none(),
      "Reads an NDArray list file: (arrays, names); names is empty for a list.");
  m.def(
      "_save_to_bytes",
      [](const std::vector<NDArray>& arrays, const std::vector<std::string>& names) {
        WaitAll(arrays);
        std::string s;
        {
          nb::gil_scoped_release release;
          s = SaveNDArraysToBytes(arrays, names);
        }
        return nb::bytes(s.data(), s.size());
      },
      nb::arg("arrays"), nb::arg("names"), "The bytes _save would write.");
  m.def(
      "_load_from_bytes",
      [](nb::bytes data, nb::handle ctx) {
        return ListToPython(LoadNDArraysFromBytes(std::string_view(data.c_str(), data.size()),
                                                  ToContext(ctx), "<buffer>"));
      },
      nb::arg("data"), nb::arg("ctx").none() = nb::none(), "Reads _save_to_bytes's bytes.");

  m.def(
      "_to_dlpack", [](const NDArray& a, bool for_write) { return Export(a, for_write); },
      nb::arg("array"), nb::arg("for_write") = false,
      "A DLPack capsule sharing the array's memory.");
  m.def("_from_dlpack", &Import, nb::arg("tensor").noconvert(), nb::arg("ctx").none() = nb::none(),
        nb::arg("share") = true,
        "An NDArray over a CPU tensor (DLPack capsule, __dlpack__ object or buffer): sharing "
        "its memory when `share` and it is row-major, else a copy.");

  m.def(
      "_seed",
      [](uint64_t seed, nb::handle ctx) {
        if (nb::isinstance<nb::str>(ctx) && nb::cast<std::string>(ctx) == "all") {
          op::SeedRandom(seed);
        } else {
          op::SeedRandom(seed, ToContext(ctx));
        }
      },
      nb::arg("seed"), nb::arg("ctx"),
      "Reseeds the generator of `ctx`, or of every context for 'all'.");
}

}  // namespace
MIXNET_PY_BIND(22, BindNDArrayIO);

}  // namespace mixnet::python
