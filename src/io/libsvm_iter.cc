// mx.io.LibSVMIter: "label idx:value ..." lines as dense float32 rows.
#include <algorithm>

#include "io/text_file.h"
#include "mixnet/io/iterators.h"

namespace mixnet::io {
namespace {

/*!
 * \brief Reads the lines of part `part` of `parts` of a libsvm file: their first values
 * (labels) into `first` and their idx:value pairs into dense rows of `width` in `rows`.
 */
void ReadLibSVM(const std::string& path, int64_t width, int part, int parts,
                std::vector<float>* first, std::vector<float>* rows) {
  const std::string text = ReadTextFile(path, "LibSVMIter");
  // NOTE [ LibSVM parts ] dmlc's InputSplit cuts the file into byte ranges of ceil(size/n)
  // and gives each line to the range holding the newline before it (the first line to part 0).
  const size_t step = (text.size() + static_cast<size_t>(parts) - 1) / static_cast<size_t>(parts);
  ForEachLine(text, [&](std::string_view line, int64_t number, size_t start) {
    const size_t owner = start == 0 || step == 0 ? 0 : (start - 1) / step;
    if (owner != static_cast<size_t>(part)) return;
    double v = 0;
    size_t used = 0;
    MX_CHECK(ParseNumber(line, &v, &used), ValueError)
        << "LibSVMIter: " << path << " line " << number << ": '" << line
        << "' does not start with a label";
    first->push_back(static_cast<float>(v));
    const size_t row = rows->size();
    rows->resize(row + static_cast<size_t>(width), 0.0f);
    std::string_view rest = line.substr(used);
    while (true) {
      const size_t at = rest.find_first_not_of(" \t");
      if (at == std::string_view::npos) break;
      rest.remove_prefix(at);
      const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
      const std::string_view pair = rest.substr(0, end);
      const size_t colon = pair.find(':');
      double idx = 0, value = 0;
      size_t u1 = 0, u2 = 0;
      const bool ok = colon != std::string_view::npos &&
                      ParseNumber(pair.substr(0, colon), &idx, &u1) && u1 == colon &&
                      ParseNumber(pair.substr(colon + 1), &value, &u2) &&
                      u2 == pair.size() - colon - 1 && idx >= 0 && idx == static_cast<int64_t>(idx);
      MX_CHECK(ok, ValueError) << "LibSVMIter: " << path << " line " << number << ": '" << pair
                               << "' is not index:value";
      MX_CHECK(idx < static_cast<double>(width), ValueError)
          << "LibSVMIter: " << path << " line " << number << ": index " << idx
          << " is out of range for a shape of " << width << " features (indices start at 0)";
      (*rows)[row + static_cast<size_t>(idx)] = static_cast<float>(value);
      rest.remove_prefix(end);
    }
  });
}

}  // namespace

LibSVMIter::LibSVMIter(const LibSVMParam& p) : RowBatchIter(p.batch_size, p.round_batch) {
  MX_CHECK(p.data_shape.ndim() == 1 && p.data_shape[0] >= 1, ValueError)
      << "LibSVMIter: data_shape must be (num_features,), got " << p.data_shape;
  MX_CHECK(p.label_shape.ndim() == 1 && p.label_shape[0] >= 1, ValueError)
      << "LibSVMIter: label_shape must be (num_labels,), got " << p.label_shape;
  MX_CHECK(p.num_parts >= 1 && p.part_index >= 0 && p.part_index < p.num_parts, ValueError)
      << "LibSVMIter: part_index must be in [0, num_parts), got part_index " << p.part_index
      << " and num_parts " << p.num_parts;
  std::vector<float> first, data;
  ReadLibSVM(p.data_libsvm, p.data_shape[0], p.part_index, p.num_parts, &first, &data);
  const auto n = static_cast<int64_t>(first.size());
  MX_CHECK(n >= 1, ValueError) << "LibSVMIter: part " << p.part_index << " of " << p.num_parts
                               << " of '" << p.data_libsvm << "' has no samples";
  NDArray label;
  if (p.label_libsvm.empty()) {
    MX_CHECK(p.label_shape[0] == 1, ValueError)
        << "LibSVMIter: label_shape " << p.label_shape << " needs a label_libsvm file; the data "
        << "file's labels are scalars";
    label = NDArray::FromVector(first, Shape{n});
  } else {
    std::vector<float> ignored, labels;
    ReadLibSVM(p.label_libsvm, p.label_shape[0], p.part_index, p.num_parts, &ignored, &labels);
    const auto m = static_cast<int64_t>(ignored.size());
    MX_CHECK(m == n, ValueError) << "LibSVMIter: '" << p.data_libsvm << "' has " << n
                                 << " samples but '" << p.label_libsvm << "' has " << m;
    label = NDArray::FromVector(labels, Shape{n, p.label_shape[0]});
  }
  SetRows(NDArray::FromVector(data, Shape{n, p.data_shape[0]}), std::move(label));
}

}  // namespace mixnet::io
