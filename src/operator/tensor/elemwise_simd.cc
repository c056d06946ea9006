#include "operator/tensor/elemwise_simd.h"

#include "operator/tensor/elemwise_register.h"

namespace mixnet::op {
namespace {

/*! \brief Elements per chunk for ops costing tens of cycles an element (exp, log, tanh). */
constexpr int64_t kTranscendentalGrain = 8192;

/*! \brief Calls f with the dtype's kernel table and element type (float32 or float64). */
template <typename F>
void WithTable(DType t, F&& f) {
  const simd::Kernels& k = simd::Best();
  if (t == DType::kFloat64) {
    f(k.f64, TypeTag<double>{});
  } else {
    f(k.f32, TypeTag<float>{});
  }
}

std::string BinarySupport(const Attrs&, std::span<const TBlob> in, std::span<const TBlob> out) {
  return SimdDTypeSupport(in, out);
}

/*! \brief out = f(a, b) over equal sizes, or with one side a single element. */
void RunBinary(SimdBinary f, const void* a, const void* b, OpReq req, const TBlob& out) {
  if (req == OpReq::kNull) return;
  WithTable(out.dtype, [&](const auto& k, auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = static_cast<const T*>(a);
    const T* y = static_cast<const T*>(b);
    T* z = out.data<T>();
    const bool sa = f.operands == simd::Operands::kScalarArray;
    const bool sb = f.operands == simd::Operands::kArrayScalar;
    ParallelForAligned(out.Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
      k.binary(f.op, f.operands, sa ? x : x + lo, sb ? y : y + lo, z + lo, hi - lo,
               req == OpReq::kAdd);
    });
  });
}

}  // namespace

std::string SimdDTypeSupport(std::span<const TBlob> in, std::span<const TBlob> out, bool float64) {
  const DType t = out[0].dtype;
  if (t != DType::kFloat32 && !(float64 && t == DType::kFloat64)) {
    return std::string("dtype ") + DTypeName(t) + ": vector loops take float32" +
           (float64 ? " and float64" : "");
  }
  for (const TBlob& b : in) {
    if (b.dtype != t) return "mixed dtypes";
  }
  for (const TBlob& b : out) {
    if (b.dtype != t) return "mixed dtypes";
  }
  return "";
}

void SimdUnary(simd::UnaryOp op, const TBlob& in, OpReq req, const TBlob& out) {
  if (req == OpReq::kNull) return;
  const int64_t grain = simd::HasFloat64(op) ? kElementwiseGrain : kTranscendentalGrain;
  WithTable(out.dtype, [&](const auto& k, auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in.data<T>();
    T* y = out.data<T>();
    ParallelForAligned(out.Size(), grain, [&](int64_t lo, int64_t hi) {
      k.unary(op, x + lo, y + lo, hi - lo, req == OpReq::kAdd);
    });
  });
}

void AddSimdUnaryKernel(OpDef& def, simd::UnaryOp op) {
  def.Kernel(
      "simd",
      [op](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq> req,
           std::span<const TBlob> out) { SimdUnary(op, in[0], req[0], out[0]); },
      [op](const Attrs&, std::span<const TBlob> in, std::span<const TBlob> out) {
        return SimdDTypeSupport(in, out, simd::HasFloat64(op));
      });
}

void AddSimdBinaryKernel(OpDef& def, SimdBinary f) {
  if (f.operands == simd::Operands::kArrayArray) {
    def.Kernel(
        "simd",
        [f](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq> req,
            std::span<const TBlob> out) { RunBinary(f, in[0].dptr, in[1].dptr, req[0], out[0]); },
        BinarySupport);
    return;
  }
  def.Kernel(
      "simd",
      [f](const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
          std::span<const OpReq> req, std::span<const TBlob> out) {
        const double s = attrs.param<ScalarParam>().scalar;
        const float s32 = static_cast<float>(s);
        const void* sp = out[0].dtype == DType::kFloat64 ? static_cast<const void*>(&s)
                                                         : static_cast<const void*>(&s32);
        const bool first = f.operands == simd::Operands::kScalarArray;
        RunBinary(f, first ? sp : in[0].dptr, first ? in[0].dptr : sp, req[0], out[0]);
      },
      BinarySupport);
}

void AddSimdBroadcastKernel(OpDef& def, simd::BinaryOp op) {
  def.Kernel(
      "simd",
      [op](const OpContext&, const Attrs&, std::span<const TBlob> in, std::span<const OpReq> req,
           std::span<const TBlob> out) {
        const TBlob &a = in[0], &b = in[1];
        if (req[0] == OpReq::kNull || out[0].Size() == 0) return;
        if (a.shape == b.shape) {
          RunBinary({op}, a.dptr, b.dptr, req[0], out[0]);
          return;
        }
        const StridedPlan<2> plan(out[0].shape.dims(), {BroadcastStrides(a.shape, out[0].shape),
                                                        BroadcastStrides(b.shape, out[0].shape)});
        WithTable(out[0].dtype, [&](const auto& k, auto tag) {
          using T = typename decltype(tag)::type;
          const T* x = a.data<T>();
          const T* y = b.data<T>();
          T* z = out[0].data<T>();
          ParallelFor(out[0].Size(), kElementwiseGrain, [&](int64_t lo, int64_t hi) {
            plan.ForRuns(lo, hi, [&](int64_t o, int64_t n, const auto& off, const auto& st) {
              // Innermost strides are 1, or 0 where that side is broadcast along the run.
              const simd::Operands operands = st[0] == 0   ? simd::Operands::kScalarArray
                                              : st[1] == 0 ? simd::Operands::kArrayScalar
                                                           : simd::Operands::kArrayArray;
              k.binary(op, operands, x + off[0], y + off[1], z + o, n, req[0] == OpReq::kAdd);
            });
          });
        });
      },
      BinarySupport);
}

}  // namespace mixnet::op
