#include "mixnet/ndarray/serialize.h"

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

#include "ndarray/byte_reader.h"

namespace mixnet {

// The formats are little-endian and records are copied byte for byte to and from memory.
static_assert(std::endian::native == std::endian::little, "mixnet assumes a little-endian host");

namespace {

constexpr uint64_t kListMagic = 0x112;
constexpr uint32_t kV1Magic = 0xF993FAC8;
constexpr uint32_t kV2Magic = 0xF993FAC9;
constexpr uint32_t kV3Magic = 0xF993FACA;
// Smallest record: the legacy "none" record, a single uint32 ndim of 0.
constexpr size_t kMinRecordBytes = 4;

enum StorageType : int32_t { kDense = 0, kRowSparse = 1, kCSR = 2 };

const char* StorageTypeName(int32_t stype) {
  return stype == kRowSparse ? "row_sparse" : "csr";
}

void CheckNames(size_t num_arrays, size_t num_names) {
  MX_CHECK(num_names == 0 || num_names == num_arrays, ValueError)
      << "SaveNDArrays: " << num_names << " names for " << num_arrays
      << " arrays (give none for a list, or one per array for a dict)";
}

// ---------------------------------------------------------------------------------------------
// Writing. `Sink` has Put(const void*, size_t).

template <typename T, typename Sink>
void Put(Sink& sink, T v) {
  sink.Put(&v, sizeof(T));
}

// NOTE [ V2 or V3 records ]
// MXNet 1.9.1 writes V2 records outside NumPy mode and V3 records inside it, and loads each kind
// only in its own mode. V2 cannot express a 0-dim array (its ndim 0 means "none"), so a file
// holding one is written entirely in V3, as MXNet's NumPy mode (npx.set_np()) writes and reads
// it; every other file is written in V2, which MXNet's default mode reads.
template <typename Sink>
void WriteArray(Sink& sink, const NDArray& arr, bool np_shape) {
  const uint32_t magic = np_shape ? kV3Magic : kV2Magic;
  if (arr.is_none()) {
    // "none": V2 says ndim 0, V3 says ndim -1 (unknown); nothing follows.
    Put(sink, magic);
    Put<int32_t>(sink, kDense);
    Put<int32_t>(sink, np_shape ? -1 : 0);
    return;
  }
  const Shape& shape = arr.shape();
  Put(sink, magic);
  Put<int32_t>(sink, kDense);
  Put<int32_t>(sink, shape.ndim());
  for (int64_t d : shape.dims())
    Put(sink, d);
  const Context ctx = arr.ctx();
  Put(sink, static_cast<int32_t>(ctx.dev_type));
  Put(sink, ctx.dev_id);
  Put(sink, static_cast<int32_t>(arr.dtype()));
  const NDArray host = ctx.is_host() ? arr : arr.Copy(Context::cpu());
  host.WaitToRead();
  if (host.nbytes() > 0) sink.Put(host.RawData(), host.nbytes());
}

template <typename Sink>
void WriteList(Sink& sink, std::span<const NDArray> arrays, std::span<const std::string> names) {
  Put(sink, kListMagic);
  Put<uint64_t>(sink, 0);
  Put<uint64_t>(sink, arrays.size());
  const bool np_shape = std::any_of(arrays.begin(), arrays.end(), [](const NDArray& a) {
    return !a.is_none() && a.shape().ndim() == 0;
  });
  for (const NDArray& arr : arrays)
    WriteArray(sink, arr, np_shape);
  Put<uint64_t>(sink, names.size());
  for (const std::string& name : names) {
    Put<uint64_t>(sink, name.size());
    sink.Put(name.data(), name.size());
  }
}

struct StringSink {
  std::string* out;
  void Put(const void* p, size_t n) { out->append(static_cast<const char*>(p), n); }
};

struct FileSink {
  FILE* file;
  const std::string& path;
  void Put(const void* p, size_t n) {
    MX_CHECK(std::fwrite(p, 1, n, file) == n, Error)
        << "SaveNDArrays: cannot write " << path << ": " << std::strerror(errno);
  }
};

// A unique name next to `path`, so the final rename stays on one file system.
std::string TempPathFor(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// ---------------------------------------------------------------------------------------------
// Reading.

class ListReader {
 public:
  ListReader(ByteReader& in, Context ctx) : in_(in), ctx_(ctx) {}

  NDArrayList Read() {
    in_.SetItem("the list header");
    const uint64_t magic = in_.Read<uint64_t>("the list magic");
    if (magic != kListMagic) {
      char hex[32];
      std::snprintf(hex, sizeof(hex), "0x%" PRIx64, magic);
      in_.Fail(std::string("bad list magic ") + hex + " at byte 0 (not an MXNet NDArray file)");
    }
    // MXNet ignores the reserved field's value; so do we.
    in_.Read<uint64_t>("the reserved field");
    const size_t count_at = in_.pos();
    const uint64_t num_arrays = in_.Read<uint64_t>("the array count");
    if (num_arrays > in_.remaining() / kMinRecordBytes) {
      in_.Fail("array count " + std::to_string(num_arrays) + " at byte " +
               std::to_string(count_at) + " is more than the remaining " +
               std::to_string(in_.remaining()) + " bytes could hold");
    }
    NDArrayList list;
    list.arrays.reserve(num_arrays);
    for (uint64_t i = 0; i < num_arrays; ++i)
      list.arrays.push_back(ReadArray(i));

    in_.SetItem("the name list");
    const size_t names_at = in_.pos();
    const uint64_t num_names = in_.Read<uint64_t>("the name count");
    if (num_names != 0 && num_names != num_arrays) {
      in_.Fail("name count " + std::to_string(num_names) + " at byte " + std::to_string(names_at) +
               " must be 0 or the array count " + std::to_string(num_arrays));
    }
    list.names.resize(num_names);
    for (uint64_t i = 0; i < num_names; ++i) {
      in_.SetItem("name " + std::to_string(i));
      const size_t at = in_.pos();
      const uint64_t len = in_.Read<uint64_t>("the length");
      if (len > in_.remaining()) {
        in_.Fail("name " + std::to_string(i) + " at byte " + std::to_string(at) + " has length " +
                 std::to_string(len) + " but only " + std::to_string(in_.remaining()) +
                 " bytes remain");
      }
      list.names[i].resize(len);
      in_.Read(list.names[i].data(), len, "the bytes");
    }
    if (in_.remaining() != 0) {
      in_.Fail(std::to_string(in_.remaining()) + " bytes of trailing garbage at byte " +
               std::to_string(in_.pos()) + " after the names");
    }
    return list;
  }

 private:
  [[noreturn]] void FailArray(const std::string& msg) const {
    in_.Fail("array " + std::to_string(index_) + " at byte " + std::to_string(start_) + " " + msg);
  }

  void CheckNdim(int64_t ndim, int64_t min_ndim) const {
    if (ndim > Shape::kMaxDims) {
      FailArray("has ndim " + std::to_string(ndim) + " (max " + std::to_string(Shape::kMaxDims) +
                ")");
    }
    if (ndim < min_ndim) FailArray("has invalid ndim " + std::to_string(ndim));
  }

  // int32 ndim then ndim x int64 dims (V1/V2/V3). Returns an unknown shape for ndim -1.
  Shape ReadShape(const char* what) {
    const int32_t ndim = in_.Read<int32_t>(what);
    CheckNdim(ndim, -1);
    if (ndim < 0) return Shape();
    int64_t dims[Shape::kMaxDims];
    in_.Read(dims, sizeof(int64_t) * ndim, what);
    for (int i = 0; i < ndim; ++i) {
      if (dims[i] < 0) {
        FailArray("has negative dim " + std::to_string(dims[i]) + " in " + what);
      }
    }
    return Shape(std::span<const int64_t>(dims, ndim));
  }

  // The original record: the leading uint32 is ndim, then ndim x uint32 dims.
  Shape ReadLegacyShape(uint32_t ndim) {
    CheckNdim(ndim, 0);
    uint32_t dims32[Shape::kMaxDims];
    in_.Read(dims32, sizeof(uint32_t) * ndim, "the shape");
    int64_t dims[Shape::kMaxDims];
    for (uint32_t i = 0; i < ndim; ++i)
      dims[i] = dims32[i];
    return Shape(std::span<const int64_t>(dims, ndim));
  }

  // The context is validated but not restored: arrays go to ctx_ (no GPU backend yet).
  void ReadContext() {
    const int32_t dev_type = in_.Read<int32_t>("the device type");
    if (!Context::IsValidDeviceType(dev_type)) {
      FailArray("has invalid device type " + std::to_string(dev_type));
    }
    in_.Read<int32_t>("the device id");
  }

  // `name` is "type flag" or "aux type flag".
  DType ReadDType(const std::string& name) {
    const int32_t flag = in_.Read<int32_t>("the " + name);
    if (!IsValidDTypeFlag(flag)) FailArray("has unknown " + name + " " + std::to_string(flag));
    return static_cast<DType>(flag);
  }

  // Sparse records are parsed through their header so that corrupt ones still raise
  // ValueError; valid ones raise NotImplementedError.
  [[noreturn]] void RejectSparse(int32_t stype) {
    const int num_aux = stype == kRowSparse ? 1 : 2;
    ReadContext();
    ReadDType("type flag");
    for (int i = 0; i < num_aux; ++i) {
      ReadDType("aux type flag");
      ReadShape("the aux shape");
    }
    MX_THROW(NotImplementedError) << in_.source() << ": array " << index_ << " at byte " << start_
                                  << " has storage type " << StorageTypeName(stype)
                                  << "; sparse arrays are not supported yet";
  }

  NDArray ReadData(const Shape& shape) {
    ReadContext();
    const DType dtype = ReadDType("type flag");
    int64_t bytes = static_cast<int64_t>(DTypeSize(dtype));
    bool overflow = false;
    // As Shape::Size: a zero dim anywhere means no data, whatever the other dims claim.
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) bytes = 0;
    for (int64_t d : shape.dims())
      overflow = overflow || __builtin_mul_overflow(bytes, d, &bytes);
    if (overflow || static_cast<uint64_t>(bytes) > in_.remaining()) {
      FailArray("has shape " + shape.ToString() + " " + DTypeName(dtype) + ", which needs " +
                (overflow ? std::string("more than 2^63") : std::to_string(bytes)) +
                " bytes of data, but only " + std::to_string(in_.remaining()) + " remain");
    }
    NDArray arr = NDArray::Empty(shape, dtype, ctx_);
    arr.WaitToWrite();
    in_.Read(arr.RawData(), static_cast<size_t>(bytes), "the data");
    if (dtype == DType::kBool) {
      // Any nonzero byte is true; storing other values in a C++ bool would be undefined.
      auto* p = static_cast<uint8_t*>(arr.RawData());
      for (int64_t i = 0; i < bytes; ++i)
        p[i] = p[i] != 0;
    }
    return arr;
  }

  NDArray ReadArray(uint64_t index) {
    index_ = index;
    start_ = in_.pos();
    in_.SetItem("array " + std::to_string(index));
    const uint32_t magic = in_.Read<uint32_t>("the record magic");
    if (magic == kV2Magic || magic == kV3Magic) {
      const int32_t stype = in_.Read<int32_t>("the storage type");
      if (stype != kDense && stype != kRowSparse && stype != kCSR) {
        FailArray("has unknown storage type " + std::to_string(stype));
      }
      if (stype != kDense) ReadShape("the storage shape");
      const Shape shape = ReadShape("the shape");
      // V2 uses MXNet's legacy shape semantics, where ndim 0 also means "none".
      if (shape.ndim() < 0 || (magic == kV2Magic && shape.ndim() == 0)) return NDArray();
      if (stype != kDense) RejectSparse(stype);
      return ReadData(shape);
    }
    if (magic == kV1Magic) {
      const Shape shape = ReadShape("the shape");
      if (shape.ndim() <= 0) return NDArray();
      return ReadData(shape);
    }
    const Shape shape = ReadLegacyShape(magic);
    if (shape.ndim() == 0) return NDArray();
    return ReadData(shape);
  }

  ByteReader& in_;
  Context ctx_;
  uint64_t index_ = 0;
  size_t start_ = 0;
};

}  // namespace

std::string SaveNDArraysToBytes(std::span<const NDArray> arrays,
                                std::span<const std::string> names) {
  CheckNames(arrays.size(), names.size());
  std::string out;
  StringSink sink{&out};
  WriteList(sink, arrays, names);
  return out;
}

void SaveNDArrays(const std::string& path, std::span<const NDArray> arrays,
                  std::span<const std::string> names) {
  CheckNames(arrays.size(), names.size());
  // Write a temporary file and rename it over `path`, so a failed save never leaves a
  // truncated file behind. open() applies the umask, as a plain fopen would.
  const std::string tmp = TempPathFor(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  MX_CHECK(fd >= 0, Error) << "SaveNDArrays: cannot create " << path << " (temporary file " << tmp
                           << "): " << std::strerror(errno);
  FILE* file = ::fdopen(fd, "wb");
  if (file == nullptr) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    MX_THROW(Error) << "SaveNDArrays: cannot open " << path << ": " << std::strerror(err);
  }
  try {
    FileSink sink{file, path};
    WriteList(sink, arrays, names);
    MX_CHECK(std::fflush(file) == 0 && ::fsync(fd) == 0, Error)
        << "SaveNDArrays: cannot write " << path << ": " << std::strerror(errno);
  } catch (...) {
    std::fclose(file);
    ::unlink(tmp.c_str());
    throw;
  }
  if (std::fclose(file) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    MX_THROW(Error) << "SaveNDArrays: cannot write " << path << ": " << std::strerror(err);
  }
}

NDArrayList LoadNDArrays(const std::string& path, Context ctx) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  MX_CHECK(file != nullptr, Error)
      << "LoadNDArrays: cannot open " << path << ": " << std::strerror(errno);
  struct stat st;
  MX_CHECK(::fstat(::fileno(file.get()), &st) == 0, Error)
      << "LoadNDArrays: cannot stat " << path << ": " << std::strerror(errno);
  MX_CHECK(S_ISREG(st.st_mode), Error) << "LoadNDArrays: " << path << " is not a regular file";
  // Records are read straight into the arrays' storage; the file is never buffered whole.
  ByteReader in(file.get(), static_cast<size_t>(st.st_size), path);
  return ListReader(in, ctx).Read();
}

NDArrayList LoadNDArraysFromBytes(std::string_view bytes, Context ctx,
                                  std::string_view source_name) {
  ByteReader in(bytes, std::string(source_name));
  return ListReader(in, ctx).Read();
}

}  // namespace mixnet
