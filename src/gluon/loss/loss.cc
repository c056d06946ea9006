// The Loss base (gluon.loss.Loss): input checks, _reshape_like, _apply_weighting and the
// per-sample reduction every loss shares.
#include "mixnet/gluon/loss.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>
#include <utility>

#include "gluon/loss/math.h"
#include "mixnet/base/error.h"

namespace mixnet::gluon::loss {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/*! \brief A double as Python's repr prints a float ("1.0", "0.5", "1e-05"). */
std::string PyFloat(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, end);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

Loss::Loss(std::string class_name, const LossOptions& options)
    : HybridBlock(Lower(class_name), options),
      class_name_(std::move(class_name)),
      weight_(options.weight),
      batch_axis_(options.batch_axis) {}

std::string Loss::Repr() const {
  return class_name_ + "(batch_axis=" + std::to_string(batch_axis_) +
         ", w=" + (weight_ ? PyFloat(*weight_) : "None") + ")";
}

void Loss::CheckInputs(const std::vector<NDArray>& inputs, size_t min,
                       const std::vector<std::string>& names) const {
  if (inputs.size() >= min && inputs.size() <= names.size()) {
    for (size_t i = 0; i < min; ++i)
      MX_CHECK(!inputs[i].is_none(), ValueError)
          << class_name_ << ": input '" << names[i] << "' is a none array";
    return;
  }
  std::ostringstream os;
  for (size_t i = 0; i < names.size(); ++i)
    os << (i ? ", " : "") << (i < min ? "" : "[") << names[i] << (i < min ? "" : "]");
  MX_CHECK(false, ValueError) << class_name_ << ": expected inputs (" << os.str() << "), got "
                              << inputs.size() << " arrays";
}

NDArray Loss::ReshapeLike(const NDArray& x, const NDArray& like, const char* what,
                          const char* like_what) const {
  if (x.shape() == like.shape()) return x;
  MX_CHECK(x.Size() == like.Size(), ValueError)
      << class_name_ << ": " << what << " has shape " << x.shape() << " (" << x.Size()
      << " elements) but " << like_what << " has shape " << like.shape() << " (" << like.Size()
      << " elements); they must have the same number of elements";
  return math::Call("reshape_like", {x, like});
}

NDArray Loss::ApplyWeighting(const NDArray& loss, const std::vector<NDArray>& inputs,
                             size_t sample_weight_index, std::optional<double> weight) const {
  NDArray out = loss;
  if (sample_weight_index < inputs.size() && !inputs[sample_weight_index].is_none()) {
    const NDArray& sw = inputs[sample_weight_index];
    // MXNet documents that sample_weight must broadcast to the loss's shape; its
    // broadcast_mul would also grow the loss ((64,) against (64, 1) gives (64, 64)), which
    // silently averages the wrong thing, so that is refused here.
    const Shape& ls = loss.shape();
    const Shape& ws = sw.shape();
    bool ok = ws.ndim() <= ls.ndim();
    for (int i = 1; ok && i <= ws.ndim(); ++i) {
      const int64_t w = ws[ws.ndim() - i], l = ls[ls.ndim() - i];
      ok = w == l || w == 1;
    }
    MX_CHECK(ok, ValueError) << class_name_ << ": sample_weight of shape " << ws
                             << " does not broadcast to the loss's shape " << ls;
    out = math::Call("broadcast_mul", {out, sw});
  }
  if (weight) out = math::Scale(out, *weight);
  return out;
}

NDArray Loss::MeanPerSample(const NDArray& loss) const {
  return math::Reduce("mean", loss, batch_axis_, false, true);
}

NDArray Loss::SumPerSample(const NDArray& loss) const {
  return math::Reduce("sum", loss, batch_axis_, false, true);
}

}  // namespace mixnet::gluon::loss
