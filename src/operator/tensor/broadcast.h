// Shapes, strided walks and kernels shared by the broadcasting binary ops, the reductions,
// broadcast_to/axis/like and their gradients.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "operator/grad_ops.h"
#include "operator/tensor/elemwise.h"

namespace mixnet::op {

// ---- shapes ----

/*!
 * \brief NumPy's broadcast of two shapes: aligned right, a dim of 1 stretches (MXNet's
 * BinaryBroadcastShape). Unknown (-1) dims stay unknown unless the other side fixes them.
 * Returns nullopt when the shapes clash.
 */
std::optional<Shape> BroadcastShapes(const Shape& a, const Shape& b);

/*! \brief Strides (in elements) of `in` over the dims of `out`, aligned right; 0 where broadcast.
 */
std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out);

/*!
 * \brief Which dims of `in` a reduction's (axis, exclude) reduces. None or () is every dim
 * (MXNet). Raises ValueError naming the op and the axis when out of range or repeated.
 */
std::vector<bool> ReducedDims(const Attrs& attrs, const Shape& in,
                              const std::optional<std::vector<int64_t>>& axis, bool exclude);

/*!
 * \brief The reduction's output: reduced dims become 1 (keepdims) or go; reducing every dim
 * without keepdims gives (1,) as MXNet 1.x does.
 */
Shape ReducedShape(const Shape& in, const std::vector<bool>& reduced, bool keepdims);

/*! \brief The parameters shared by sum, mean, prod, nansum, nanprod, max and min. */
struct ReduceAxesParam {
  std::optional<std::vector<int64_t>> axis;
  bool keepdims = false;
  bool exclude = false;
  static void Declare(ParamDecl<ReduceAxesParam>& d) {
    d.Field("axis", &ReduceAxesParam::axis)
        .Default(std::nullopt)
        .Doc(
            "The axis or axes to reduce; None or () reduces every axis. Negative counts from "
            "the end.");
    d.Field("keepdims", &ReduceAxesParam::keepdims)
        .Default(false)
        .Doc("Keep reduced axes in the result as dims of size 1.");
    d.Field("exclude", &ReduceAxesParam::exclude)
        .Default(false)
        .Doc("Reduce every axis except those in `axis`.");
  }
};

// ---- strided walks ----

/*!
 * \brief A row-major walk over `dims` with N strided inputs. Dims of size 1 are dropped and
 * neighbours that are contiguous for every input merged, so the innermost runs are long.
 */
template <size_t N>
class StridedPlan {
 public:
  using Offsets = std::array<int64_t, N>;

  StridedPlan(std::span<const int64_t> dims, const std::array<std::vector<int64_t>, N>& strides) {
    for (size_t d = 0; d < dims.size(); ++d) {
      if (dims[d] == 1) continue;
      Offsets s;
      for (size_t k = 0; k < N; ++k)
        s[k] = strides[k][d];
      bool merge = !dims_.empty();
      for (size_t k = 0; merge && k < N; ++k)
        merge = strides_.back()[k] == s[k] * dims[d];
      if (merge) {
        dims_.back() *= dims[d];
        strides_.back() = s;
      } else {
        dims_.push_back(dims[d]);
        strides_.push_back(s);
      }
    }
    if (dims_.empty()) {
      dims_.push_back(1);
      strides_.push_back(Offsets{});
    }
  }

