/*!
 * \file recordio.h
 * \brief MXNet's RecordIO (.rec) files and their .idx index, byte-for-byte as dmlc-core writes
 * them (docs: shared FORMATS.md, "RecordIO"), and the IRHeader that image records start with.
 *
 * Threading: a writer or reader is used from one thread at a time (each data-loading worker
 * opens its own reader); nothing here is synchronised.
 */
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mixnet::io {

/*! \brief The word every record part starts with (little-endian on disk). */
inline constexpr uint32_t kRecordIOMagic = 0xCED7230A;

/*!
 * \brief Writes records. A payload containing the magic at a 4-byte-aligned offset is split
 * there into parts with cflag 1 (start), 2 (middle), 3 (end) and the magic is dropped, as
 * dmlc-core's writer does; a record ends with zero padding to 4 bytes.
 */
class RecordIOWriter {
 public:
  /*! \brief Writes to memory; buffer() holds the bytes. */
  RecordIOWriter();
  /*! \brief Creates (truncates) the file at `path`. */
  explicit RecordIOWriter(const std::string& path);
  ~RecordIOWriter();
  RecordIOWriter(const RecordIOWriter&) = delete;
  RecordIOWriter& operator=(const RecordIOWriter&) = delete;

  /*! \brief Appends one record (payload < 2^29 bytes). */
  void Write(std::string_view payload);
  /*! \brief Byte offset where the next record starts (what .idx files store). */
  uint64_t Tell() const { return pos_; }
  /*! \brief The bytes written so far (in-memory writers only). */
  const std::string& buffer() const { return mem_; }
  /*! \brief Flushes and closes the file; further writes are errors. */
  void Close();

 private:
  void Put(const void* data, size_t n);
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string mem_;
  uint64_t pos_ = 0;
  bool closed_ = false;
};

/*!
 * \brief Reads records sequentially, re-joining split records.
 *
 * A bad magic, a part out of order or a record running past the end of the data is a
 * ValueError naming the file and byte offset. With `resync`, the reader instead skips forward
 * to the next 4-byte-aligned magic that starts a record (cflag 0 or 1) and counts the bytes it
 * skipped (skipped_bytes()); it always moves forward, so any input ends. The file's size is
 * taken when it is opened: records appended later are not seen.
 */
class RecordIOReader {
 public:
  explicit RecordIOReader(const std::string& path, bool resync = false);
  /*! \brief Reads from `data`; `name` stands for the file in error messages. */
  static std::unique_ptr<RecordIOReader> FromBytes(std::string data, bool resync = false,
                                                   std::string name = "<memory>");
  ~RecordIOReader();
  RecordIOReader(const RecordIOReader&) = delete;
  RecordIOReader& operator=(const RecordIOReader&) = delete;

  /*! \brief The next record's payload into `out`; false at the end of the data. */
  bool NextRecord(std::string* out);
  /*! \brief Continues reading at byte `offset` (a record's start, as in .idx files). */
  void Seek(uint64_t offset);
  /*! \brief Byte offset of the next read. */
  uint64_t Tell() const { return pos_; }
  /*! \brief Total bytes skipped by resynchronisation. */
  uint64_t skipped_bytes() const { return skipped_; }
  /*! \brief How many times the reader resynchronised. */
  uint64_t resync_count() const { return resyncs_; }
  const std::string& path() const { return path_; }
  void Close();

 private:
  RecordIOReader() = default;
  /*! \brief Reads up to `n` bytes at `off`; returns how many there were. */
  size_t ReadAt(uint64_t off, char* dst, size_t n);
  /*! \brief One record starting at pos_; false with `error` set when the data is bad there. */
  bool TryRecord(std::string* out, std::string* error);
  /*! \brief The aligned offset after `from` where a record starts, or size_ when none. */
  uint64_t FindRecordStart(uint64_t from);

  std::FILE* file_ = nullptr;
  uint64_t file_pos_ = 0;  // where the FILE's position is, to avoid needless seeks
  std::string mem_;
  bool in_memory_ = false;
  std::string path_;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  bool resync_ = false;
  uint64_t skipped_ = 0;
  uint64_t resyncs_ = 0;
};

/*! \brief One line of an .idx file: "key\toffset\n". */
struct IndexEntry {
  std::string key;
  uint64_t offset = 0;
};
/*! \brief Parses an .idx file (ValueError naming the file and line on a malformed line). */
std::vector<IndexEntry> ReadRecordIOIndex(const std::string& idx_path);

/*!
 * \brief A .rec file with its .idx index: records written with keys, read back by key in any
 * order. flag 'w' creates both files; 'r' reads the index and opens the records.
 */
class IndexedRecordIO {
 public:
  IndexedRecordIO(const std::string& idx_path, const std::string& rec_path, char flag);
  ~IndexedRecordIO();
  /*! \brief Appends a record and its index line. */
  void WriteIdx(const std::string& key, std::string_view payload);
  /*! \brief The record stored under `key` (IndexError for an unknown key). */
  std::string ReadIdx(const std::string& key);
  /*! \brief Keys in file order. */
  const std::vector<std::string>& keys() const { return keys_; }
  uint64_t Offset(const std::string& key) const;
  void Close();

 private:
  std::string idx_path_;
  std::unique_ptr<RecordIOWriter> writer_;
  std::unique_ptr<RecordIOReader> reader_;
  std::FILE* idx_file_ = nullptr;
  std::vector<std::string> keys_;
  std::unordered_map<std::string, uint64_t> offsets_;
};

/*!
 * \brief The header of an image record: 24 bytes (uint32 flag, float32 label, uint64 id,
 * uint64 id2, as Python's struct 'IfQQ'), then `flag` float32 labels when flag > 0 (label is
 * 0 then), then the encoded image.
 */
struct IRHeader {
  static constexpr size_t kSize = 24;
  uint32_t flag = 0;
  float label = 0.f;
  uint64_t id = 0;
  uint64_t id2 = 0;
  std::vector<float> labels;  ///< the label vector when flag > 0
};
/*! \brief header + payload; flag is labels.size() (label 0) when labels is set, else 0. */
std::string PackIRHeader(const IRHeader& header, std::string_view payload);
/*! \brief Splits a record into its header and the bytes after it (ValueError when short). */
IRHeader UnpackIRHeader(std::string_view record, std::string_view* payload);

}  // namespace mixnet::io
