// Embedding (MXNet 1.x): rows of a weight matrix looked up by (clipped) indices; the weight
// gradient is a scatter-add of the output gradient rows (_take_backward along axis 0).
#include "operator/tensor/indexing.h"

namespace mixnet::op {
namespace {

struct EmbeddingParam {
  int64_t input_dim = 0;
  int64_t output_dim = 0;
  int dtype = 0;
  bool sparse_grad = false;
  static void Declare(ParamDecl<EmbeddingParam>& d) {
    d.Field("input_dim", &EmbeddingParam::input_dim)
        .Lower(1)
        .Doc("Vocabulary size of the input indices.");
    d.Field("output_dim", &EmbeddingParam::output_dim)
        .Lower(0)
        .Doc("Dimension of the embedding vectors.");
    d.Field("dtype", &EmbeddingParam::dtype)
        .Enum(OutDTypeNames())
        .Default("float32")
        .Doc("Data type of weight.");
    d.Field("sparse_grad", &EmbeddingParam::sparse_grad)
        .Default(false)
        .Doc("Compute a row_sparse gradient (accepted for MXNet graphs; the gradient is dense).");
  }
};

void EmbeddingShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const EmbeddingParam& p = attrs.param<EmbeddingParam>();
  AssignShape(attrs, "weight", &(*in)[1], Shape{p.input_dim, p.output_dim});
  const Shape& data = (*in)[0];
  if (data.is_unknown()) return;
  std::vector<int64_t> dims(data.begin(), data.end());
  dims.push_back(p.output_dim);
  AssignShape(attrs, "output", &(*out)[0], Shape(std::span<const int64_t>(dims)));
}

void EmbeddingType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  CheckIndexType(attrs, *in, 0);
  const int t = static_cast<int>(OutDType(attrs.param<EmbeddingParam>().dtype));
  AssignType(attrs, "weight", &(*in)[1], t);
  AssignType(attrs, "output", &(*out)[0], t);
}

void EmbeddingForward(const OpContext&, const Attrs& attrs, std::span<const TBlob> in,
                      std::span<const OpReq> req, std::span<const TBlob> out) {
  if (req[0] == OpReq::kNull || out[0].Size() == 0) return;
  const AxisSplit w = SplitAt(in[1].shape, 0);
  GatherRows(in[1], w, ResolveRows(attrs, in[0], w.size, kClip, 0), req[0], out[0]);
}

const bool kRegistered = [] {
  Registry::Add("Embedding")
      .Describe(
          "Maps integer indices to rows of weight: out = weight[clip(data, 0, input_dim - 1)] "
          "with shape data.shape + (output_dim,).")
      .Param<EmbeddingParam>()
      .Inputs({"data", "weight"})
      .InferShape(EmbeddingShape)
      .InferType(EmbeddingType)
      .Kernel("reference", EmbeddingForward)
      .Gradient([](GradBuilder& g, const Attrs&, std::span<const GValue> in,
                   std::span<const GValue>, std::span<const GValue> dout) {
        // Indices get no gradient (MXNet's is zero).
        return std::vector<GValue>{
            GValue{}, g.Apply1("_take_backward", {dout[0], in[0], in[1]}, {{"axis", "0"}})};
      })
      .Sample(OpSample{.attrs = {{"input_dim", "5"}, {"output_dim", "3"}},
                       .inputs = {Shape{2, 4}, Shape{5, 3}},
                       .ranges = {{0.0, 4.99}, {-1.0, 1.0}},
                       .dtypes = {DType::kFloat32, DType::kFloat32}})
      .Sample(OpSample{.attrs = {{"input_dim", "3"}, {"output_dim", "2"}, {"dtype", "float64"}},
                       .inputs = {Shape{6}, Shape{3, 2}},
                       .ranges = {{-2.0, 4.0}, {-1.0, 1.0}},
                       .expected =
                           [](const std::vector<std::vector<double>>& in) {
                             std::vector<double> out;
                             for (double v : in[0]) {
                               const int64_t r = ClipOrWrap(ToIndex(v), 3, kClip);
                               for (int64_t c = 0; c < 2; ++c)
                                 out.push_back(in[1][static_cast<size_t>(r * 2 + c)]);
                             }
                             return std::vector<std::vector<double>>{out};
                           },
                       .dtypes = {DType::kInt64, DType::kFloat64}})
      .Sample(OpSample{.attrs = {{"input_dim", "4"}, {"output_dim", "2"}},
                       .inputs = {Shape{0, 3}, Shape{4, 2}},
                       .dtypes = {DType::kInt32, DType::kFloat32}});
  return true;
}();

}  // namespace
}  // namespace mixnet::op
