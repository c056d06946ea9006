// im2rec's lists and records, as MXNet 1.x's tools/im2rec.py; see include/mixnet/io/im2rec.h.
#include "mixnet/io/im2rec.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "mixnet/base/error.h"
#include "mixnet/io/image.h"
#include "mixnet/io/recordio.h"

namespace mixnet::io {

namespace fs = std::filesystem;

namespace {

template <typename T>
T ParseNumber(const std::string& what, const std::string& text) {
  std::istringstream is(text);
  T v{};
  if (!(is >> v) || !is.eof())
    throw std::invalid_argument(what + ": expected a number, got '" + text + "'");
  return v;
}

// NOTE [ Python's shuffle ]
// MXNet's im2rec.py shuffles its list with random.seed(100); random.shuffle(list). To write the
// same lists, this is CPython's generator: MT19937 seeded by init_by_array({seed}) (what
// random.seed does with an int), getrandbits(k) = the top k bits of one 32-bit draw, and
// shuffle's swap with _randbelow(i + 1) by rejection, for i from the end down to 1.
class PythonRandom {
 public:
  explicit PythonRandom(uint32_t seed) {
    mt_[0] = 19650218u;
    for (int i = 1; i < kN; ++i)
      mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + i;
    int i = 1;
    for (int k = kN; k > 0; --k) {  // init_by_array with the one-word key {seed}
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + seed;
      if (++i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
    }
    for (int k = kN - 1; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - i;
      if (++i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
    }
    mt_[0] = 0x80000000u;
  }
  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i-- > 1;)
      std::swap((*v)[i], (*v)[RandBelow(i + 1)]);
  }

 private:
  static constexpr int kN = 624;
  uint32_t Next() {
    if (index_ >= kN) {
      for (int k = 0; k < kN; ++k) {
        const uint32_t y = (mt_[k] & 0x80000000u) | (mt_[(k + 1) % kN] & 0x7fffffffu);
        mt_[k] = mt_[(k + 397) % kN] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
      }
      index_ = 0;
    }
    uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
  }
  size_t RandBelow(size_t n) {  // n < 2^32 here (a list of images)
    int k = 0;
    while ((size_t{1} << k) <= n)
      ++k;
    for (;;) {
      const size_t r = Next() >> (32 - k);
      if (r < n) return r;
    }
  }
  uint32_t mt_[kN];
  int index_ = kN;
};

struct ListItem {
  int64_t index = 0;
  std::string path;  // relative to ROOT
  std::vector<double> labels;
};

std::string Lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> SortedEntries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool IsImage(const Im2RecOptions& o, const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) &&
         std::find(o.exts.begin(), o.exts.end(), Lower(p.extension().string())) != o.exts.end();
}

// os.walk(root, followlinks=True), top-down with sorted names: a folder's images, then its
// subfolders in order. Each folder holding images gets the next label when first seen.
void Walk(const Im2RecOptions& o, const fs::path& dir, std::map<std::string, int>* cat,
          std::vector<std::pair<std::string, int>>* order, std::vector<ListItem>* items) {
  std::vector<fs::path> subdirs;
  for (const auto& name : SortedEntries(dir)) {
    const fs::path p = dir / name;
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      subdirs.push_back(p);
    } else if (IsImage(o, p)) {
      auto [it, added] = cat->emplace(dir.string(), static_cast<int>(cat->size()));
      if (added) order->emplace_back(fs::relative(dir, o.root).string(), it->second);
      items->push_back({static_cast<int64_t>(items->size()),
                        fs::relative(p, o.root).string(),
                        {static_cast<double>(it->second)}});
    }
  }
  for (const auto& d : subdirs)
    Walk(o, d, cat, order, items);
}

void WriteList(const std::string& path, const std::vector<ListItem>& items, size_t begin,
               size_t end) {
  std::ofstream out(path);
  MX_CHECK(static_cast<bool>(out), ValueError) << "im2rec: cannot write " << path;
  char buf[64];
  for (size_t i = begin; i < std::min(end, items.size()); ++i) {
    out << items[i].index << '\t';
    for (double l : items[i].labels) {
      std::snprintf(buf, sizeof(buf), "%f\t", l);
      out << buf;
    }
    out << items[i].path << '\n';
  }
  MX_CHECK(static_cast<bool>(out.flush()), ValueError) << "im2rec: cannot write " << path;
}

}  // namespace

