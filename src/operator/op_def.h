// One operator definition: everything NDArray calls, graphs, the C API and Python need.
//
//   MIXNET_REGISTER_OP(Activation)
//       .Describe("Applies an activation function element-wise.")
//       .Param<ActivationParam>()
//       .Inputs({"data"})
//       .InferShape(SameShape)
//       .InferType(SameType)
//       .InPlace({{0, 0}})
//       .Kernel("reference", ActivationForward);
//
// NOTE [ Op definitions ]
// Meta (shape and dtype inference) never touches data, so symbolic inference and memory
// planning use exactly what eager mode runs. Kernels are tried in registration order; each may
// decline a case with a reason, and the last one (the reference kernel) takes every case. With
// MIXNET_VERBOSE_KERNELS=1 the chosen kernel and every reason to decline are logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "mixnet/base/context.h"
#include "mixnet/base/dtype.h"
#include "mixnet/base/error.h"
#include "mixnet/base/shape.h"
#include "mixnet/engine/engine.h"
#include "mixnet/op/attrs.h"
#include "operator/gradient.h"
#include "operator/param.h"
#include "operator/temp_space.h"

namespace mixnet::op {

struct OpDef;

/*! \brief Parsed attributes of one op instance: the strings and the typed parameter struct. */
struct Attrs {
  const OpDef* op = nullptr;
  AttrDict dict;
  std::shared_ptr<const void> parsed;

  template <typename P>
  const P& param() const {
    return *static_cast<const P*>(parsed.get());
  }
};

/*! \brief A view of an array's memory handed to kernels. */
struct TBlob {
  void* dptr = nullptr;
  Shape shape;
  DType dtype = DType::kFloat32;

  int64_t Size() const { return shape.Size(); }
  template <typename T>
  T* data() const {
    return static_cast<T*>(dptr);
  }
};

/*! \brief How a kernel writes an output (MXNet's OpReqType). */
enum class OpReq { kNull, kWrite, kWriteInplace, kAdd };

/*! \brief What a running kernel gets besides its arrays. */
struct OpContext {
  RunContext run;
  bool is_train = false;
  /*! \brief The context's generator, for ops registered with NeedsRandom(). */
  std::mt19937_64* rng = nullptr;
  /*! \brief Scratch memory for this call, for ops registered with NeedsTempSpace(). */
  TempSpace* temp = nullptr;

