/*!
 * \file initializer.cc
 * \brief mx.init initializers: name dispatch, constant, random, Xavier, Orthogonal, Bilinear,
 * LSTMBias and Mixed (see include/mixnet/initializer/initializer.h).
 */
#include "mixnet/initializer/initializer.h"

#include <cmath>
#include <cstdio>
#include <string_view>

#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"

namespace mixnet::init {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

/*! \brief Short form for messages and ToString ("0.07", not "0.070000000000000007"). */
std::string ShortNum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/*! \brief Runs random op `op` with `attrs` into `arr` (its shape, dtype and context). */
void Sample(const char* op, op::AttrDict attrs, const NDArray& arr) {
  attrs.emplace_back("shape", arr.shape().ToString());
  attrs.emplace_back("dtype", DTypeName(arr.dtype()));
  attrs.emplace_back("ctx", arr.ctx().ToString());
  op::Invoke(op, {}, attrs, std::span<const NDArray>(&arr, 1));
}

/*! \brief Copies host values (row-major, converted to arr's dtype) into `arr`. */
void WriteHost(const std::vector<double>& values, const NDArray& arr) {
  NDArray::FromVector(values, arr.shape(), arr.ctx()).CopyTo(arr);
}

/*! \brief Orthonormalises `k` vectors of length `len` stored contiguously in `v` (modified
 * Gram–Schmidt, applied twice for stability). False if they are (numerically) dependent. */
bool Orthonormalize(std::vector<double>& v, int64_t k, int64_t len) {
  for (int64_t i = 0; i < k; ++i) {
    double* vi = v.data() + i * len;
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t j = 0; j < i; ++j) {
        const double* vj = v.data() + j * len;
        double dot = 0;
        for (int64_t t = 0; t < len; ++t)
          dot += vi[t] * vj[t];
        for (int64_t t = 0; t < len; ++t)
          vi[t] -= dot * vj[t];
      }
    }
    double norm = 0;
    for (int64_t t = 0; t < len; ++t)
      norm += vi[t] * vi[t];
    norm = std::sqrt(norm);
    if (!(norm > 1e-12)) return false;
    for (int64_t t = 0; t < len; ++t)
      vi[t] /= norm;
  }
  return true;
}

}  // namespace

// ---- Initializer: MXNet's name rules ----

void Initializer::operator()(const std::string& name, NDArray* arr) const {
  MX_CHECK(arr != nullptr && !arr->is_none(), ValueError)
      << ToString() << ": parameter " << name << " has no array to initialize";
  const NDArray& a = *arr;
  if (StartsWith(name, "upsampling")) {
    WriteHost(Bilinear::Kernel(name, a.shape()), a);
  } else if (StartsWith(name, "stn_loc") && EndsWith(name, "weight")) {
    a.Fill(0);
  } else if (StartsWith(name, "stn_loc") && EndsWith(name, "bias")) {
    MX_CHECK(a.shape().ndim() == 1 && a.shape()[0] == 6, ValueError)
        << ToString() << ": parameter " << name << " of shape " << a.shape()
        << " is a spatial transformer location bias, which needs shape (6,)";
    WriteHost({1, 0, 0, 0, 1, 0}, a);
  } else if (EndsWith(name, "bias")) {
    InitBias(name, a);
  } else if (EndsWith(name, "gamma")) {
    InitGamma(name, a);
  } else if (EndsWith(name, "beta")) {
    InitBeta(name, a);
  } else if (EndsWith(name, "weight")) {
    InitWeight(name, a);
  } else if (EndsWith(name, "moving_mean") || EndsWith(name, "moving_inv_var") ||
             EndsWith(name, "moving_avg")) {
    a.Fill(0);
  } else if (EndsWith(name, "moving_var")) {
    a.Fill(1);
  } else {
    MX_THROW(ValueError) << ToString() << ": unknown initialization pattern for parameter " << name
                         << " of shape " << a.shape()
                         << "; by name only \"weight\", \"bias\", \"gamma\" (1.0), \"beta\" "
                            "(0.0) and the moving statistics are initialized (use Mixed to "
                            "choose an initializer for other names)";
  }
}

void Initializer::InitBias(const std::string&, const NDArray& arr) const {
  arr.Fill(0);
}
void Initializer::InitGamma(const std::string&, const NDArray& arr) const {
  arr.Fill(1);
}
void Initializer::InitBeta(const std::string&, const NDArray& arr) const {
  arr.Fill(0);
}

// ---- constants ----

void Zero::InitWeight(const std::string&, const NDArray& arr) const {
  arr.Fill(0);
}
void One::InitWeight(const std::string&, const NDArray& arr) const {
  arr.Fill(1);
}

std::string Constant::ToString() const {
  if (!array_.is_none()) return "Constant(value=<NDArray " + array_.shape().ToString() + ">)";
  return "Constant(value=" + ShortNum(value_) + ")";
}

