// NDArray list files: the writer and reader pinned to hand-built MXNet bytes (FORMATS.md),
// round trips, older record versions, and hostile input (truncation, corruption, huge claims).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mixnet/ndarray/serialize.h"

namespace mixnet {
namespace {

constexpr uint32_t kV1 = 0xF993FAC8, kV2 = 0xF993FAC9, kV3 = 0xF993FACA;

// Little-endian byte builder for hand-made files; one statement per record keeps them legible.
struct Bytes {
  std::string s;
  template <typename T>
  Bytes& Put(T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return *this;
  }
  Bytes& U32(uint32_t v) { return Put(v); }
  Bytes& I32(int32_t v) { return Put(v); }
  Bytes& U64(uint64_t v) { return Put(v); }
  Bytes& I64(int64_t v) { return Put(v); }
  Bytes& Raw(std::string_view v) {
    s.append(v);
    return *this;
  }
  Bytes& Header(uint64_t n) { return U64(0x112).U64(0).U64(n); }
  // int32 ndim + int64 dims, as V1/V2/V3 records store a shape.
  Bytes& Shape64(std::initializer_list<int64_t> dims) {
    I32(static_cast<int32_t>(dims.size()));
    for (int64_t d : dims)
      I64(d);
    return *this;
  }
  // Magic, dense storage type and shape of a V2/V3 record.
  Bytes& Dense(uint32_t magic, std::initializer_list<int64_t> dims) {
    return U32(magic).I32(0).Shape64(dims);
  }
  // dev_type, dev_id, type_flag.
  Bytes& Ctx(int32_t dev_type, int32_t dev_id, int32_t flag) {
    return I32(dev_type).I32(dev_id).I32(flag);
  }
  Bytes& CpuF32() { return Ctx(1, 0, 0); }
  Bytes& Names(std::initializer_list<std::string_view> names) {
    U64(names.size());
    for (std::string_view n : names)
      U64(n.size()).Raw(n);
    return *this;
  }
};

std::string F32Bytes(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * sizeof(float));
}

std::string DataOf(const NDArray& a) {
  a.WaitToRead();
  return std::string(static_cast<const char*>(a.RawData()), a.nbytes());
}

// Unique per test and process: ctest runs tests as parallel processes sharing the temp dir.
std::string TempPath(const std::string& name) {
  const std::string test = testing::UnitTest::GetInstance()->current_test_info()->name();
  return (std::filesystem::path(testing::TempDir()) /
          ("mixnet_serialize_" + test + "_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

NDArray Filled(const Shape& shape, DType dtype, uint32_t seed) {
  std::string data(static_cast<size_t>(shape.Size()) * DTypeSize(dtype), '\0');
  std::mt19937 rng(seed);
  for (char& c : data)
    c = static_cast<char>(dtype == DType::kBool ? rng() % 2 : rng());
  return NDArray::FromHost(data.data(), shape, dtype);
}

void ExpectSameArrays(const std::vector<NDArray>& got, const std::vector<NDArray>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("array " + std::to_string(i));
    ASSERT_EQ(got[i].is_none(), want[i].is_none());
    if (want[i].is_none()) continue;
    EXPECT_EQ(got[i].shape(), want[i].shape());
    EXPECT_EQ(got[i].dtype(), want[i].dtype());
    EXPECT_EQ(got[i].ctx(), Context::cpu());
    EXPECT_EQ(DataOf(got[i]), DataOf(want[i]));
  }
}

// Loads `bytes` from memory and from a file; both must raise `E` naming the source, "byte"
// and `expected`.
template <typename E = ValueError>
void ExpectLoadError(const std::string& bytes, const std::string& expected) {
  try {
    LoadNDArraysFromBytes(bytes, Context::cpu(), "bad.params");
    ADD_FAILURE() << "no error from bytes; expected '" << expected << "'";
  } catch (const E& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad.params"), std::string::npos) << msg;
    EXPECT_NE(msg.find("byte"), std::string::npos) << msg;
    EXPECT_NE(msg.find(expected), std::string::npos) << msg;
  }
  const std::string path = TempPath("bad.params");
  WriteFile(path, bytes);
  try {
    LoadNDArrays(path);
    ADD_FAILURE() << "no error from file; expected '" << expected << "'";
  } catch (const E& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(expected), std::string::npos) << msg;
  }
}

// A dict of several record kinds, used by the truncation and corruption tests.
std::string SmallValidFile() {
  std::vector<NDArray> arrays = {Filled({2, 3}, DType::kFloat32, 1), NDArray(),
                                 Filled(Shape::Scalar(), DType::kInt64, 2),
                                 Filled({0, 3}, DType::kFloat16, 3), Filled({3}, DType::kBool, 4)};
  std::vector<std::string> names = {"w", "none", "scalar", "", "mask"};
  return SaveNDArraysToBytes(arrays, names);
}

TEST(Serialize, FormatsExampleBytes) {
  const std::string data = F32Bytes({0, 1, 2, 3, 4, 5});
  Bytes want;
  want.Header(1).Dense(kV2, {2, 3}).CpuF32().Raw(data).Names({"w"});
  // The same 105 bytes mx.nd.save({'w': mx.nd.array(np.arange(6).reshape(2, 3))}) writes.
  ASSERT_EQ(want.s.size(), 105u);
  const NDArray w = NDArray::FromHost(data.data(), {2, 3}, DType::kFloat32);
  const std::vector<std::string> names = {"w"};
  EXPECT_EQ(SaveNDArraysToBytes({&w, 1}, names), want.s);

  const NDArrayList list = LoadNDArraysFromBytes(want.s);
  ASSERT_EQ(list.names, names);
  ExpectSameArrays(list.arrays, {w});

  const std::string path = TempPath("example.params");
  SaveNDArrays(path, {&w, 1}, names);
  EXPECT_EQ(ReadFile(path), want.s);
  ExpectSameArrays(LoadNDArrays(path).arrays, {w});
}

TEST(Serialize, WriterPinsNoneAndZeroSizeRecords) {
  const std::vector<NDArray> arrays = {NDArray(), NDArray::Empty({0, 3}, DType::kFloat64)};
  Bytes want;
  want.Header(2);
  want.U32(kV2).I32(0).I32(0);           // none: V2, ndim 0, nothing after
  want.Dense(kV2, {0, 3}).Ctx(1, 0, 1);  // zero-size: no data bytes
  want.Names({});
  EXPECT_EQ(SaveNDArraysToBytes(arrays), want.s);
  const NDArrayList list = LoadNDArraysFromBytes(want.s);
  EXPECT_TRUE(list.names.empty());
  ExpectSameArrays(list.arrays, arrays);
}

TEST(Serialize, FileWithAScalarIsWrittenInV3) {
  // NOTE [ V2 or V3 records ]: one 0-dim array makes every record V3 (MXNet's NumPy mode).
  const std::vector<NDArray> arrays = {
      NDArray(), NDArray::FromVector<int32_t>({7}, Shape::Scalar()),
      NDArray::Empty({0, 3}, DType::kFloat64), NDArray::FromVector<uint8_t>({1, 2}, {2})};
  Bytes want;
  want.Header(4);
  want.U32(kV3).I32(0).I32(-1);             // none: V3, unknown shape, nothing after
  want.Dense(kV3, {}).Ctx(1, 0, 4).I32(7);  // scalar: V3, ndim 0, one element
  want.Dense(kV3, {0, 3}).Ctx(1, 0, 1);     // zero-size: no data bytes
  want.Dense(kV3, {2}).Ctx(1, 0, 3).Raw("\x01\x02");
  want.Names({});
  EXPECT_EQ(SaveNDArraysToBytes(arrays), want.s);
  const NDArrayList list = LoadNDArraysFromBytes(want.s);
  ExpectSameArrays(list.arrays, arrays);
  EXPECT_EQ(list.arrays[1].shape().ndim(), 0);
}

TEST(Serialize, WritesArrayContext) {
  const NDArray a = NDArray::FromVector<uint8_t>({1, 2}, {2}, Context::cpu_shared(3));
  Bytes want;
  want.Header(1).Dense(kV2, {2}).Ctx(5, 3, 3).Raw("\x01\x02").Names({});
  EXPECT_EQ(SaveNDArraysToBytes({&a, 1}), want.s);
  // Saved contexts are not restored: arrays land on the requested context.
  const NDArrayList list = LoadNDArraysFromBytes(want.s, Context::cpu(1));
  EXPECT_EQ(list.arrays[0].ctx(), Context::cpu(1));
}

TEST(Serialize, GpuRecordLoadsOnCpu) {
  Bytes bytes;
  bytes.Header(1).Dense(kV2, {1}).Ctx(2, 1, 0).Raw(F32Bytes({2})).Names({});
  const NDArrayList list = LoadNDArraysFromBytes(bytes.s);
  EXPECT_EQ(list.arrays[0].ctx(), Context::cpu());
  EXPECT_EQ(list.arrays[0].ToVector<float>(), std::vector<float>{2});
}

TEST(Serialize, RoundTripEveryDType) {
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  for (int flag = 0; flag < kNumDTypes; ++flag) {
    const DType dt = static_cast<DType>(flag);
    arrays.push_back(Filled({2, 3}, dt, flag));
    arrays.push_back(Filled(Shape::Scalar(), dt, 100 + flag));
    arrays.push_back(Filled({0, 3}, dt, 0));
    arrays.push_back(Filled({1, 2, 1, 2, 1, 2, 3}, dt, 200 + flag));
    for (int k = 0; k < 4; ++k)
      names.push_back(std::string(DTypeName(dt)) + "/" + std::to_string(k));
  }
  arrays.push_back(NDArray());
  names.push_back("");  // empty names are legal
  arrays.push_back(Filled({4, 1}, DType::kFloat32, 9));
  names.push_back("权重.ü\n\"quoted\"\xff");  // names are bytes, not necessarily UTF-8

  const NDArrayList list = LoadNDArraysFromBytes(SaveNDArraysToBytes(arrays));
  EXPECT_TRUE(list.names.empty());
  ExpectSameArrays(list.arrays, arrays);

  const std::string path = TempPath("dict.params");
  SaveNDArrays(path, arrays, names);
  const NDArrayList dict = LoadNDArrays(path);
  EXPECT_EQ(dict.names, names);
  ExpectSameArrays(dict.arrays, arrays);
  EXPECT_EQ(ReadFile(path), SaveNDArraysToBytes(arrays, names));
}

TEST(Serialize, SavesViews) {
  const NDArray base = NDArray::FromVector<float>({0, 1, 2, 3, 4, 5}, {3, 2});
  const NDArray row = base.Slice(1, 3);
  const NDArrayList list = LoadNDArraysFromBytes(SaveNDArraysToBytes({&row, 1}));
  EXPECT_EQ(list.arrays[0].shape(), Shape({2, 2}));
  EXPECT_EQ(list.arrays[0].ToVector<float>(), (std::vector<float>{2, 3, 4, 5}));
}

TEST(Serialize, ReadsV1Record) {
  Bytes bytes;
  bytes.Header(2);
  bytes.U32(kV1).Shape64({2, 1}).CpuF32().Raw(F32Bytes({1.5, -2}));
  bytes.U32(kV1).I32(0);  // V1 none
  bytes.Names({"a", "b"});
  const NDArrayList list = LoadNDArraysFromBytes(bytes.s);
  EXPECT_EQ(list.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(list.arrays[0].shape(), Shape({2, 1}));
  EXPECT_EQ(list.arrays[0].ToVector<float>(), (std::vector<float>{1.5, -2}));
  EXPECT_TRUE(list.arrays[1].is_none());
}

TEST(Serialize, ReadsLegacyRecord) {
  Bytes bytes;
  bytes.Header(2);
  bytes.U32(3).U32(1).U32(2).U32(1).Ctx(1, 0, 4).I32(-7).I32(9);  // ndim 3, uint32 dims, int32
  bytes.U32(0);                                                   // legacy none: ndim 0
  bytes.Names({});
  const NDArrayList list = LoadNDArraysFromBytes(bytes.s);
  EXPECT_EQ(list.arrays[0].shape(), Shape({1, 2, 1}));
  EXPECT_EQ(list.arrays[0].ToVector<int32_t>(), (std::vector<int32_t>{-7, 9}));
  EXPECT_TRUE(list.arrays[1].is_none());
}

TEST(Serialize, ReadsNoneSpellings) {
  Bytes bytes;
  bytes.Header(3);
  bytes.U32(kV2).I32(0).I32(-1);                   // V2 unknown shape
  bytes.U32(kV3).I32(0).I32(-1);                   // V3 unknown shape
  bytes.U32(kV2).I32(2).Shape64({4}).Shape64({});  // sparse with ndim 0
  bytes.Names({});
  for (const NDArray& a : LoadNDArraysFromBytes(bytes.s).arrays)
    EXPECT_TRUE(a.is_none());
}

TEST(Serialize, ReadsV3Arrays) {
  Bytes bytes;
  bytes.Header(1).Dense(kV3, {2}).CpuF32().Raw(F32Bytes({3, 4})).Names({});
  EXPECT_EQ(LoadNDArraysFromBytes(bytes.s).arrays[0].ToVector<float>(), (std::vector<float>{3, 4}));
}

TEST(Serialize, NormalisesBoolBytes) {
  Bytes bytes;
  bytes.Header(1).Dense(kV2, {3}).Ctx(1, 0, 7).Raw(std::string("\x00\x02\xff", 3)).Names({});
  EXPECT_EQ(DataOf(LoadNDArraysFromBytes(bytes.s).arrays[0]), std::string("\x00\x01\x01", 3));
}

TEST(Serialize, SparseIsNotImplemented) {
  Bytes row_sparse;
  row_sparse.Header(1).U32(kV2).I32(1).Shape64({2, 4}).Shape64({10, 4}).CpuF32();
  row_sparse.I32(6).Shape64({2});  // aux: int64 row indices
  row_sparse.Raw(std::string(2 * 4 * 4 + 2 * 8, '\0')).Names({});
  ExpectLoadError<NotImplementedError>(row_sparse.s,
                                       "array 0 at byte 24 has storage type row_sparse");
  Bytes csr;
  csr.Header(1).U32(kV2).I32(2).Shape64({3}).Shape64({2, 5}).CpuF32();
  csr.I32(6).Shape64({3}).I32(6).Shape64({3});  // aux: indptr, indices
  csr.Names({});
  ExpectLoadError<NotImplementedError>(csr.s, "storage type csr");
  // A corrupt sparse header is still a ValueError.
  Bytes bad_aux;
  bad_aux.Header(1).U32(kV2).I32(2).Shape64({3}).Shape64({2, 5}).CpuF32().I32(99).Names({});
  ExpectLoadError(bad_aux.s, "unknown aux type flag 99");
}

TEST(Serialize, BadInputsRaiseValueError) {
  // A one-array file whose record starts at byte 24 with the V2 magic and dense storage.
  const auto v2 = [] { return Bytes().Header(1).U32(kV2).I32(0); };
  ExpectLoadError(Bytes().U64(0x113).U64(0).U64(0).U64(0).s,
                  "bad list magic 0x113 at byte 0 (not an MXNet NDArray file)");
  ExpectLoadError("", "truncated at byte 0 while reading the list magic");
  ExpectLoadError(v2().I32(1000000).s, "array 0 at byte 24 has ndim 1000000 (max 32)");
  ExpectLoadError(v2().I32(-2).s, "has invalid ndim -2");
  ExpectLoadError(v2().Shape64({2, -3}).CpuF32().s, "negative dim -3");
  ExpectLoadError(Bytes().Header(1).U32(40).s, "has ndim 40 (max 32)");  // legacy ndim
  ExpectLoadError(v2().Shape64({1}).Ctx(4, 0, 0).s, "invalid device type 4");
  ExpectLoadError(v2().Shape64({1}).Ctx(1, 0, 13).s, "unknown type flag 13");
  ExpectLoadError(Bytes().Header(1).U32(kV2).I32(3).s, "unknown storage type 3");
  ExpectLoadError(v2().Shape64({int64_t{1} << 40, int64_t{1} << 40}).CpuF32().s, "more than 2^63");
  ExpectLoadError(v2().Shape64({2, 3}).CpuF32().Raw(F32Bytes({1, 2})).s,
                  "needs 24 bytes of data, but only 8 remain");
  ExpectLoadError(Bytes().Header(1000).U64(0).s, "array count 1000 at byte 16");
  ExpectLoadError(Bytes().Header(uint64_t{1} << 63).s, "array count");
  ExpectLoadError(Bytes().Header(0).Names({"x"}).s, "name count 1 at byte 24 must be 0");
  // A legacy "none" record (uint32 0) then one name with a hostile length.
  ExpectLoadError(Bytes().Header(1).U32(0).U64(1).U64(uint64_t{1} << 62).s,
                  "name 0 at byte 36 has length 4611686018427387904");
  ExpectLoadError(Bytes().Header(1).U32(0).U64(1).U64(5).Raw("abc").s,
                  "name 0 at byte 36 has length 5 but only 3 bytes remain");
  ExpectLoadError(Bytes().Header(0).Names({}).Raw("junk").s,
                  "4 bytes of trailing garbage at byte 32");
  Bytes truncated;
  truncated.Header(4).Dense(kV2, {3});
  ExpectLoadError(truncated.s,
                  "truncated at byte 44 while reading the device type of array 0 (need 4 bytes, "
                  "0 remain)");
}

TEST(Serialize, HugeDimDoesNotAllocate) {
  const auto record = [](std::initializer_list<int64_t> dims) {
    Bytes b;
    b.Header(1).Dense(kV2, dims).CpuF32().Raw(F32Bytes({1})).Names({});
    return b.s;
  };
  // 2^60 float32 elements would be 4 EiB; the reader must refuse before allocating.
  ExpectLoadError(record({int64_t{1} << 60}),
                  "array 0 at byte 24 has shape (1152921504606846976,) float32");
  // A byte count that overflows int64 is refused; a zero dim anywhere makes an empty array,
  // however large the other dims are.
  ExpectLoadError(record({int64_t{1} << 62, 8}), "more than 2^63");
  for (auto dims : {std::initializer_list<int64_t>{0, int64_t{1} << 62, 8},
                    std::initializer_list<int64_t>{int64_t{1} << 62, 8, 0}}) {
    Bytes empty;
    empty.Header(1).Dense(kV2, dims).CpuF32().Names({});
    EXPECT_EQ(LoadNDArraysFromBytes(empty.s).arrays[0].Size(), 0);
  }
}

TEST(Serialize, TruncationAtEveryOffset) {
  const std::string full = SmallValidFile();
  ASSERT_NO_THROW(LoadNDArraysFromBytes(full));
  const std::string path = TempPath("truncated.params");
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("length " + std::to_string(n));
    EXPECT_THROW(LoadNDArraysFromBytes(std::string_view(full).substr(0, n)), ValueError);
    WriteFile(path, full.substr(0, n));
    EXPECT_THROW(LoadNDArrays(path), ValueError);
  }
}

TEST(Serialize, RandomCorruptionNeverCrashes) {
  const std::string full = SmallValidFile();
  std::mt19937 rng(20240601);
  int loaded = 0;
  for (int variant = 0; variant < 400; ++variant) {
    std::string bytes = full;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const size_t at = rng() % bytes.size();
      // Mostly random bytes; sometimes 0xFF / 0x80 to reach sign bits and huge lengths.
      const uint32_t kind = rng() % 4;
      bytes[at] = static_cast<char>(kind == 0 ? 0xFF : kind == 1 ? 0x80 : rng());
    }
    try {
      LoadNDArraysFromBytes(bytes);
      ++loaded;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(loaded, 0);  // flips in data bytes still load
}

TEST(Serialize, MissingFileNamesPathAndReason) {
  const std::string path = TempPath("does_not_exist.params");
  try {
    LoadNDArrays(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::strerror(ENOENT)), std::string::npos) << e.what();
  }
}

TEST(Serialize, FailedSaveKeepsOldFile) {
  const std::string path = TempPath("keep.params");
  const NDArray a = NDArray::FromVector<float>({1}, {1});
  SaveNDArrays(path, {&a, 1});
  const std::string before = ReadFile(path);
  const std::vector<std::string> names = {"a", "b"};
  EXPECT_THROW(SaveNDArrays(path, {&a, 1}, names), ValueError);
  EXPECT_EQ(ReadFile(path), before);

  const std::string bad = TempPath("no_such_dir/x.params");
  try {
    SaveNDArrays(bad, {&a, 1});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  // No temporary files are left next to the target.
  for (const auto& entry : std::filesystem::directory_iterator(testing::TempDir())) {
    EXPECT_EQ(entry.path().filename().string().find("keep.params.tmp"), std::string::npos);
  }
}

TEST(Serialize, SaveRejectsNameCountMismatch) {
  const std::vector<NDArray> arrays = {NDArray(), NDArray()};
  const std::vector<std::string> names = {"only_one"};
  EXPECT_THROW(SaveNDArraysToBytes(arrays, names), ValueError);
}

}  // namespace
}  // namespace mixnet
