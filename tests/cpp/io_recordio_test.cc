// RecordIO: the writer's bytes against hand-built dmlc-core records (plain, empty, split at an
// aligned magic), round trips of random payloads, .idx random access, corrupted data (strict
// errors naming the file and offset; resynchronisation that recovers the following records),
// and IRHeader pack/unpack.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "mixnet/base/error.h"
#include "mixnet/io/recordio.h"

namespace mixnet::io {
namespace {

std::string Word(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i)
    s[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}
const std::string kMagicBytes = "\x0A\x23\xD7\xCE";

std::string Written(const std::vector<std::string>& recs) {
  RecordIOWriter w;
  for (const auto& r : recs)
    w.Write(r);
  return w.buffer();
}

std::vector<std::string> ReadAll(RecordIOReader& r) {
  std::vector<std::string> out;
  std::string rec;
  while (r.NextRecord(&rec))
    out.push_back(rec);
  return out;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mixnet_recordio_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(IoRecordIO, MagicBytesAreLittleEndian) {
  EXPECT_EQ(Word(kRecordIOMagic), kMagicBytes);
}

TEST(IoRecordIO, WriterBytesMatchHandBuiltRecords) {
  // "abcde": magic, lrec = 5 (cflag 0), payload, 3 zero bytes of padding.
  EXPECT_EQ(Written({"abcde"}), kMagicBytes + Word(5) + "abcde" + std::string(3, '\0'));
  // Empty record: just the 8-byte header.
  EXPECT_EQ(Written({""}), kMagicBytes + Word(0));
  // The magic at offset 4 splits the record: part 1 (cflag 1) "abcd", part 3 "xy" + padding.
  const std::string split = "abcd" + kMagicBytes + "xy";
  EXPECT_EQ(Written({split}), kMagicBytes + Word((1u << 29) | 4) + "abcd" + kMagicBytes +
                                  Word((3u << 29) | 2) + "xy" + std::string(2, '\0'));
  // Two magics (at 0 and 8): empty start part, middle part "wxyz", end part "q".
  const std::string two = kMagicBytes + "wxyz" + kMagicBytes + "q";
  EXPECT_EQ(Written({two}), kMagicBytes + Word(1u << 29) + kMagicBytes + Word((2u << 29) | 4) +
                                "wxyz" + kMagicBytes + Word((3u << 29) | 1) + "q" +
                                std::string(3, '\0'));
  // An unaligned magic is payload like any other bytes.
  const std::string unaligned = "a" + kMagicBytes + "bcd";
  EXPECT_EQ(Written({unaligned}), kMagicBytes + Word(8) + unaligned);
  // Read the hand-built split record back.
  auto r = RecordIOReader::FromBytes(Written({split, "", "abcde"}));
  EXPECT_EQ(ReadAll(*r), (std::vector<std::string>{split, "", "abcde"}));
}

TEST(IoRecordIO, TellGivesRecordStarts) {
  RecordIOWriter w;
  std::vector<uint64_t> starts;
  for (const std::string& s : {std::string("abcde"), std::string(), "abcd" + kMagicBytes}) {
    starts.push_back(w.Tell());
    w.Write(s);
  }
  EXPECT_EQ(starts, (std::vector<uint64_t>{0, 16, 24}));
  EXPECT_EQ(w.Tell(), w.buffer().size());
}

std::vector<std::string> RandomPayloads(std::mt19937& gen, int n) {
  std::vector<std::string> out;
  std::uniform_int_distribution<int> len(0, 1000), byte(0, 255), coin(0, 3);
  for (int i = 0; i < n; ++i) {
    std::string s(static_cast<size_t>(len(gen)), '\0');
    for (char& c : s)
      c = static_cast<char>(byte(gen));
    // Plant magics at aligned and unaligned offsets in about half of them.
    for (int k = coin(gen); k > 0 && s.size() >= 4; --k) {
      std::uniform_int_distribution<size_t> at(0, s.size() - 4);
      s.replace(at(gen), 4, kMagicBytes);
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST(IoRecordIO, RoundTripRandomPayloadsInMemoryAndFile) {
  std::mt19937 gen(7);
  const auto payloads = RandomPayloads(gen, 300);
  auto r = RecordIOReader::FromBytes(Written(payloads));
  EXPECT_EQ(ReadAll(*r), payloads);

  const std::string path = TempPath("roundtrip.rec");
  {
    RecordIOWriter w(path);
    for (const auto& p : payloads)
      w.Write(p);
  }
  RecordIOReader fr(path);
  EXPECT_EQ(ReadAll(fr), payloads);
  fr.Seek(0);
  std::string first;
  ASSERT_TRUE(fr.NextRecord(&first));
  EXPECT_EQ(first, payloads[0]);
  std::filesystem::remove(path);
}

TEST(IoRecordIO, IndexedRandomAccess) {
  std::mt19937 gen(11);
  const auto payloads = RandomPayloads(gen, 100);
  const std::string rec = TempPath("idx.rec"), idx = TempPath("idx.idx");
  {
    IndexedRecordIO w(idx, rec, 'w');
    for (size_t i = 0; i < payloads.size(); ++i)
      w.WriteIdx(std::to_string(i * 3), payloads[i]);
  }
  IndexedRecordIO r(idx, rec, 'r');
  ASSERT_EQ(r.keys().size(), payloads.size());
  EXPECT_EQ(r.keys()[5], "15");
  std::vector<size_t> order(payloads.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::shuffle(order.begin(), order.end(), gen);
  for (size_t i : order)
    EXPECT_EQ(r.ReadIdx(std::to_string(i * 3)), payloads[i]) << i;
  EXPECT_THROW(r.ReadIdx("1"), IndexError);
  // The index text is MXNet's: key<TAB>offset per line.
  const auto entries = ReadRecordIOIndex(idx);
  EXPECT_EQ(entries[0].key, "0");
  EXPECT_EQ(entries[0].offset, 0u);
  EXPECT_EQ(entries[1].offset, Written({payloads[0]}).size());
  std::filesystem::remove(rec);
  std::filesystem::remove(idx);
}

TEST(IoRecordIO, MalformedIndexLineNamesFileAndLine) {
  const std::string idx = TempPath("bad.idx");
  {
    std::FILE* f = std::fopen(idx.c_str(), "w");
    std::fputs("0\t0\n1\tx12\n", f);
    std::fclose(f);
  }
  try {
    ReadRecordIOIndex(idx);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(idx), std::string::npos) << e.what();
  }
  std::filesystem::remove(idx);
}

// The strict reader's error for `data`, which must name the file and `offset`.
void ExpectStrictError(const std::string& data, uint64_t offset, size_t good_before) {
  auto r = RecordIOReader::FromBytes(data, false, "corrupt.rec");
  std::string rec;
  for (size_t i = 0; i < good_before; ++i)
    ASSERT_TRUE(r->NextRecord(&rec));
  try {
    r->NextRecord(&rec);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("corrupt.rec"), std::string::npos) << msg;
    EXPECT_NE(msg.find("byte offset " + std::to_string(offset)), std::string::npos) << msg;
  }
}

TEST(IoRecordIO, CorruptDataStrictErrors) {
  const std::vector<std::string> recs = {"first", "abcd" + kMagicBytes + "split", "third!!!",
                                         "fourth"};
  const std::string good = Written(recs);
  auto start = [&](size_t k) {
    RecordIOWriter w;
    for (size_t i = 0; i < k; ++i)
      w.Write(recs[i]);
    return w.Tell();
  };
  // Flipped magic of the third record.
  std::string flipped = good;
  flipped[start(2)] ^= 0x01;
  ExpectStrictError(flipped, start(2), 2);
  // Truncated last record.
  ExpectStrictError(good.substr(0, good.size() - 3), start(3), 3);
  // Truncated header.
  ExpectStrictError(good + kMagicBytes.substr(0, 3), good.size(), 4);
  // A file of zeros.
  ExpectStrictError(std::string(64, '\0'), 0, 0);
  // A huge length field (2^29 - 1) in a small file.
  ExpectStrictError(kMagicBytes + Word((1u << 29) - 1) + "abcd", 0, 0);
  // The end part of a split record where a record should start.
  ExpectStrictError(good.substr(start(1) + 12), 0, 0);
}

TEST(IoRecordIO, ResyncRecoversFollowingRecords) {
  const std::vector<std::string> recs = {"first", "abcd" + kMagicBytes + "split", "third!!!",
                                         "fourth", ""};
  const std::string good = Written(recs);
  RecordIOWriter w;
  w.Write(recs[0]);
  const uint64_t second = w.Tell();
  w.Write(recs[1]);
  const uint64_t third = w.Tell();

  // A flipped magic on the split record: it is lost, the rest comes back.
  std::string flipped = good;
  flipped[second] ^= 0x40;
  auto r = RecordIOReader::FromBytes(flipped, true);
  EXPECT_EQ(ReadAll(*r), (std::vector<std::string>{"first", "third!!!", "fourth", ""}));
  EXPECT_EQ(r->skipped_bytes(), third - second);
  EXPECT_EQ(r->resync_count(), 1u);

  // Garbage (with an unaligned magic and a fake end part) between records.
  std::string garbage = "zz" + kMagicBytes + "q" + kMagicBytes + Word((3u << 29) | 4) + "abcd";
  std::string dirty = good.substr(0, second) + garbage + good.substr(second);
  r = RecordIOReader::FromBytes(dirty, true);
  // The garbage is 19 bytes: everything after it is shifted off the 4-byte grid, so no
  // record start is found again and the rest of the data is skipped.
  EXPECT_EQ(ReadAll(*r), (std::vector<std::string>{"first"}));
  EXPECT_EQ(r->skipped_bytes(), dirty.size() - second);

  // Garbage whose length is a multiple of 4 keeps alignment: every record is recovered.
  garbage = "zzzz" + kMagicBytes + Word((3u << 29) | 4) + "abcd" + kMagicBytes;
  dirty = good.substr(0, second) + garbage + good.substr(second);
  r = RecordIOReader::FromBytes(dirty, true);
  EXPECT_EQ(ReadAll(*r), recs);
  EXPECT_EQ(r->skipped_bytes(), garbage.size());

  // Truncated last record: the others come back, then the end.
  r = RecordIOReader::FromBytes(good.substr(0, good.size() - 12), true);
  EXPECT_EQ(ReadAll(*r), (std::vector<std::string>{"first", recs[1], "third!!!"}));

  // Zeros and a huge length: nothing, no hang.
  r = RecordIOReader::FromBytes(std::string(1 << 16, '\0'), true);
  EXPECT_TRUE(ReadAll(*r).empty());
  EXPECT_EQ(r->skipped_bytes(), 1u << 16);
  r = RecordIOReader::FromBytes(kMagicBytes + Word((1u << 29) - 1) + good, true);
  EXPECT_EQ(ReadAll(*r), recs);
}

TEST(IoRecordIO, ResyncNeverLoopsOnRandomBytes) {
  std::mt19937 gen(3);
  std::uniform_int_distribution<int> byte(0, 255), pos(0, 399);
  const std::string good = Written(RandomPayloads(gen, 20));
  for (int trial = 0; trial < 200; ++trial) {
    std::string data = good;
    for (int k = 0; k < 8; ++k)
      data[pos(gen) % data.size()] = static_cast<char>(byte(gen));
    auto r = RecordIOReader::FromBytes(data, true);
    std::string rec;
    int n = 0;
    while (r->NextRecord(&rec))
      ASSERT_LT(++n, 10000);
    auto strict = RecordIOReader::FromBytes(data, false);
    try {
      while (strict->NextRecord(&rec)) {
      }
    } catch (const ValueError&) {
    }
  }
}

TEST(IoRecordIO, SeekPastEndIsAnError) {
  auto r = RecordIOReader::FromBytes(Written({"abc"}));
  EXPECT_THROW(r->Seek(13), ValueError);
  r->Seek(12);
  std::string rec;
  EXPECT_FALSE(r->NextRecord(&rec));
}

TEST(IoRecordIO, IRHeaderPackUnpack) {
  IRHeader h;
  h.label = 3.5f;
  h.id = 7;
  h.id2 = 1ull << 40;
  const std::string packed = PackIRHeader(h, "img");
  // struct.pack('IfQQ', 0, 3.5, 7, 2**40) + b'img'
  const std::string expect =
      Word(0) + Word(0x40600000) + Word(7) + Word(0) + Word(0) + Word(0x100) + "img";
  EXPECT_EQ(packed, expect);
  std::string_view rest;
  IRHeader u = UnpackIRHeader(packed, &rest);
  EXPECT_EQ(u.flag, 0u);
  EXPECT_EQ(u.label, 3.5f);
  EXPECT_EQ(u.id, 7u);
  EXPECT_EQ(u.id2, 1ull << 40);
  EXPECT_EQ(rest, "img");

  h.labels = {1.f, -2.f};
  const std::string multi = PackIRHeader(h, "xy");
  EXPECT_EQ(multi.substr(0, 8), Word(2) + Word(0));
  EXPECT_EQ(multi.substr(24, 8), Word(0x3F800000) + Word(0xC0000000));
  u = UnpackIRHeader(multi, &rest);
  EXPECT_EQ(u.flag, 2u);
  EXPECT_EQ(u.labels, (std::vector<float>{1.f, -2.f}));
  EXPECT_EQ(rest, "xy");
  EXPECT_THROW(UnpackIRHeader(multi.substr(0, 28), &rest), ValueError);
  EXPECT_THROW(UnpackIRHeader("short", &rest), ValueError);
}

}  // namespace
}  // namespace mixnet::io