void Constant::InitWeight(const std::string& name, const NDArray& arr) const {
  if (array_.is_none()) {
    arr.Fill(value_);
    return;
  }
  MX_CHECK(array_.shape() == arr.shape(), ValueError)
      << ToString() << ": parameter " << name << " has shape " << arr.shape()
      << ", the value has shape " << array_.shape();
  array_.CopyTo(arr);
}

// ---- random ----

std::string Uniform::ToString() const {
  return "Uniform(scale=" + ShortNum(scale_) + ")";
}

void Uniform::InitWeight(const std::string&, const NDArray& arr) const {
  Sample("_random_uniform", {{"low", Num(-scale_)}, {"high", Num(scale_)}}, arr);
}

std::string Normal::ToString() const {
  return "Normal(sigma=" + ShortNum(sigma_) + ")";
}

void Normal::InitWeight(const std::string&, const NDArray& arr) const {
  Sample("_random_normal", {{"loc", "0"}, {"scale", Num(sigma_)}}, arr);
}

Xavier::Xavier(std::string rnd_type, std::string factor_type, double magnitude)
    : rnd_type_(std::move(rnd_type)), factor_type_(std::move(factor_type)), magnitude_(magnitude) {
  MX_CHECK(rnd_type_ == "uniform" || rnd_type_ == "gaussian", ValueError)
      << "Xavier: unknown rnd_type \"" << rnd_type_ << "\" (\"uniform\" or \"gaussian\")";
  MX_CHECK(factor_type_ == "avg" || factor_type_ == "in" || factor_type_ == "out", ValueError)
      << "Xavier: unknown factor_type \"" << factor_type_ << "\" (\"avg\", \"in\" or \"out\")";
  MX_CHECK(magnitude_ > 0, ValueError) << "Xavier: magnitude " << magnitude_ << " must be > 0";
}

std::string Xavier::ToString() const {
  return "Xavier(rnd_type=" + rnd_type_ + ", factor_type=" + factor_type_ +
         ", magnitude=" + ShortNum(magnitude_) + ")";
}

double Xavier::Scale(const std::string& name, const Shape& shape) const {
  MX_CHECK(shape.ndim() >= 2, ValueError)
      << ToString() << " cannot initialize parameter " << name << " of shape " << shape
      << ": it needs at least 2 dimensions";
  const double hw = static_cast<double>(shape.ProdDims(2, shape.ndim()));
  const double fan_in = static_cast<double>(shape[1]) * hw;
  const double fan_out = static_cast<double>(shape[0]) * hw;
  const double factor = factor_type_ == "avg"  ? (fan_in + fan_out) / 2.0
                        : factor_type_ == "in" ? fan_in
                                               : fan_out;
  MX_CHECK(factor > 0, ValueError) << ToString() << " cannot initialize parameter " << name
                                   << " of shape " << shape << ": its fan is 0";
  return std::sqrt(magnitude_ / factor);
}

void Xavier::InitWeight(const std::string& name, const NDArray& arr) const {
  const double s = Scale(name, arr.shape());
  if (rnd_type_ == "uniform") {
    Sample("_random_uniform", {{"low", Num(-s)}, {"high", Num(s)}}, arr);
  } else {
    Sample("_random_normal", {{"loc", "0"}, {"scale", Num(s)}}, arr);
  }
}

MSRAPrelu::MSRAPrelu(std::string factor_type, double slope)
    : Xavier("gaussian", std::move(factor_type), 2.0 / (1 + slope * slope)), slope_(slope) {}

std::string MSRAPrelu::ToString() const {
  return "MSRAPrelu(factor_type=" + factor_type_ + ", slope=" + ShortNum(slope_) + ")";
}

// ---- Orthogonal ----

Orthogonal::Orthogonal(double scale, std::string rand_type)
    : scale_(scale), rand_type_(std::move(rand_type)) {
  MX_CHECK(rand_type_ == "uniform" || rand_type_ == "normal", ValueError)
      << "Orthogonal: unknown rand_type \"" << rand_type_ << "\" (\"uniform\" or \"normal\")";
}

std::string Orthogonal::ToString() const {
  return "Orthogonal(scale=" + ShortNum(scale_) + ", rand_type=" + rand_type_ + ")";
}