  /*!
   * \brief Calls f(index, count, offsets, inner_strides) for runs along the innermost dim that
   * together cover positions [lo, hi) of the walk; element j of a run is at
   * offsets[k] + j * inner_strides[k] in input k.
   */
  template <typename F>
  void ForRuns(int64_t lo, int64_t hi, F&& f) const {
    if (lo >= hi) return;  // also keeps zero-size dims out of the index arithmetic
    const int nd = static_cast<int>(dims_.size());
    std::array<int64_t, Shape::kMaxDims> idx{};
    Offsets off{};
    int64_t rem = lo;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % dims_[d];
      rem /= dims_[d];
      for (size_t k = 0; k < N; ++k)
        off[k] += idx[d] * strides_[d][k];
    }
    const Offsets& inner = strides_[nd - 1];
    for (int64_t pos = lo; pos < hi;) {
      const int64_t n = std::min(dims_[nd - 1] - idx[nd - 1], hi - pos);
      f(pos, n, off, inner);
      pos += n;
      idx[nd - 1] += n;
      for (size_t k = 0; k < N; ++k)
        off[k] += n * inner[k];
      for (int d = nd - 1; d > 0 && idx[d] == dims_[d]; --d) {
        idx[d] = 0;
        ++idx[d - 1];
        for (size_t k = 0; k < N; ++k)
          off[k] += strides_[d - 1][k] - dims_[d] * strides_[d][k];
      }
    }
  }

 private:
  std::vector<int64_t> dims_;
  std::vector<Offsets> strides_;
};

// ---- kernels ----

/*! \brief out = f(a, b) with `a` and `b` broadcast to out's shape. */
template <typename F>
void BroadcastBinary(const TBlob& a, const TBlob& b, OpReq req, const TBlob& out, F f) {
  if (req == OpReq::kNull || out.Size() == 0) return;
  const StridedPlan<2> plan(out.shape.dims(), {BroadcastStrides(a.shape, out.shape),
                                               BroadcastStrides(b.shape, out.shape)});
  DispatchFloat(out.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    const T* x = a.data<T>();
    const T* y = b.data<T>();
    T* z = out.data<T>();
    ParallelFor(out.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      plan.ForRuns(lo, hi, [&](int64_t o, int64_t n, const auto& off, const auto& st) {
        const T* xa = x + off[0];
        const T* yb = y + off[1];
        T* zo = z + o;
        auto run = [&](auto sa, auto sb) {  // constant strides let the common cases vectorise
          if (req == OpReq::kAdd) {
            for (int64_t j = 0; j < n; ++j)
              zo[j] = T(C(zo[j]) + f(C(xa[j * sa]), C(yb[j * sb])));
          } else {
            for (int64_t j = 0; j < n; ++j)
              zo[j] = T(f(C(xa[j * sa]), C(yb[j * sb])));
          }
        };
        if (st[0] == 1 && st[1] == 1) {
          run(std::integral_constant<int64_t, 1>{}, std::integral_constant<int64_t, 1>{});
        } else if (st[0] == 1 && st[1] == 0) {
          run(std::integral_constant<int64_t, 1>{}, std::integral_constant<int64_t, 0>{});
        } else if (st[0] == 0 && st[1] == 1) {
          run(std::integral_constant<int64_t, 0>{}, std::integral_constant<int64_t, 1>{});
        } else {
          run(st[0], st[1]);
        }
      });
    });
  });
}

/*! \brief out = scale * in, with `in` viewed as `in_shape` and broadcast to out's shape. */
void BroadcastCopy(const TBlob& in, const Shape& in_shape, OpReq req, const TBlob& out,
                   double scale = 1.0);

/*!
 * \brief A reduction's accumulator for compute type C: Init, Add (with the element's position
 * in the reduced walk), Merge of a later partial, and Finish given the number of elements.
 */
template <typename C>
struct SumReducer {
  using Acc = double;
  static Acc Init() { return 0.0; }
  static void Add(Acc& a, C x, int64_t) { a += static_cast<double>(x); }
  static void Merge(Acc& a, const Acc& b) { a += b; }
  static double Finish(const Acc& a, int64_t) { return a; }
};

/*!
 * \brief out = reduction of `in` over the dims flagged in `reduced` (output in row-major
 * order of the kept dims). Parallel over outputs, or over chunks of one output's elements
 * with per-chunk partials merged in order (deterministic) when there are few outputs.
 */