Im2RecOptions Im2RecNormalize(Im2RecOptions o) {
  MX_CHECK(!o.prefix.empty() && !o.root.empty(), ValueError) << "im2rec: expected PREFIX and ROOT";
  MX_CHECK(o.chunks >= 1, ValueError) << "im2rec: --chunks must be at least 1, got " << o.chunks;
  MX_CHECK(o.color >= -1 && o.color <= 1, ValueError)
      << "im2rec: --color must be -1, 0 or 1, got " << o.color;
  MX_CHECK(o.encoding == ".jpg" || o.encoding == ".png", ValueError)
      << "im2rec: --encoding must be .jpg or .png, got '" << o.encoding << "'";
  MX_CHECK(o.resize >= 0, ValueError) << "im2rec: --resize must not be negative, got " << o.resize;
  MX_CHECK(!o.exts.empty(), ValueError)
      << "im2rec: --exts needs at least one extension such as .jpg";
  for (auto& e : o.exts)
    e = Lower(e);
  o.prefix = fs::absolute(o.prefix).lexically_normal().string();
  o.root = fs::absolute(o.root).lexically_normal().string();
  return o;
}

std::vector<std::pair<std::string, int>> Im2RecMakeList(const Im2RecOptions& o) {
  std::vector<ListItem> items;
  std::vector<std::pair<std::string, int>> order;
  if (o.recursive) {
    std::map<std::string, int> cat;
    Walk(o, o.root, &cat, &order, &items);
  } else {
    for (const auto& name : SortedEntries(o.root)) {
      const fs::path p = fs::path(o.root) / name;
      if (IsImage(o, p)) items.push_back({static_cast<int64_t>(items.size()), name, {0.0}});
    }
  }
  if (o.shuffle) PythonRandom(100).Shuffle(&items);
  const size_t n = items.size();
  const size_t chunk_size = (n + o.chunks - 1) / o.chunks;
  for (int c = 0; c < o.chunks; ++c) {
    const size_t b = std::min(n, c * chunk_size), e = std::min(n, (c + 1) * chunk_size);
    std::string name = o.prefix;
    if (o.chunks > 1) name.append("_").append(std::to_string(c));
    // As MXNet: the split points come from the chunk size, not this chunk's length.
    const auto sep = static_cast<size_t>(static_cast<double>(chunk_size) * o.train_ratio);
    const auto sep_test = static_cast<size_t>(static_cast<double>(chunk_size) * o.test_ratio);
    if (o.train_ratio == 1.0) {
      WriteList(name + ".lst", items, b, e);
      continue;
    }
    if (o.test_ratio != 0.0) WriteList(name + "_test.lst", items, b, b + sep_test);
    if (o.train_ratio + o.test_ratio < 1.0) {
      WriteList(name + "_val.lst", items, b + sep_test + sep, e);
    }
    WriteList(name + "_train.lst", items, b + sep_test, b + sep_test + sep);
  }
  return order;
}