  TempSpace& Temp() const {
    MX_INTERNAL_ASSERT(temp != nullptr);  // the op must declare NeedsTempSpace()
    return *temp;
  }
};

using InferShapeFn =
    std::function<void(const Attrs&, std::vector<Shape>* in, std::vector<Shape>* out)>;
using InferTypeFn = std::function<void(const Attrs&, std::vector<int>* in, std::vector<int>* out)>;
using ComputeFn = std::function<void(const OpContext&, const Attrs&, std::span<const TBlob> in,
                                     std::span<const OpReq> req, std::span<const TBlob> out)>;
/*! \brief Returns why a kernel cannot take this case, or "" if it can. */
using SupportsFn =
    std::function<std::string(const Attrs&, std::span<const TBlob> in, std::span<const TBlob> out)>;
using CountFn = std::function<int(const Attrs&)>;
using NamesFn = std::function<std::vector<std::string>(const Attrs&)>;

/*!
 * \brief Sample inputs for the registry-wide test (tests/cpp/op_registry_test.cc): every op
 * has at least one. Inputs are drawn uniformly from [low, high] (per input if given).
 */
struct OpSample {
  AttrDict attrs;
  std::vector<Shape> inputs;
  std::vector<std::pair<double, double>> ranges;  // per input; default [-1, 1]
  /*! \brief Independently computed expected outputs (float64), if the op offers them. */
  std::function<std::vector<std::vector<double>>(const std::vector<std::vector<double>>& in)>
      expected;
  /*! \brief Input dtypes; float32 by default (gradients are checked in float64). */
  std::vector<DType> dtypes;
  /*!
   * \brief For loss layers (OpDef::LossLayer): the scalar loss, from the inputs, that the op's
   * gradient differentiates. The gradient check uses it instead of the op's output.
   */
  std::function<double(const std::vector<std::vector<double>>& in)> loss;
};

struct KernelDef {
  std::string name;
  DeviceType device = DeviceType::kCPU;
  SupportsFn supports;  // empty: takes every case
  ComputeFn compute;
};

/*! \brief The definition of one operator. Built once at registration, then read-only. */
struct OpDef {
  std::string name;
  std::vector<std::string> aliases;
  std::string doc;
  const ParamParser* params = &ParamParserFor<NoParam>();
  NamesFn input_names = [](const Attrs&) { return std::vector<std::string>{}; };
  NamesFn output_names = [](const Attrs&) { return std::vector<std::string>{"output"}; };
  InferShapeFn infer_shape;
  InferTypeFn infer_type;
  std::vector<std::pair<int, int>> in_place;  // (input, output) pairs that may share memory
  /*!
   * \brief Outputs a symbol shows (MXNet's FNumVisibleOutputs; 0: all, -n: all but the last n):
   * Dropout's mask is computed and read by its gradient, but a Dropout symbol has one output.
   */
  int visible_outputs = 0;
  std::vector<KernelDef> kernels;
  /*!
   * \brief The gradient as an op graph. NOTE [ Ops without a gradient ]: empty means no
   * gradient flows back through the op, in autograd and in symbolic gradients alike: its
   * inputs get none from it, as MXNet's zero gradients of BlockGrad, argmax, argsort or
   * one_hot. (The update ops, the only others without one, never lie on a gradient's path.)
   */
  GradientFn gradient;
  bool needs_random = false;
  bool needs_temp_space = false;
  /*!
   * \brief MXNet's loss-layer semantics (SoftmaxOutput, *RegressionOutput, MakeLoss): the
   * gradient is that of an implied loss and ignores the gradient flowing into the output.
   */
  bool loss_layer = false;
  /*!
   * \brief Each output element depends only on the input elements at the same position, and
   * the kernels accept any contiguous range of the arrays as 1-d blobs: the elementwise fusion
   * pass (src/symbol/pass/fuse_elemwise.cc) runs chains of such ops tile by tile.
   */
  bool elementwise = false;
  /*! \brief Inputs the kernels write in place (optimizer states, BatchNorm moving stats). */
  std::function<std::vector<int>(const Attrs&)> mutate_inputs = [](const Attrs&) {
    return std::vector<int>{};
  };
  /*!
   * \brief Inputs as the generated C++/Python functions take them, when the list depends on
   * the params: "bias?" is optional (omitted when none), "*data" takes any number.
   */
  std::vector<std::string> signature;
  /*! \brief The names when they do not depend on the params (set by the builder). */
  std::optional<std::vector<std::string>> static_inputs = std::vector<std::string>{};
  std::optional<std::vector<std::string>> static_outputs = std::vector<std::string>{"output"};
  std::vector<OpSample> samples;

  int NumInputs(const Attrs& a) const { return static_cast<int>(input_names(a).size()); }
  int NumOutputs(const Attrs& a) const { return static_cast<int>(output_names(a).size()); }

  // ---- builder, used by MIXNET_REGISTER_OP ----
  OpDef& Describe(std::string d) {
    doc = std::move(d);
    return *this;
  }
  OpDef& Alias(std::string a);
  template <typename P>
  OpDef& Param() {
    params = &ParamParserFor<P>();
    return *this;
  }
  OpDef& Inputs(std::vector<std::string> names) {
    static_inputs = names;
    input_names = [names](const Attrs&) { return names; };
    return *this;
  }
  /*! \brief Inputs that depend on the params; give a Signature too. */
  OpDef& Inputs(NamesFn fn) {
    static_inputs.reset();
    input_names = std::move(fn);
    return *this;
  }
  OpDef& Outputs(std::vector<std::string> names) {
    static_outputs = names;
    output_names = [names](const Attrs&) { return names; };
    return *this;
  }
  OpDef& Outputs(NamesFn fn) {
    static_outputs.reset();
    output_names = std::move(fn);
    return *this;
  }
  OpDef& InferShape(InferShapeFn fn) {
    infer_shape = std::move(fn);
    return *this;
  }
  OpDef& InferType(InferTypeFn fn) {
    infer_type = std::move(fn);
    return *this;
  }
  OpDef& InPlace(std::vector<std::pair<int, int>> pairs) {
    in_place = std::move(pairs);
    return *this;
  }
  OpDef& Kernel(std::string kname, ComputeFn fn, SupportsFn supports = nullptr) {
    kernels.push_back(
        KernelDef{std::move(kname), DeviceType::kCPU, std::move(supports), std::move(fn)});
    return *this;
  }