template <template <typename> class Reducer>
void ReduceKernel(const TBlob& in, const std::vector<bool>& reduced, OpReq req, const TBlob& out) {
  if (req == OpReq::kNull || out.Size() == 0) return;
  std::vector<int64_t> kept_dims, kept_strides, red_dims, red_strides;
  const std::vector<int64_t> strides = BroadcastStrides(in.shape, in.shape);
  int64_t red_size = 1;
  for (int d = 0; d < in.shape.ndim(); ++d) {
    auto& dims = reduced[static_cast<size_t>(d)] ? red_dims : kept_dims;
    auto& st = reduced[static_cast<size_t>(d)] ? red_strides : kept_strides;
    dims.push_back(in.shape[d]);
    st.push_back(in.shape[d] == 1 ? 0 : strides[static_cast<size_t>(d)]);
    if (reduced[static_cast<size_t>(d)]) red_size *= in.shape[d];
  }
  const StridedPlan<1> kept(kept_dims, {kept_strides});
  const StridedPlan<1> red(red_dims, {red_strides});
  const int64_t n_out = out.Size();
  DispatchFloat(in.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using C = ComputeType<T>;
    using R = Reducer<C>;
    using Acc = typename R::Acc;
    const T* x = in.data<T>();
    T* y = out.data<T>();
    auto accumulate = [&](int64_t base, int64_t lo, int64_t hi, Acc& acc) {
      red.ForRuns(lo, hi, [&](int64_t r, int64_t n, const auto& off, const auto& st) {
        const T* p = x + base + off[0];
        for (int64_t j = 0; j < n; ++j)
          R::Add(acc, C(p[j * st[0]]), r + j);
      });
    };
    auto store = [&](int64_t o, const Acc& acc) {
      const T v = T(R::Finish(acc, red_size));
      y[o] = req == OpReq::kAdd ? T(C(y[o]) + C(v)) : v;
    };
    if (n_out >= 64 || red_size < 2 * kElementwiseGrain) {
      const int64_t grain =
          std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(1, red_size));
      ParallelFor(n_out, grain, [&](int64_t lo, int64_t hi) {
        kept.ForRuns(lo, hi, [&](int64_t o, int64_t n, const auto& off, const auto& st) {
          for (int64_t j = 0; j < n; ++j) {
            Acc acc = R::Init();
            accumulate(off[0] + j * st[0], 0, red_size, acc);
            store(o + j, acc);
          }
        });
      });
      return;
    }
    const int64_t chunks = std::min<int64_t>(64, red_size / kElementwiseGrain);
    const int64_t step = (red_size + chunks - 1) / chunks;
    kept.ForRuns(0, n_out, [&](int64_t o, int64_t n, const auto& off, const auto& st) {
      for (int64_t j = 0; j < n; ++j) {
        std::vector<Acc> partial(static_cast<size_t>(chunks), R::Init());
        ParallelFor(chunks, 1, [&](int64_t c0, int64_t c1) {
          for (int64_t c = c0; c < c1; ++c) {
            accumulate(off[0] + j * st[0], c * step, std::min(red_size, (c + 1) * step),
                       partial[static_cast<size_t>(c)]);
          }
        });
        for (int64_t c = 1; c < chunks; ++c)
          R::Merge(partial[0], partial[static_cast<size_t>(c)]);
        store(o + j, partial[0]);
      }
    });
  });
}

// ---- gradients shared by the same-shape and broadcasting forms ----

/*!
 * \brief Op names for a binary gradient: same-shape ops ("_mul") or broadcasting ones
 * ("broadcast_mul", with results summed back to each input's shape).
 */
struct BinaryGradOps {
  GradBuilder& g;
  bool broadcast;

  GValue Apply(const char* base, GValue a, GValue b) const {
    return g.Apply1((broadcast ? std::string("broadcast_") : std::string("_")) + base, {a, b});
  }
  /*! \brief `v` (of the output's shape) summed to the shape of `like`. */
  GValue SumTo(GValue v, GValue like) const {
    return broadcast ? g.Apply1("_reduce_sum_to_shape_of", {v, like}) : v;
  }
};

