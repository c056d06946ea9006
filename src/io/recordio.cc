// RecordIO files as dmlc-core (MXNet) writes and reads them; see include/mixnet/io/recordio.h.
#include "mixnet/io/recordio.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "mixnet/base/error.h"

namespace mixnet::io {

namespace {

constexpr uint32_t kLengthMask = (1u << 29) - 1;

// NOTE [ Byte order ]
// RecordIO words are little-endian on disk (dmlc-core writes host words and only supports
// little-endian hosts); encoding them explicitly keeps the format independent of the host.
void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
void PutU64(char* p, uint64_t v) {
  PutU32(p, static_cast<uint32_t>(v));
  PutU32(p + 4, static_cast<uint32_t>(v >> 32));
}
uint64_t GetU64(const char* p) {
  return GetU32(p) | (static_cast<uint64_t>(GetU32(p + 4)) << 32);
}

uint64_t AlignUp4(uint64_t n) {
  return (n + 3) & ~uint64_t{3};
}

std::string Hex(uint32_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << std::uppercase << std::setw(8) << std::setfill('0') << v;
  return os.str();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RecordIOWriter

RecordIOWriter::RecordIOWriter() = default;

RecordIOWriter::RecordIOWriter(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "wb");
  MX_CHECK(file_ != nullptr, ValueError)
      << "RecordIO: cannot create '" << path << "': " << std::strerror(errno);
}

RecordIOWriter::~RecordIOWriter() {
  try {
    Close();
  } catch (const Error&) {  // a destructor cannot report a failed flush; Close() does
  }
}

void RecordIOWriter::Put(const void* data, size_t n) {
  if (n == 0) return;
  if (file_ != nullptr) {
    MX_CHECK(std::fwrite(data, 1, n, file_) == n, ValueError)
        << "RecordIO: write to '" << path_ << "' failed at byte offset " << pos_ << ": "
        << std::strerror(errno);
  } else {
    mem_.append(static_cast<const char*>(data), n);
  }
  pos_ += n;
}

void RecordIOWriter::Write(std::string_view payload) {
  MX_CHECK(!closed_, ValueError) << "RecordIO: write to closed writer '" << path_ << "'";
  MX_CHECK(payload.size() <= kLengthMask, ValueError)
      << "RecordIO: a record must be shorter than 2^29 bytes, got " << payload.size();
  const char* b = payload.data();
  const auto len = static_cast<uint32_t>(payload.size());
  auto part = [&](uint32_t cflag, uint32_t begin, uint32_t end) {
    char head[8];
    PutU32(head, kRecordIOMagic);
    PutU32(head + 4, (cflag << 29) | (end - begin));
    Put(head, 8);
    Put(b + begin, end - begin);
  };
  // The magic at an aligned offset would look like a record start to a resynchronising
  // reader: cut the payload there and drop it (the reader puts it back between the parts).
  uint32_t done = 0;
  for (uint32_t i = 0; i + 4 <= len; i += 4) {
    if (GetU32(b + i) != kRecordIOMagic) continue;
    part(done == 0 ? 1u : 2u, done, i);
    done = i + 4;
  }
  part(done == 0 ? 0u : 3u, done, len);
  const char zeros[4] = {0, 0, 0, 0};
  Put(zeros, AlignUp4(len) - len);
}

void RecordIOWriter::Close() {
  if (closed_) return;
  closed_ = true;
  if (file_ == nullptr) return;
  const int rc = std::fclose(file_);
  file_ = nullptr;
  MX_CHECK(rc == 0, ValueError) << "RecordIO: closing '" << path_
                                << "' failed: " << std::strerror(errno);
}

// ---------------------------------------------------------------------------------------------
// RecordIOReader

RecordIOReader::RecordIOReader(const std::string& path, bool resync)
    : path_(path), resync_(resync) {
  file_ = std::fopen(path.c_str(), "rb");
  MX_CHECK(file_ != nullptr, ValueError)
      << "RecordIO: cannot open '" << path << "': " << std::strerror(errno);
  struct stat st {};
  if (fstat(fileno(file_), &st) != 0 || !S_ISREG(st.st_mode)) {
    std::fclose(file_);
    file_ = nullptr;
    MX_THROW(ValueError) << "RecordIO: '" << path << "' is not a regular file";
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

std::unique_ptr<RecordIOReader> RecordIOReader::FromBytes(std::string data, bool resync,
                                                          std::string name) {
  std::unique_ptr<RecordIOReader> r(new RecordIOReader());
  r->size_ = data.size();
  r->mem_ = std::move(data);
  r->in_memory_ = true;
  r->path_ = std::move(name);
  r->resync_ = resync;
  return r;
}

RecordIOReader::~RecordIOReader() {
  Close();
}

void RecordIOReader::Close() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  mem_.clear();
  size_ = 0;
  pos_ = 0;
}

size_t RecordIOReader::ReadAt(uint64_t off, char* dst, size_t n) {
  if (off >= size_) return 0;
  n = static_cast<size_t>(std::min<uint64_t>(n, size_ - off));
  if (in_memory_) {
    std::memcpy(dst, mem_.data() + off, n);
    return n;
  }
  MX_CHECK(file_ != nullptr, ValueError) << "RecordIO: read from closed reader '" << path_ << "'";
  if (file_pos_ != off) {
    MX_CHECK(fseeko(file_, static_cast<off_t>(off), SEEK_SET) == 0, ValueError)
        << "RecordIO: seek in '" << path_ << "' to byte offset " << off
        << " failed: " << std::strerror(errno);
  }
  const size_t got = std::fread(dst, 1, n, file_);
  file_pos_ = off + got;
  return got;
}

void RecordIOReader::Seek(uint64_t offset) {
  MX_CHECK(offset <= size_, ValueError)
      << "RecordIO: seek to byte offset " << offset << " past the end of '" << path_ << "' ("
      << size_ << " bytes)";
  pos_ = offset;
}

bool RecordIOReader::TryRecord(std::string* out, std::string* error) {
  out->clear();
  const uint64_t start = pos_;
  uint64_t q = pos_;
  for (bool first = true;; first = false) {
    std::ostringstream err;
    char head[8];
    if (ReadAt(q, head, 8) != 8) {
      err << "truncated record header at byte offset " << q << " (file size " << size_ << ")";
      *error = err.str();
      return false;
    }
    const uint32_t magic = GetU32(head);
    if (magic != kRecordIOMagic) {
      err << "bad magic " << Hex(magic) << " at byte offset " << q << " (expected "
          << Hex(kRecordIOMagic) << ")";
      *error = err.str();
      return false;
    }
    const uint32_t cflag = GetU32(head + 4) >> 29;
    const uint32_t len = GetU32(head + 4) & kLengthMask;
    const bool starts = cflag == 0 || cflag == 1;
    if (first && !starts) {
      err << "record part with cflag " << cflag << " at byte offset " << q
          << " does not start a record";
      *error = err.str();
      return false;
    }
    if (!first && starts) {
      err << "split record starting at byte offset " << start
          << " ends without its last part: a new record starts at byte offset " << q;
      *error = err.str();
      return false;
    }
    if (q + 8 + AlignUp4(len) > size_) {
      err << "record part at byte offset " << q << " of length " << len
          << " runs past the end of the file (" << size_ << " bytes)";
      *error = err.str();
      return false;
    }
    const size_t have = out->size();
    out->resize(have + len);
    MX_CHECK(ReadAt(q + 8, out->data() + have, len) == len, ValueError)
        << "RecordIO: short read from '" << path_ << "' at byte offset " << q + 8;
    q += 8 + AlignUp4(len);
    if (cflag == 0 || cflag == 3) {
      pos_ = q;
      return true;
    }
    char magic_bytes[4];
    PutU32(magic_bytes, kRecordIOMagic);
    out->append(magic_bytes, 4);
  }
}

uint64_t RecordIOReader::FindRecordStart(uint64_t from) {
  constexpr size_t kChunk = 1 << 20;
  std::string buf(kChunk + 8, '\0');
  for (uint64_t base = AlignUp4(from); base + 8 <= size_; base += kChunk) {
    const size_t got = ReadAt(base, buf.data(), buf.size());
    for (size_t i = 0; i + 8 <= got && i < kChunk; i += 4) {
      const uint32_t cflag = GetU32(buf.data() + i + 4) >> 29;
      if (GetU32(buf.data() + i) == kRecordIOMagic && (cflag == 0 || cflag == 1)) return base + i;
    }
  }
  return size_;
}

bool RecordIOReader::NextRecord(std::string* out) {
  while (pos_ < size_) {
    std::string error;
    if (TryRecord(out, &error)) return true;
    MX_CHECK(resync_, ValueError) << "RecordIO: invalid file '" << path_ << "': " << error;
    // Strictly forward (from pos_ + 1), so that garbage cannot make the reader loop.
    const uint64_t next = FindRecordStart(pos_ + 1);
    skipped_ += next - pos_;
    ++resyncs_;
    pos_ = next;
  }
  out->clear();
  return false;
}

// ---------------------------------------------------------------------------------------------
// .idx files

std::vector<IndexEntry> ReadRecordIOIndex(const std::string& idx_path) {
  std::ifstream in(idx_path);
  MX_CHECK(in.good(), ValueError) << "RecordIO: cannot open index '" << idx_path
                                  << "': " << std::strerror(errno);
  std::vector<IndexEntry> entries;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); ++lineno) {
    // As MXNet's reader: surrounding whitespace is stripped, fields are tab-separated.
    const auto first = line.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r\n") - first + 1);
    const auto tab = line.find('\t');
    uint64_t offset = 0;
    const char* end = line.data() + line.size();
    const auto res = tab == std::string::npos
                         ? std::from_chars_result{end, std::errc::invalid_argument}
                         : std::from_chars(line.data() + tab + 1, end, offset);
    const bool tail_ok = res.ptr == end || *res.ptr == '\t';
    MX_CHECK(res.ec == std::errc() && tail_ok, ValueError)
        << "RecordIO: index '" << idx_path << "' line " << lineno
        << ": expected 'key<TAB>offset', got '" << line << "'";
    entries.push_back({line.substr(0, tab), offset});
  }
  return entries;
}

IndexedRecordIO::IndexedRecordIO(const std::string& idx_path, const std::string& rec_path,
                                 char flag)
    : idx_path_(idx_path) {
  MX_CHECK(flag == 'r' || flag == 'w', ValueError)
      << "IndexedRecordIO: flag must be 'r' or 'w', got '" << flag << "'";
  if (flag == 'w') {
    writer_ = std::make_unique<RecordIOWriter>(rec_path);
    idx_file_ = std::fopen(idx_path.c_str(), "w");
    MX_CHECK(idx_file_ != nullptr, ValueError)
        << "IndexedRecordIO: cannot create index '" << idx_path << "': " << std::strerror(errno);
    return;
  }
  for (IndexEntry& e : ReadRecordIOIndex(idx_path)) {
    offsets_[e.key] = e.offset;
    keys_.push_back(std::move(e.key));
  }
  reader_ = std::make_unique<RecordIOReader>(rec_path);
}

IndexedRecordIO::~IndexedRecordIO() {
  try {
    Close();
  } catch (const Error&) {
  }
}

void IndexedRecordIO::WriteIdx(const std::string& key, std::string_view payload) {
  MX_CHECK(writer_ != nullptr, ValueError)
      << "IndexedRecordIO: '" << idx_path_ << "' is not open for writing";
  MX_CHECK(key.find_first_of("\t\n\r") == std::string::npos && !key.empty(), ValueError)
      << "IndexedRecordIO: a key must be non-empty without tabs or newlines, got '" << key << "'";
  const uint64_t offset = writer_->Tell();
  writer_->Write(payload);
  MX_CHECK(std::fprintf(idx_file_, "%s\t%llu\n", key.c_str(),
                        static_cast<unsigned long long>(offset)) > 0,
           ValueError)
      << "IndexedRecordIO: write to '" << idx_path_ << "' failed: " << std::strerror(errno);
  offsets_[key] = offset;
  keys_.push_back(key);
}

uint64_t IndexedRecordIO::Offset(const std::string& key) const {
  auto it = offsets_.find(key);
  MX_CHECK(it != offsets_.end(), IndexError)
      << "IndexedRecordIO: no key '" << key << "' in '" << idx_path_ << "'";
  return it->second;
}

std::string IndexedRecordIO::ReadIdx(const std::string& key) {
  MX_CHECK(reader_ != nullptr, ValueError)
      << "IndexedRecordIO: '" << idx_path_ << "' is not open for reading";
  reader_->Seek(Offset(key));
  std::string out;
  MX_CHECK(reader_->NextRecord(&out), ValueError)
      << "IndexedRecordIO: key '" << key << "' points at the end of '" << reader_->path() << "'";
  return out;
}

void IndexedRecordIO::Close() {
  if (writer_ != nullptr) writer_->Close();
  if (reader_ != nullptr) reader_->Close();
  if (idx_file_ != nullptr) {
    const int rc = std::fclose(idx_file_);
    idx_file_ = nullptr;
    MX_CHECK(rc == 0, ValueError) << "IndexedRecordIO: closing '" << idx_path_ << "' failed";
  }
}

// ---------------------------------------------------------------------------------------------
// IRHeader

std::string PackIRHeader(const IRHeader& header, std::string_view payload) {
  const size_t n = header.labels.size();
  MX_CHECK(n <= 0xFFFFFFFFu, ValueError) << "IRHeader: too many labels (" << n << ")";
  std::string out(IRHeader::kSize + 4 * n, '\0');
  const float label = n > 0 ? 0.f : header.label;
  PutU32(out.data(), static_cast<uint32_t>(n));
  uint32_t bits;
  std::memcpy(&bits, &label, 4);
  PutU32(out.data() + 4, bits);
  PutU64(out.data() + 8, header.id);
  PutU64(out.data() + 16, header.id2);
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(&bits, &header.labels[i], 4);
    PutU32(out.data() + IRHeader::kSize + 4 * i, bits);
  }
  out.append(payload);
  return out;
}

IRHeader UnpackIRHeader(std::string_view record, std::string_view* payload) {
  MX_CHECK(record.size() >= IRHeader::kSize, ValueError)
      << "unpack: a record needs at least " << IRHeader::kSize << " header bytes, got "
      << record.size();
  IRHeader h;
  h.flag = GetU32(record.data());
  uint32_t bits = GetU32(record.data() + 4);
  std::memcpy(&h.label, &bits, 4);
  h.id = GetU64(record.data() + 8);
  h.id2 = GetU64(record.data() + 16);
  size_t used = IRHeader::kSize;
  if (h.flag > 0) {
    MX_CHECK(record.size() - IRHeader::kSize >= 4ull * h.flag, ValueError)
        << "unpack: header flag " << h.flag << " needs " << 4ull * h.flag
        << " label bytes, the record has " << record.size() - IRHeader::kSize;
    h.labels.resize(h.flag);
    for (uint32_t i = 0; i < h.flag; ++i) {
      bits = GetU32(record.data() + used + 4 * i);
      std::memcpy(&h.labels[i], &bits, 4);
    }
    used += 4ull * h.flag;
  }
  if (payload != nullptr) *payload = record.substr(used);
  return h;
}

}  // namespace mixnet::io
