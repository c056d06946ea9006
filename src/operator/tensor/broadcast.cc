#include "operator/tensor/broadcast.h"

#include <algorithm>

namespace mixnet::op {

std::optional<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  if (a.is_unknown() || b.is_unknown()) return Shape();
  const int nd = std::max(a.ndim(), b.ndim());
  Shape out(nd, 1);
  for (int i = 0; i < nd; ++i) {
    const int ia = i - (nd - a.ndim()), ib = i - (nd - b.ndim());
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (da < 0 || db < 0) {
      out[i] = std::max(da, db);  // the known one, unless it is 1 (then unknown stays)
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(static_cast<size_t>(out.ndim()), 0);
  int64_t stride = 1;
  for (int i = in.ndim() - 1, o = out.ndim() - 1; i >= 0 && o >= 0; --i, --o) {
    strides[static_cast<size_t>(o)] = in[i] == 1 && out[o] != 1 ? 0 : stride;
    stride *= in[i];
  }
  return strides;
}

std::vector<bool> ReducedDims(const Attrs& attrs, const Shape& in,
                              const std::optional<std::vector<int64_t>>& axis, bool exclude) {
  const size_t nd = static_cast<size_t>(in.ndim());
  if (!axis || axis->empty()) return std::vector<bool>(nd, true);
  std::vector<bool> listed(nd, false);
  for (int64_t a : *axis) {
    MX_CHECK(a >= -in.ndim() && a < in.ndim(), ValueError)
        << attrs.op->name << ": axis " << a << " is out of range for data of shape " << in;
    const size_t d = static_cast<size_t>(a < 0 ? a + in.ndim() : a);
    MX_CHECK(!listed[d], ValueError) << attrs.op->name << ": axis " << a << " is repeated in axis "
                                     << ValueCodec<std::vector<int64_t>>::Print(*axis);
    listed[d] = true;
  }
  if (exclude) listed.flip();
  return listed;
}

Shape ReducedShape(const Shape& in, const std::vector<bool>& reduced, bool keepdims) {
  std::vector<int64_t> dims;
  for (int d = 0; d < in.ndim(); ++d) {
    if (!reduced[static_cast<size_t>(d)]) {
      dims.push_back(in[d]);
    } else if (keepdims) {
      dims.push_back(1);
    }
  }
  if (dims.empty() && !keepdims) dims.push_back(1);
  return Shape(std::span<const int64_t>(dims));
}

void BroadcastCopy(const TBlob& in, const Shape& in_shape, OpReq req, const TBlob& out,
                   double scale) {
  if (req == OpReq::kNull || out.Size() == 0) return;
  const StridedPlan<1> plan(out.shape.dims(), {BroadcastStrides(in_shape, out.shape)});
  DispatchFloat(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* x = in.data<T>();
    T* y = out.data<T>();
    const C s = C(scale);
    ParallelFor(out.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      plan.ForRuns(lo, hi, [&](int64_t o, int64_t n, const auto& off, const auto& st) {
        const T* p = x + off[0];
        T* q = y + o;
        const bool add = req == OpReq::kAdd;
        if (st[0] == 0 && !add) {  // a broadcast element (a reduction's gradient): a fill
          std::fill_n(q, n, T(C(*p) * s));
        } else if (st[0] == 1 && !add) {  // contiguous runs vectorise
          for (int64_t j = 0; j < n; ++j)
            q[j] = T(C(p[j]) * s);
        } else {
          for (int64_t j = 0; j < n; ++j) {
            const C v = C(p[j * st[0]]) * s;
            q[j] = add ? T(C(q[j]) + v) : T(v);
          }
        }
      });
    });
  });
}

}  // namespace mixnet::op
