// mx.io.CSVIter, and the batching of in-memory rows it shares with LibSVMIter (MXNet's
// BatchLoader rules), and GatherRows.
#include <algorithm>
#include <cstdlib>

#include "io/text_file.h"
#include "mixnet/io/iterators.h"
#include "mixnet/op/invoke.h"

namespace mixnet::io {

NDArray GatherRows(const NDArray& all, const std::vector<int64_t>& rows) {
  bool consecutive = true;
  for (size_t i = 1; i < rows.size() && consecutive; ++i)
    consecutive = rows[i] == rows[i - 1] + 1;
  if (consecutive) return all.Slice(rows.front(), rows.front() + static_cast<int64_t>(rows.size()));
  const NDArray index =
      NDArray::FromVector(rows, Shape{static_cast<int64_t>(rows.size())}, all.ctx());
  return op::Invoke("take", {all, index}, {{"axis", "0"}, {"mode", "clip"}})[0];
}

void RowBatchIter::SetRows(NDArray data, NDArray label) {
  MX_CHECK(batch_size_ >= 1, ValueError) << "batch_size must be >= 1, got " << batch_size_;
  num_ = data.shape()[0];
  MX_INTERNAL_ASSERT(label.shape()[0] == num_);
  MX_CHECK(num_ >= 1, ValueError) << "the data file has no samples";
  data_ = std::move(data);
  label_ = label.shape().ndim() == 2 && label.shape()[1] == 1 ? label.Reshape(Shape{num_})
                                                              : std::move(label);
}

void RowBatchIter::Reset() {
  // MXNet's BatchLoader::BeforeFirst: after a round_batch overflow the source was already
  // rewound, so the next epoch starts after the rows the last batch borrowed.
  if (!round_ || overflow_ == 0) pos_ = 0;
  overflow_ = 0;
}

bool RowBatchIter::Next() {
  if (overflow_ != 0 || pos_ >= num_) return false;  // an overflow ends the epoch until Reset
  const int64_t bs = batch_size_;
  const int64_t top = std::min(bs, num_ - pos_);
  std::vector<int64_t> rows(static_cast<size_t>(top));
  for (int64_t i = 0; i < top; ++i)
    rows[static_cast<size_t>(i)] = pos_ + i;
  pos_ += top;
  int pad = 0;
  if (top < bs) {
    pad = static_cast<int>(bs - top);
    if (round_) {  // the start of the data again (round and round if it is smaller than a batch)
      for (pos_ = 0; static_cast<int64_t>(rows.size()) < bs; pos_ = (pos_ + 1) % num_)
        rows.push_back(pos_);
      overflow_ = pad;
    } else {  // the previous batch's rows stay in the buffer's tail
      for (int64_t i = top; i < bs; ++i)
        rows.push_back(prev_.empty() ? i % num_ : prev_[static_cast<size_t>(i)]);
    }
  }
  batch_.data = {GatherRows(data_, rows)};
  batch_.label = {GatherRows(label_, rows)};
  batch_.pad = pad;
  batch_.index = rows;
  prev_ = std::move(rows);
  return true;
}

namespace {
std::vector<DataDesc> DescribeRows(const char* name, const NDArray& rows, int batch_size) {
  std::vector<int64_t> dims = {batch_size};
  for (int i = 1; i < rows.shape().ndim(); ++i)
    dims.push_back(rows.shape()[i]);
  return {{name, Shape(dims), rows.dtype()}};
}
}  // namespace

std::vector<DataDesc> RowBatchIter::provide_data() const {
  return DescribeRows("data", data_, batch_size_);
}
std::vector<DataDesc> RowBatchIter::provide_label() const {
  return DescribeRows("softmax_label", label_, batch_size_);
}

namespace {

/*! \brief (rows, *shape) from a CSV file of shape.Size() values a line. */
std::vector<double> ReadCSV(const std::string& path, const Shape& shape, const char* what) {
  const std::string text = ReadTextFile(path, "CSVIter");
  const int64_t want = shape.Size();
  std::vector<double> values;
  ForEachLine(text, [&](std::string_view line, int64_t number, size_t) {
    int64_t got = 0;
    size_t at = 0;
    while (true) {
      const size_t comma = std::min(line.find(',', at), line.size());
      const std::string_view field = line.substr(at, comma - at);
      double v = 0;
      size_t used = 0;
      const bool ok = ParseNumber(field, &v, &used) &&
                      field.find_first_not_of(" \t", used) == std::string_view::npos;
      MX_CHECK(ok, ValueError) << "CSVIter: " << path << " line " << number << ": '" << field
                               << "' is not a number";
      values.push_back(v);
      ++got;
      if (comma == line.size()) break;
      at = comma + 1;
    }
    MX_CHECK(got == want, ValueError)
        << "CSVIter: " << path << " line " << number << ": " << got << " values, but " << what
        << " " << shape << " needs " << want;
  });
  return values;
}

/*! \brief `values` as an array of `dtype`. */
NDArray HostArray(const std::vector<double>& values, const Shape& shape, DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return NDArray::FromVector(std::vector<float>(values.begin(), values.end()), shape);
    case DType::kFloat64:
      return NDArray::FromVector(values, shape);
    case DType::kInt32:
      return NDArray::FromVector(std::vector<int32_t>(values.begin(), values.end()), shape);
    case DType::kInt64:
      return NDArray::FromVector(std::vector<int64_t>(values.begin(), values.end()), shape);
    default:
      MX_THROW(ValueError) << "CSVIter: dtype must be float32, float64, int32 or int64, got "
                           << DTypeName(dtype);
  }
}

Shape RowsOf(int64_t n, const Shape& sample) {
  std::vector<int64_t> dims = {n};
  for (int i = 0; i < sample.ndim(); ++i)
    dims.push_back(sample[i]);
  return Shape(dims);
}

}  // namespace

CSVIter::CSVIter(const CSVParam& p) : RowBatchIter(p.batch_size, p.round_batch) {
  MX_CHECK(p.data_shape.ndim() >= 1 && p.data_shape.Size() >= 1, ValueError)
      << "CSVIter: data_shape must be a non-empty shape, got " << p.data_shape;
  MX_CHECK(p.label_shape.ndim() >= 1 && p.label_shape.Size() >= 1, ValueError)
      << "CSVIter: label_shape must be a non-empty shape, got " << p.label_shape;
  const std::vector<double> data = ReadCSV(p.data_csv, p.data_shape, "data_shape");
  const int64_t n = static_cast<int64_t>(data.size()) / p.data_shape.Size();
  MX_CHECK(n >= 1, ValueError) << "CSVIter: '" << p.data_csv << "' has no samples";
  std::vector<double> label(static_cast<size_t>(n * p.label_shape.Size()), 0.0);
  if (!p.label_csv.empty()) {
    label = ReadCSV(p.label_csv, p.label_shape, "label_shape");
    const int64_t m = static_cast<int64_t>(label.size()) / p.label_shape.Size();
    MX_CHECK(m == n, ValueError) << "CSVIter: '" << p.data_csv << "' has " << n << " samples but '"
                                 << p.label_csv << "' has " << m;
  }
  SetRows(HostArray(data, RowsOf(n, p.data_shape), p.dtype),
          HostArray(label, RowsOf(n, p.label_shape), p.dtype));
}

}  // namespace mixnet::io
