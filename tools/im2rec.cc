// mixnet_im2rec: makes image lists and RecordIO image databases, as MXNet 1.x's tools/im2rec.py
// (whose options it takes) with the packing of its im2rec.cc; the work is
// done by the library (include/mixnet/io/im2rec.h), which mixnet.tools.im2rec also runs.
//   mixnet_im2rec --list [--recursive] [--exts .jpg .png] [--chunks N] [--train-ratio R]
//                 [--test-ratio R] [--no-shuffle] PREFIX ROOT
//       walks ROOT and writes PREFIX.lst ("index\tlabel\tpath" lines; with --recursive a label
//       per folder), shuffled as MXNet's (Python's random.seed(100); random.shuffle), split
//       into chunks and train/test/val lists.
//   mixnet_im2rec [--resize N] [--center-crop] [--quality Q] [--encoding .jpg|.png]
//                 [--color 1|0|-1] [--pass-through] [--pack-label] [--num-thread N] PREFIX ROOT
//       packs every PREFIX*.lst into a .rec and .idx beside it, records in list order.
// An image that cannot be read or decoded is reported on stderr and left out (as MXNet does);
// bad options are errors (exit code 1).
#include <exception>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "mixnet/io/im2rec.h"

namespace {

struct Options : mixnet::io::Im2RecOptions {
  bool list = false;  // --list: make the list(s); else pack the records
};

[[noreturn]] void Fail(const std::string& msg) {
  throw std::runtime_error(msg);
}

int Usage() {
  std::cerr << "usage: mixnet_im2rec [--list] [--exts EXT...] [--chunks N] [--train-ratio R]\n"
               "         [--test-ratio R] [--recursive] [--no-shuffle] [--pass-through]\n"
               "         [--resize N] [--center-crop] [--quality Q] [--num-thread N]\n"
               "         [--color {-1,0,1}] [--encoding {.jpg,.png}] [--pack-label] PREFIX ROOT\n";
  return 2;
}

template <typename T>
T ParseNumber(const std::string& opt, const std::string& text) {
  std::istringstream is(text);
  T v{};
  if (!(is >> v) || !is.eof()) Fail(opt + ": expected a number, got '" + text + "'");
  return v;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(a + ": expected a value");
      return argv[++i];
    };
    if (a == "--list") {
      o.list = true;
    } else if (a == "--exts") {
      o.exts.clear();
      // argparse's nargs='+': the extensions that follow (they start with a dot).
      while (i + 1 < argc && argv[i + 1][0] == '.')
        o.exts.push_back(argv[++i]);
      if (o.exts.empty()) Fail("--exts: expected at least one extension such as .jpg");
    } else if (a == "--chunks") {
      o.chunks = ParseNumber<int>(a, value());
    } else if (a == "--train-ratio") {
      o.train_ratio = ParseNumber<double>(a, value());
    } else if (a == "--test-ratio") {
      o.test_ratio = ParseNumber<double>(a, value());
    } else if (a == "--recursive") {
      o.recursive = true;
    } else if (a == "--no-shuffle") {
      o.shuffle = false;
    } else if (a == "--pass-through") {
      o.pass_through = true;
    } else if (a == "--resize") {
      o.resize = ParseNumber<int>(a, value());
    } else if (a == "--center-crop") {
      o.center_crop = true;
    } else if (a == "--quality") {
      o.quality = ParseNumber<int>(a, value());
    } else if (a == "--num-thread") {
      o.num_thread = ParseNumber<int>(a, value());
    } else if (a == "--color") {
      o.color = ParseNumber<int>(a, value());
    } else if (a == "--encoding") {
      o.encoding = value();
    } else if (a == "--pack-label") {
      o.pack_label = true;
    } else if (a.size() > 1 && a[0] == '-') {
      Fail("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) Fail("expected PREFIX and ROOT");
  o.prefix = positional[0];
  o.root = positional[1];
  static_cast<mixnet::io::Im2RecOptions&>(o) = mixnet::io::Im2RecNormalize(o);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  try {
    const Options o = ParseArgs(argc, argv);
    if (o.list) {
      for (const auto& [dir, label] : mixnet::io::Im2RecMakeList(o))
        std::cout << dir << ' ' << label << '\n';
    } else {
      mixnet::io::Im2RecMakeRecords(o, std::cout, std::cerr);
    }
  } catch (const std::exception& e) {
    std::cerr << "mixnet_im2rec: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
