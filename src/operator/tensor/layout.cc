#include "operator/tensor/layout.h"

#include <cmath>
#include <cstring>

#include "operator/parallel.h"
#include "operator/tensor/elemwise.h"

namespace mixnet::op {
namespace {

template <typename T>
void CopyViewTyped(const T* in, const StridedView& src, T* out, const StridedView& dst) {
  const auto nd = static_cast<int>(src.shape.size());
  if (nd == 0) {
    out[dst.offset] = in[src.offset];
    return;
  }
  int64_t total = 1;
  for (int64_t d : src.shape)
    total *= d;
  if (total == 0) return;
  const int64_t inner = src.shape[nd - 1];
  const int64_t si = src.strides[nd - 1], di = dst.strides[nd - 1];
  const int64_t rows = total / inner;
  ParallelFor(rows, std::max<int64_t>(1, kElementwiseGrain / inner), [&](int64_t lo, int64_t hi) {
    // Position of row `lo` in the outer dims, then walk rows with a carry.
    std::vector<int64_t> idx(static_cast<size_t>(nd - 1));
    int64_t so = src.offset, dof = dst.offset, r = lo;
    for (int k = nd - 2; k >= 0; --k) {
      idx[k] = r % src.shape[k];
      r /= src.shape[k];
      so += idx[k] * src.strides[k];
      dof += idx[k] * dst.strides[k];
    }
    for (int64_t row = lo; row < hi; ++row) {
      if (si == 1 && di == 1) {
        std::memcpy(out + dof, in + so, static_cast<size_t>(inner) * sizeof(T));
      } else {
        for (int64_t j = 0; j < inner; ++j)
          out[dof + j * di] = in[so + j * si];
      }
      for (int k = nd - 2; k >= 0; --k) {
        so += src.strides[k];
        dof += dst.strides[k];
        if (++idx[k] < src.shape[k]) break;
        so -= src.strides[k] * src.shape[k];
        dof -= dst.strides[k] * src.shape[k];
        idx[k] = 0;
      }
    }
  });
}

}  // namespace

std::vector<int64_t> ContiguousStrides(std::span<const int64_t> shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    strides[k] = s;
    s *= shape[k];
  }
  return strides;
}

StridedView Contiguous(std::span<const int64_t> shape) {
  return StridedView{{shape.begin(), shape.end()}, ContiguousStrides(shape), 0};
}

int NormalizeAxis(const Attrs& attrs, std::string_view arg, int64_t axis, const Shape& shape,
                  int ndim) {
  MX_CHECK(axis >= -ndim && axis < ndim, ValueError)
      << attrs.op->name << ": " << arg << " " << axis << " is out of range for "
      << InputName(attrs, 0) << " of shape " << shape << " (valid: " << -ndim << " to " << ndim - 1
      << ")";
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

void CopyView(const TBlob& in, const StridedView& src, const TBlob& out, const StridedView& dst) {
  MX_INTERNAL_ASSERT(in.dtype == out.dtype && src.shape == dst.shape);
  switch (DTypeSize(in.dtype)) {
    case 1:
      return CopyViewTyped(in.data<uint8_t>(), src, out.data<uint8_t>(), dst);
    case 2:
      return CopyViewTyped(in.data<uint16_t>(), src, out.data<uint16_t>(), dst);
    case 4:
      return CopyViewTyped(in.data<uint32_t>(), src, out.data<uint32_t>(), dst);
    case 8:
      return CopyViewTyped(in.data<uint64_t>(), src, out.data<uint64_t>(), dst);
    default:
      MX_THROW(InternalError) << "CopyView: element size " << DTypeSize(in.dtype);
  }
}

void SumView(const TBlob& in, const StridedView& src, int kept_dims, const TBlob& out) {
  const std::span<const int64_t> kept(src.shape.data(), static_cast<size_t>(kept_dims));
  const std::span<const int64_t> reduced(src.shape.data() + kept_dims,
                                         src.shape.size() - static_cast<size_t>(kept_dims));
  int64_t n_kept = 1, n_reduced = 1;
  for (int64_t d : kept)
    n_kept *= d;
  for (int64_t d : reduced)
    n_reduced *= d;
  // Offset of a linear index within a group of dims.
  auto offset_of = [&](int64_t i, std::span<const int64_t> dims, size_t first) {
    int64_t off = 0;
    for (size_t k = dims.size(); k-- > 0;) {
      off += (i % dims[k]) * src.strides[first + k];
      i /= dims[k];
    }
    return off;
  };
  DispatchFloat(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in.data<T>();
    T* y = out.data<T>();
    ParallelFor(n_kept, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, n_reduced)),
                [&](int64_t lo, int64_t hi) {
                  for (int64_t i = lo; i < hi; ++i) {
                    const int64_t base = src.offset + offset_of(i, kept, 0);
                    double acc = 0;
                    for (int64_t r = 0; r < n_reduced; ++r) {
                      acc += static_cast<double>(
                          ComputeType<T>(x[base + offset_of(r, reduced, kept.size())]));
                    }
                    y[i] = T(static_cast<ComputeType<T>>(acc));
                  }
                });
  });
}

void ZeroFill(const TBlob& out) {
  const auto bytes = static_cast<size_t>(out.Size()) * DTypeSize(out.dtype);
  if (bytes) std::memset(out.dptr, 0, bytes);
}

void CopyKernel(const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq>,
                std::span<const TBlob> out) {
  const int64_t n = out[0].Size();
  const size_t es = DTypeSize(out[0].dtype);
  if (n == 0 || in[0].dptr == out[0].dptr) return;
  const auto* src = static_cast<const char*>(in[0].dptr);
  auto* dst = static_cast<char*>(out[0].dptr);
  ParallelFor(n, kElementwiseGrain, [&](int64_t lo, int64_t hi) {
    std::memcpy(dst + lo * es, src + lo * es, static_cast<size_t>(hi - lo) * es);
  });
}

std::vector<std::string> NumberedNames(const char* prefix, int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i)
    names.push_back(prefix + std::to_string(i));
  return names;
}

std::vector<double> Truncated(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = std::trunc(v[i]);
  return out;
}

}  // namespace mixnet::op