using BinaryOpGrad = std::vector<GValue> (*)(const BinaryGradOps& o, GValue a, GValue b, GValue out,
                                             GValue d);

/*! \brief Python's %: the result takes the divisor's sign; x % 0 is 0 (MXNet's mod). */
template <typename T>
T Mod(T a, T b) {
  if (b == T(0)) return T(0);
  T r = std::fmod(a, b);
  if (r != T(0) && ((r < T(0)) != (b < T(0)))) r += b;
  return r;
}

template <typename T>
T Bool(bool b) {
  return b ? T(1) : T(0);
}

namespace binary_grad {
using grad::Mul;
using grad::Neg;

inline std::vector<GValue> Add(const BinaryGradOps& o, GValue a, GValue b, GValue, GValue d) {
  return {o.SumTo(d, a), o.SumTo(d, b)};
}
inline std::vector<GValue> Sub(const BinaryGradOps& o, GValue a, GValue b, GValue, GValue d) {
  return {o.SumTo(d, a), o.SumTo(Neg(o.g, d), b)};
}
inline std::vector<GValue> Multiply(const BinaryGradOps& o, GValue a, GValue b, GValue, GValue d) {
  return {o.SumTo(o.Apply("mul", d, b), a), o.SumTo(o.Apply("mul", d, a), b)};
}
inline std::vector<GValue> Divide(const BinaryGradOps& o, GValue a, GValue b, GValue out,
                                  GValue d) {
  return {o.SumTo(o.Apply("div", d, b), a),
          o.SumTo(Neg(o.g, o.Apply("div", Mul(o.g, d, out), b)), b)};
}
/*! \brief a % b = a - b * floor(a / b). */
inline std::vector<GValue> Modulo(const BinaryGradOps& o, GValue a, GValue b, GValue, GValue d) {
  const GValue q = grad::Unary(o.g, "floor", o.Apply("div", a, b));
  return {o.SumTo(d, a), o.SumTo(Neg(o.g, Mul(o.g, d, q)), b)};
}
/*! \brief d(a^b)/da = b a^(b-1) (finite at a = 0); d(a^b)/db = a^b log(a). */
inline std::vector<GValue> Power(const BinaryGradOps& o, GValue a, GValue b, GValue out, GValue d) {
  const GValue pa = o.Apply("mul", o.Apply("power", a, grad::AddScalar(o.g, b, -1.0)), b);
  const GValue pb = o.Apply("mul", Mul(o.g, d, out), grad::Unary(o.g, "log", a));
  return {o.SumTo(Mul(o.g, d, pa), a), o.SumTo(pb, b)};
}
/*! \brief Ties go to lhs (MXNet: lhs where a >= b, rhs where a < b). */
inline std::vector<GValue> Maximum(const BinaryGradOps& o, GValue a, GValue b, GValue, GValue d) {
  return {o.SumTo(Mul(o.g, d, o.Apply("greater_equal", a, b)), a),
          o.SumTo(Mul(o.g, d, o.Apply("lesser", a, b)), b)};
}
inline std::vector<GValue> Minimum(const BinaryGradOps& o, GValue a, GValue b, GValue, GValue d) {
  return {o.SumTo(Mul(o.g, d, o.Apply("lesser_equal", a, b)), a),
          o.SumTo(Mul(o.g, d, o.Apply("greater", a, b)), b)};
}
inline std::vector<GValue> Hypot(const BinaryGradOps& o, GValue a, GValue b, GValue out, GValue d) {
  return {o.SumTo(Mul(o.g, d, o.Apply("div", a, out)), a),
          o.SumTo(Mul(o.g, d, o.Apply("div", b, out)), b)};
}
}  // namespace binary_grad

}  // namespace mixnet::op