namespace {

std::string Strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

// read_list: "index\tlabel...\tpath"; malformed lines are reported and skipped.
std::vector<ListItem> ReadList(const std::string& path, std::ostream& err) {
  std::ifstream in(path);
  MX_CHECK(static_cast<bool>(in), ValueError) << "im2rec: cannot read " << path;
  std::vector<ListItem> items;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> parts;
    std::istringstream ls(Strip(line));
    for (std::string f; std::getline(ls, f, '\t');)
      parts.push_back(Strip(f));
    if (parts.size() < 3) {
      err << "lst should have at least has three parts, but only has " << parts.size()
          << " parts for '" << line << "'\n";
      continue;
    }
    try {
      ListItem item;
      item.index = ParseNumber<int64_t>("index", parts[0]);
      item.path = parts.back();
      for (size_t k = 1; k + 1 < parts.size(); ++k) {
        item.labels.push_back(ParseNumber<double>("label", parts[k]));
      }
      items.push_back(std::move(item));
    } catch (const std::exception& e) {
      err << "Parsing lst met error for '" << line << "', detail: " << e.what() << "\n";
    }
  }
  return items;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  MX_CHECK(static_cast<bool>(in), ValueError) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// image_encode of im2rec.py: the record of one list item (header, then the image), or an
// exception naming what went wrong.
std::string EncodeItem(const Im2RecOptions& o, const ListItem& item) {
  IRHeader header;
  header.id = static_cast<uint64_t>(item.index);
  if (item.labels.size() > 1 && o.pack_label) {
    header.labels.assign(item.labels.begin(), item.labels.end());
  } else {
    header.label = static_cast<float>(item.labels[0]);
  }
  const std::string bytes = ReadFile((fs::path(o.root) / item.path).string());
  if (o.pass_through) return PackIRHeader(header, bytes);
  // Channels stay in the file's (BGR) order end to end, as OpenCV's imread/imencode.
  Image img =
      ImDecode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, o.color, false);
  if (o.center_crop) {  // the centred square, margins rounded down
    const int64_t side = std::min(img.height, img.width);
    img = ImCrop(img, (img.width - side) / 2, (img.height - side) / 2, side, side);
  }
  if (o.resize > 0) {  // the shorter side to --resize, the longer one rounded down
    const int64_t w = img.height > img.width ? o.resize : img.width * o.resize / img.height;
    const int64_t h = img.height > img.width ? img.height * o.resize / img.width : o.resize;
    img = ImResize(img, w, h, Interp::kBilinear);
  }
  const std::vector<uint8_t> enc = ImEncode(img, o.encoding, o.quality, false);
  return PackIRHeader(header, {reinterpret_cast<const char*>(enc.data()), enc.size()});
}

// NOTE [ im2rec threads ]
// Items are encoded in blocks of a few hundred per thread; each block is written in list order
// before the next one starts, so the records follow the .lst as with one thread (MXNet's
// writer process reorders its queue the same way) and memory stays bounded.
int64_t PackList(const Im2RecOptions& o, const fs::path& lst, const fs::path& working_dir,
                 std::ostream& out, std::ostream& err) {
  out << "Creating .rec file from " << lst.string() << " in " << working_dir.string() << std::endl;
  const std::vector<ListItem> items = ReadList(lst.string(), err);
  const std::string stem = lst.stem().string();
  IndexedRecordIO rec((working_dir / (stem + ".idx")).string(),
                      (working_dir / (stem + ".rec")).string(), 'w');
  const size_t threads = static_cast<size_t>(std::max(1, o.num_thread));
  const size_t block = 256 * threads;
  size_t written = 0;
  for (size_t begin = 0; begin < items.size(); begin += block) {
    const size_t end = std::min(items.size(), begin + block);
    std::vector<std::optional<std::string>> records(end - begin);
    std::vector<std::string> errors(end - begin);
    std::atomic<size_t> next{begin};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < end;) {
        try {
          records[i - begin] = EncodeItem(o, items[i]);
        } catch (const std::exception& e) {
          errors[i - begin] = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < std::min(threads, end - begin); ++t)
      pool.emplace_back(work);
    work();
    for (auto& t : pool)
      t.join();
    for (size_t i = begin; i < end; ++i) {
      if (!records[i - begin]) {
        err << "pack_img error on file: " << items[i].path << ": " << errors[i - begin] << "\n";
        continue;
      }
      rec.WriteIdx(std::to_string(items[i].index), *records[i - begin]);
      ++written;
    }
  }
  rec.Close();
  out << "count: " << written << " of " << items.size() << std::endl;
  return static_cast<int64_t>(written);
}

}  // namespace

int64_t Im2RecMakeRecords(const Im2RecOptions& o, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  const fs::path working_dir =
      fs::is_directory(o.prefix, ec) ? fs::path(o.prefix) : fs::path(o.prefix).parent_path();
  std::vector<fs::path> lists;
  for (const auto& name : SortedEntries(working_dir)) {
    const fs::path p = working_dir / name;
    const std::string s = p.string();
    if (fs::is_regular_file(p, ec) && s.rfind(o.prefix, 0) == 0 && s.size() >= 4 &&
        s.compare(s.size() - 4, 4, ".lst") == 0) {
      lists.push_back(p);
    }
  }
  MX_CHECK(!lists.empty(), ValueError)
      << "im2rec: Did not find any list file with prefix " << o.prefix;
  int64_t written = 0;
  for (const auto& lst : lists)
    written += PackList(o, lst, working_dir, out, err);
  return written;
}

}  // namespace mixnet::io
