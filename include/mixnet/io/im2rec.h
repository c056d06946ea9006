/*!
 * \file im2rec.h
 * \brief MXNet 1.x's im2rec: image lists (.lst) from a folder tree and RecordIO image databases
 * (.rec + .idx) from those lists, with the options and files of its tools/im2rec.py.
 *
 * Served by the mixnet_im2rec tool (tools/im2rec.cc) and mixnet.tools.im2rec in Python.
 */
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace mixnet::io {

/*! \brief im2rec.py's options (its names, its defaults). */
struct Im2RecOptions {
  std::string prefix;  ///< prefix of the .lst/.rec files (a folder: every .lst in it)
  std::string root;    ///< folder the list's image paths are relative to
  // making lists
  std::vector<std::string> exts = {".jpeg", ".jpg", ".png"};
  int chunks = 1;
  double train_ratio = 1.0, test_ratio = 0.0;
  bool recursive = false;  ///< a label per folder holding images (else only ROOT's, label 0)
  bool shuffle = true;     ///< as MXNet: Python's random.seed(100); random.shuffle
  // making records
  bool pass_through = false;  ///< store the file's bytes as they are
  bool center_crop = false;
  bool pack_label = false;  ///< store all of a line's labels in the header
  int resize = 0;           ///< shorter side to this size (0: keep)
  int quality = 95;         ///< JPEG quality 1..100 or PNG compression 1..9
  int num_thread = 1;
  int color = 1;  ///< 1 colour, 0 grey, -1 as stored
  std::string encoding = ".jpg";
};

/*!
 * \brief Checks the options (ValueError naming the option) and makes prefix and root absolute;
 * extensions are lower-cased.
 */
Im2RecOptions Im2RecNormalize(Im2RecOptions o);

/*!
 * \brief Walks root and writes prefix.lst ("index\tlabel\tpath" lines), or the chunks and
 * train/test/val lists. Returns, with `recursive`, each image folder (relative to root) and
 * its label in the order labels were given.
 */
std::vector<std::pair<std::string, int>> Im2RecMakeList(const Im2RecOptions& o);

/*!
 * \brief Packs every prefix*.lst into a .rec and .idx beside it, in list order. Progress goes
 * to `out`; an image that cannot be read or decoded is reported on `err` and left out (as
 * MXNet does). Returns the number of records written.
 */
int64_t Im2RecMakeRecords(const Im2RecOptions& o, std::ostream& out, std::ostream& err);

}  // namespace mixnet::io