  OpDef& VisibleOutputs(int n) {
    visible_outputs = n;
    return *this;
  }
  OpDef& Elementwise() {
    elementwise = true;
    return *this;
  }
  OpDef& LossLayer() {
    loss_layer = true;
    return *this;
  }
  /*! \brief Kernels get the context's random generator (OpContext::rng), in engine order. */
  OpDef& NeedsRandom() {
    needs_random = true;
    return *this;
  }
  /*! \brief Kernels get scratch memory for the call (OpContext::Temp()). */
  OpDef& NeedsTempSpace() {
    needs_temp_space = true;
    return *this;
  }
  OpDef& MutateInputs(std::vector<int> inputs) {
    mutate_inputs = [inputs](const Attrs&) { return inputs; };
    return *this;
  }
  /*! \brief For ops whose inputs depend on the params (multi_sgd_mom_update's states). */
  OpDef& MutateInputs(std::function<std::vector<int>(const Attrs&)> fn) {
    mutate_inputs = std::move(fn);
    return *this;
  }
  OpDef& Signature(std::vector<std::string> inputs) {
    signature = std::move(inputs);
    return *this;
  }
  OpDef& Gradient(GradientFn fn) {
    gradient = std::move(fn);
    return *this;
  }
  OpDef& Sample(OpSample s) {
    samples.push_back(std::move(s));
    return *this;
  }

  /*! \brief Parses string attributes into Attrs (errors name this op and the argument). */
  Attrs ParseAttrs(const AttrDict& dict) const;
};

/*! \brief All registered ops, by name and alias. */
class Registry {
 public:
  /*! \brief Registers a new op; a duplicate name is an internal error. */
  static OpDef& Add(const char* name);
  /*! \brief The op called `name` (or an alias); ValueError with the nearest names otherwise. */
  static const OpDef& Get(std::string_view name);
  /*! \brief Null if no op is called `name`. */
  static const OpDef* Find(std::string_view name);
  /*! \brief Every op once, sorted by name. */
  static std::vector<const OpDef*> List();
};

#define MIXNET_OP_CONCAT_(a, b) a##b
#define MIXNET_OP_CONCAT(a, b) MIXNET_OP_CONCAT_(a, b)
/*! \brief Registers op `Name` at load time; chain the OpDef builder calls after it. */
#define MIXNET_REGISTER_OP(Name)                                 \
  [[maybe_unused]] static ::mixnet::op::OpDef& MIXNET_OP_CONCAT( \
      mixnet_op_registration_, __COUNTER__) = ::mixnet::op::Registry::Add(#Name)

// ---- inference helpers shared by op definitions ----

/*!
 * \brief Merges what is known of a shape into `*dst`: unknown parts take `src`'s values; a
 * conflict raises ValueError "OP: ARG has shape (2, 3) but (2, 4) was expected".
 */
void AssignShape(const Attrs& attrs, std::string_view arg, Shape* dst, const Shape& src);
/*! \brief The same for dtypes (-1 unknown). */
void AssignType(const Attrs& attrs, std::string_view arg, int* dst, int src);
/*! \brief Inputs and outputs all share one shape (element-wise ops). */
void SameShape(const Attrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out);
/*! \brief Inputs and outputs all share one dtype. */
void SameType(const Attrs& attrs, std::vector<int>* in, std::vector<int>* out);
/*! \brief Name of input `i` for messages ("data", or "input 2"). */
std::string InputName(const Attrs& attrs, size_t i);

}  // namespace mixnet::op