void Orthogonal::InitWeight(const std::string& name, const NDArray& arr) const {
  const Shape& shape = arr.shape();
  MX_CHECK(shape.ndim() >= 1 && shape.Size() > 0, ValueError)
      << ToString() << " cannot initialize parameter " << name << " of shape " << shape
      << ": it needs at least 1 dimension and 1 element";
  const int64_t nout = shape[0];
  const int64_t nin = shape.ProdDims(1, shape.ndim());
  const Shape mat{nout, nin};
  const std::string ctx = arr.ctx().ToString();
  op::AttrDict attrs = {{"shape", mat.ToString()}, {"dtype", "float64"}, {"ctx", ctx}};
  if (rand_type_ == "uniform") {
    attrs.insert(attrs.end(), {{"low", "-1"}, {"high", "1"}});
  } else {
    attrs.insert(attrs.end(), {{"loc", "0"}, {"scale", "1"}});
  }
  const char* op = rand_type_ == "uniform" ? "_random_uniform" : "_random_normal";
  std::vector<double> a = op::Invoke(op, {}, attrs)[0].ToVector<double>();
  // Orthonormal rows when nout <= nin (MXNet's v), else orthonormal columns (MXNet's u).
  const bool rows = nout <= nin;
  std::vector<double> v(a.size());
  if (rows) {
    v = a;
  } else {
    for (int64_t i = 0; i < nout; ++i)
      for (int64_t j = 0; j < nin; ++j)
        v[j * nout + i] = a[i * nin + j];
  }
  const int64_t k = rows ? nout : nin, len = rows ? nin : nout;
  MX_CHECK(Orthonormalize(v, k, len), ValueError)
      << ToString() << ": the random matrix for parameter " << name << " of shape " << shape
      << " is rank deficient; draw again";
  std::vector<double> out(a.size());
  for (int64_t i = 0; i < nout; ++i)
    for (int64_t j = 0; j < nin; ++j)
      out[i * nin + j] = scale_ * (rows ? v[i * nin + j] : v[j * nout + i]);
  WriteHost(out, arr);
}

// ---- Bilinear ----

std::vector<double> Bilinear::Kernel(const std::string& name, const Shape& shape) {
  MX_CHECK(shape.ndim() == 4 && shape.Size() > 0, ValueError)
      << "Bilinear cannot initialize parameter " << name << " of shape " << shape
      << ": it needs a non-empty 4-D weight";
  const int64_t w = shape[3], h = shape[2];
  const double f = std::ceil(static_cast<double>(w) / 2.0);
  const double c = (2 * f - 1 - std::fmod(f, 2.0)) / (2.0 * f);
  std::vector<double> out(static_cast<size_t>(shape.Size()));
  for (int64_t i = 0; i < shape.Size(); ++i) {
    const double x = static_cast<double>(i % w);
    const double y = static_cast<double>((i / w) % h);
    out[static_cast<size_t>(i)] = (1 - std::fabs(x / f - c)) * (1 - std::fabs(y / f - c));
  }
  return out;
}

void Bilinear::InitWeight(const std::string& name, const NDArray& arr) const {
  WriteHost(Kernel(name, arr.shape()), arr);
}

// ---- LSTMBias ----

std::string LSTMBias::ToString() const {
  return "LSTMBias(forget_bias=" + ShortNum(forget_bias_) + ")";
}

void LSTMBias::InitWeight(const std::string& name, const NDArray& arr) const {
  MX_CHECK(arr.shape().ndim() >= 1, ValueError)
      << ToString() << " cannot initialize parameter " << name << " of shape " << arr.shape()
      << ": it needs at least 1 dimension (4 gates of num_hidden)";
  arr.Fill(0);
  const int64_t n = arr.shape()[0] / 4;
  if (n > 0) arr.Slice(n, 2 * n).Fill(forget_bias_);
}

// ---- Mixed ----

Mixed::Mixed(const std::vector<std::string>& patterns, std::vector<InitializerPtr> initializers)
    : patterns_(patterns), initializers_(std::move(initializers)) {
  MX_CHECK(patterns_.size() == initializers_.size(), ValueError)
      << "Mixed: " << patterns_.size() << " patterns but " << initializers_.size()
      << " initializers";
  for (size_t i = 0; i < patterns_.size(); ++i) {
    MX_CHECK(initializers_[i] != nullptr, ValueError)
        << "Mixed: no initializer for pattern \"" << patterns_[i] << "\"";
    try {
      regexes_.emplace_back(patterns_[i], std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      MX_THROW(ValueError) << "Mixed: bad pattern \"" << patterns_[i] << "\": " << e.what();
    }
  }
}

const Initializer& Mixed::Find(const std::string& name) const {
  for (size_t i = 0; i < regexes_.size(); ++i) {
    if (std::regex_search(name, regexes_[i], std::regex_constants::match_continuous)) {
      return *initializers_[i];
    }
  }
  MX_THROW(ValueError) << "Mixed: parameter name " << name
                       << " did not match any pattern; add a \".*\" pattern at the end with "
                          "a default initializer";
}

void Mixed::operator()(const std::string& name, NDArray* arr) const {
  Find(name)(name, arr);
}

std::string Mixed::ToString() const {
  std::string s = "Mixed(";
  for (size_t i = 0; i < patterns_.size(); ++i) {
    if (i) s += ", ";
    s += "\"" + patterns_[i] + "\": " + initializers_[i]->ToString();
  }
  return s + ")";
}

void Mixed::InitWeight(const std::string& name, const NDArray& arr) const {
  Find(name).InitWeight(name, arr);
}

}  // namespace mixnet::init
