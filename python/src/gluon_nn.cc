// mx.gluon.nn: the C++ layers (mixnet/gluon/nn.h) with MXNet 1.x's constructor signatures.
// Every layer takes MXNet's prefix= and params= keywords; initializers are Initializer objects
// or registered names ('zeros', 'xavier', ...).
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "gluon.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/nn.h"

namespace mixnet::python {

namespace nn = gluon::nn;
using gluon::Block;
using gluon::BlockPtr;
using gluon::HybridBlock;

namespace {

/*! \brief Options `O` (a BlockArgs) with prefix= and params= filled. */
template <typename O>
O With(nb::handle prefix, nb::handle params) {
  O o;
  static_cast<gluon::BlockArgs&>(o) = ToBlockArgs(prefix, params);
  return o;
}

std::string OptionalString(nb::handle h) {
  return h.is_none() ? std::string() : nb::cast<std::string>(h);
}

/*! \brief A Python function of NDArrays as a C++ one; `with_f` passes F = mx.nd first. */
nn::LambdaFunction ToLambda(nb::handle function, bool with_f) {
  static nb::handle nd = nb::module_::import_("mixnet.ndarray").release();
  nb::object fn = nb::borrow(function);
  if (nb::isinstance<nb::str>(function)) {
    MX_CHECK(nb::hasattr(nd, function), ValueError)
        << "Lambda: function name '" << nb::cast<std::string>(function)
        << "' is not found in mx.nd";
    fn = nd.attr(function);
    with_f = false;
  }
  MX_CHECK(PyCallable_Check(fn.ptr()), TypeError)
      << "Lambda: function must be a callable or the name of an mx.nd function";
  auto held = std::shared_ptr<PyObject>(fn.release().ptr(), [](PyObject* o) {
    if (!Py_IsInitialized()) return;
    nb::gil_scoped_acquire gil;
    Py_DECREF(o);
  });
  return [held, with_f](const std::vector<NDArray>& inputs) {
    nb::gil_scoped_acquire gil;
    nb::list args;
    if (with_f) args.append(nd);
    for (const NDArray& x : inputs)
      args.append(x.is_none() ? nb::none() : nb::cast(x));
    nb::object r = nb::handle(held.get())(*args);
    std::vector<NDArray> flat;
    bool constants = false;
    FlattenArrays(r, &flat, &constants);
    MX_CHECK(!constants, TypeError) << "Lambda: the function must return NDArrays";
    return flat;
  };
}

template <typename Container>
void BindSequential(nb::module_& m, const char* name, const char* doc) {
  nb::class_<Container, typename Container::SequentialContainer>(m, name, doc)
      .def(
          "__init__",
          [](Container* self, nb::handle prefix, nb::handle params) {
            new (self) Container(ToBlockArgs(prefix, params));
          },
          MIXNET_PY_BLOCK_ARGS);
}

template <typename Base>
void BindContainerBase(nb::module_& m, const char* name) {
  using C = nn::SequentialContainer<Base>;
  nb::class_<C, Base>(m, name)
      .def(
          "add",
          [](C& c, nb::args blocks) {
            for (nb::handle b : blocks)
              c.Add(nb::cast<BlockPtr>(b));
          },
          "Adds blocks on top of the stack.")
      .def("_get", [](const C& c, size_t i) { return BlockToPython(*c[i]); })
      .def("__len__", &C::size);
}

template <typename T>
void BindConv(nb::module_& m, const char* name, bool transpose) {
  auto init = [](T* self, int channels, nb::handle kernel_size, nb::handle strides,
                 nb::handle padding, nb::handle output_padding, nb::handle dilation, int groups,
                 nb::handle layout, nb::handle activation, bool use_bias,
                 nb::handle weight_initializer, nb::handle bias_initializer, int in_channels,
                 nb::handle prefix, nb::handle params) {
    auto o = With<nn::ConvOptions>(prefix, params);
    o.strides = ToInts(strides);
    o.padding = ToInts(padding);
    o.output_padding = ToInts(output_padding);
    o.dilation = ToInts(dilation);
    o.groups = groups;
    o.layout = OptionalString(layout);
    o.activation = OptionalString(activation);
    o.use_bias = use_bias;
    o.weight_initializer = ToInitializer(weight_initializer, "weight_initializer");
    o.bias_initializer = ToInitializer(bias_initializer, "bias_initializer");
    o.in_channels = in_channels;
    new (self) T(channels, ToInts(kernel_size), std::move(o));
  };
  nb::class_<T, nn::ConvBase> cls(m, name);
  if (transpose) {
    cls.def("__init__", init, nb::arg("channels"), nb::arg("kernel_size"),
            nb::arg("strides").none() = nb::none(), nb::arg("padding").none() = nb::none(),
            nb::arg("output_padding").none() = nb::none(), nb::arg("dilation").none() = nb::none(),
            nb::arg("groups") = 1, nb::arg("layout").none() = nb::none(),
            nb::arg("activation").none() = nb::none(), nb::arg("use_bias") = true,
            nb::arg("weight_initializer").none() = nb::none(),
            nb::arg("bias_initializer").none() = "zeros", nb::arg("in_channels") = 0,
            MIXNET_PY_BLOCK_ARGS);
  } else {
    cls.def(
        "__init__",
        [init](T* self, int channels, nb::handle kernel_size, nb::handle strides,
               nb::handle padding, nb::handle dilation, int groups, nb::handle layout,
               nb::handle activation, bool use_bias, nb::handle weight_initializer,
               nb::handle bias_initializer, int in_channels, nb::handle prefix, nb::handle params) {
          init(self, channels, kernel_size, strides, padding, nb::none(), dilation, groups, layout,
               activation, use_bias, weight_initializer, bias_initializer, in_channels, prefix,
               params);
        },
        nb::arg("channels"), nb::arg("kernel_size"), nb::arg("strides").none() = nb::none(),
        nb::arg("padding").none() = nb::none(), nb::arg("dilation").none() = nb::none(),
        nb::arg("groups") = 1, nb::arg("layout").none() = nb::none(),
        nb::arg("activation").none() = nb::none(), nb::arg("use_bias") = true,
        nb::arg("weight_initializer").none() = nb::none(),
        nb::arg("bias_initializer").none() = "zeros", nb::arg("in_channels") = 0,
        MIXNET_PY_BLOCK_ARGS);
  }
}

template <typename T>
void BindPool(nb::module_& m, const char* name, bool avg) {
  auto make = [](T* self, nb::handle pool_size, nb::handle strides, nb::handle padding,
                 nb::handle layout, bool ceil_mode, bool count_include_pad, nb::handle prefix,
                 nb::handle params) {
    auto o = With<nn::PoolOptions>(prefix, params);
    o.pool_size = ToInts(pool_size);
    o.strides = ToInts(strides);
    o.padding = ToInts(padding);
    o.layout = OptionalString(layout);
    o.ceil_mode = ceil_mode;
    o.count_include_pad = count_include_pad;
    new (self) T(std::move(o));
  };
  nb::class_<T, nn::PoolBase> cls(m, name);
  if (avg) {
    cls.def(
        "__init__",
        [make](T* self, nb::handle pool_size, nb::handle strides, nb::handle padding,
               bool ceil_mode, nb::handle layout, bool count_include_pad, nb::handle prefix,
               nb::handle params) {
          make(self, pool_size, strides, padding, layout, ceil_mode, count_include_pad, prefix,
               params);
        },
        nb::arg("pool_size").none() = nb::none(), nb::arg("strides").none() = nb::none(),
        nb::arg("padding").none() = nb::none(), nb::arg("ceil_mode") = false,
        nb::arg("layout").none() = nb::none(), nb::arg("count_include_pad") = true,
        MIXNET_PY_BLOCK_ARGS);
  } else {
    cls.def(
        "__init__",
        [make](T* self, nb::handle pool_size, nb::handle strides, nb::handle padding,
               nb::handle layout, bool ceil_mode, nb::handle prefix, nb::handle params) {
          make(self, pool_size, strides, padding, layout, ceil_mode, true, prefix, params);
        },
        nb::arg("pool_size").none() = nb::none(), nb::arg("strides").none() = nb::none(),
        nb::arg("padding").none() = nb::none(), nb::arg("layout").none() = nb::none(),
        nb::arg("ceil_mode") = false, MIXNET_PY_BLOCK_ARGS);
  }
}

template <typename T>
void BindGlobalPool(nb::module_& m, const char* name) {
  nb::class_<T, nn::PoolBase>(m, name).def(
      "__init__",
      [](T* self, nb::handle layout, nb::handle prefix, nb::handle params) {
        auto o = With<nn::GlobalPoolOptions>(prefix, params);
        o.layout = OptionalString(layout);
        new (self) T(std::move(o));
      },
      nb::arg("layout").none() = nb::none(), MIXNET_PY_BLOCK_ARGS);
}

/*! \brief InstanceNorm and LayerNorm: (axis, epsilon, center, scale, initializers, in_channels). */
template <typename T, typename O>
void BindNorm(nb::module_& m, const char* name, const char* doc, int axis, bool scale) {
  nb::class_<T, HybridBlock>(m, name, doc)
      .def(
          "__init__",
          [](T* self, int axis, double epsilon, bool center, bool scale,
             nb::handle beta_initializer, nb::handle gamma_initializer, int in_channels,
             nb::handle prefix, nb::handle params) {
            auto o = With<O>(prefix, params);
            o.axis = axis;
            o.epsilon = epsilon;
            o.center = center;
            o.scale = scale;
            o.beta_initializer = ToInitializer(beta_initializer, "beta_initializer");
            o.gamma_initializer = ToInitializer(gamma_initializer, "gamma_initializer");
            o.in_channels = in_channels;
            new (self) T(std::move(o));
          },
          nb::arg("axis") = axis, nb::arg("epsilon") = 1e-5, nb::arg("center") = true,
          nb::arg("scale") = scale, nb::arg("beta_initializer").none() = "zeros",
          nb::arg("gamma_initializer").none() = "ones", nb::arg("in_channels") = 0,
          MIXNET_PY_BLOCK_ARGS);
}

void BindNN(nb::module_& root) {
  nb::module_ m = root.def_submodule("nn", "The C++ gluon.nn layers (mx.gluon.nn).");

  BindContainerBase<Block>(m, "_SequentialBase");
  BindContainerBase<HybridBlock>(m, "_HybridSequentialBase");
  BindSequential<nn::Sequential>(m, "Sequential", "Stacks Blocks sequentially.");
  BindSequential<nn::HybridSequential>(m, "HybridSequential", "Stacks HybridBlocks sequentially.");
  nb::class_<nn::Concurrent, nn::Sequential>(m, "Concurrent",
                                             "Runs its children on the same input and "
                                             "concatenates their outputs on axis.")
      .def(
          "__init__",
          [](nn::Concurrent* self, int axis, nb::handle prefix, nb::handle params) {
            new (self) nn::Concurrent(axis, ToBlockArgs(prefix, params));
          },
          nb::arg("axis") = -1, MIXNET_PY_BLOCK_ARGS);
  nb::class_<nn::HybridConcurrent, nn::HybridSequential>(m, "HybridConcurrent")
      .def(
          "__init__",
          [](nn::HybridConcurrent* self, int axis, nb::handle prefix, nb::handle params) {
            new (self) nn::HybridConcurrent(axis, ToBlockArgs(prefix, params));
          },
          nb::arg("axis") = -1, MIXNET_PY_BLOCK_ARGS);
  BindPlain<nn::Identity>(m, "Identity", "Returns its input.");
  BindPlain<nn::Flatten>(m, "Flatten", "Flattens the input to two dimensions.");
  BindPlain<nn::SELU>(m, "SELU", "Scaled exponential linear unit.");
  BindPlain<nn::GELU>(m, "GELU", "Gaussian error linear unit.");

  nb::class_<nn::Lambda, Block>(m, "Lambda", "Wraps a function (or an mx.nd name) as a Block.")
      .def(
          "__init__",
          [](nn::Lambda* self, nb::handle function, nb::handle prefix, nb::handle params) {
            new (self) nn::Lambda(ToLambda(function, false), ToBlockArgs(prefix, params));
          },
          nb::arg("function"), MIXNET_PY_BLOCK_ARGS);
  nb::class_<nn::HybridLambda, HybridBlock>(
      m, "HybridLambda", "Wraps a function(F, x, *args) (or an mx.nd name) as a HybridBlock.")
      .def(
          "__init__",
          [](nn::HybridLambda* self, nb::handle function, nb::handle prefix, nb::handle params) {
            std::string alias = "hybridlambda";
            if (!nb::isinstance<nb::str>(function) && nb::hasattr(function, "__name__")) {
              // MXNet names the block after the function (prefix "<name>0_")... for a lambda
              // that is "<lambda>", which MXNet keeps as well.
              alias = nb::cast<std::string>(function.attr("__name__"));
            } else if (nb::isinstance<nb::str>(function)) {
              alias = nb::cast<std::string>(function);
            }
            new (self)
                nn::HybridLambda(ToLambda(function, true), alias, ToBlockArgs(prefix, params));
          },
          nb::arg("function"), MIXNET_PY_BLOCK_ARGS);

  nb::class_<nn::Activation, HybridBlock>(m, "Activation", "Applies an activation function.")
      .def(
          "__init__",
          [](nn::Activation* self, const std::string& activation, nb::handle prefix,
             nb::handle params) {
            new (self) nn::Activation(activation, ToBlockArgs(prefix, params));
          },
          nb::arg("activation"), MIXNET_PY_BLOCK_ARGS)
      .def_prop_ro("_act_type", &nn::Activation::act_type);
  nb::class_<nn::LeakyReLU, HybridBlock>(m, "LeakyReLU", "Leaky ReLU with slope alpha.")
      .def(
          "__init__",
          [](nn::LeakyReLU* self, double alpha, nb::handle prefix, nb::handle params) {
            new (self) nn::LeakyReLU(alpha, ToBlockArgs(prefix, params));
          },
          nb::arg("alpha"), MIXNET_PY_BLOCK_ARGS);
  nb::class_<nn::PReLU, HybridBlock>(m, "PReLU", "Parametric ReLU (learned slope alpha).")
      .def(
          "__init__",
          [](nn::PReLU* self, nb::handle alpha_initializer, int in_channels, nb::handle prefix,
             nb::handle params) {
            auto o = With<nn::PReLUOptions>(prefix, params);
            o.alpha_initializer = ToInitializer(alpha_initializer, "alpha_initializer");
            o.in_channels = in_channels;
            new (self) nn::PReLU(std::move(o));
          },
          nb::arg("alpha_initializer").none() = nb::none(), nb::arg("in_channels") = 1,
          MIXNET_PY_BLOCK_ARGS);
  nb::class_<nn::ELU, HybridBlock>(m, "ELU", "Exponential linear unit.")
      .def(
          "__init__",
          [](nn::ELU* self, double alpha, nb::handle prefix, nb::handle params) {
            new (self) nn::ELU(alpha, ToBlockArgs(prefix, params));
          },
          nb::arg("alpha") = 1.0, MIXNET_PY_BLOCK_ARGS);
  nb::class_<nn::Swish, HybridBlock>(m, "Swish", "Swish: x * sigmoid(beta * x).")
      .def(
          "__init__",
          [](nn::Swish* self, double beta, nb::handle prefix, nb::handle params) {
            new (self) nn::Swish(beta, ToBlockArgs(prefix, params));
          },
          nb::arg("beta") = 1.0, MIXNET_PY_BLOCK_ARGS);

  nb::class_<nn::Dense, HybridBlock>(
      m, "Dense", "Densely-connected layer: activation(dot(input, weight.T) + bias).")
      .def(
          "__init__",
          [](nn::Dense* self, int units, nb::handle activation, bool use_bias, bool flatten,
             nb::handle dtype, nb::handle weight_initializer, nb::handle bias_initializer,
             int in_units, nb::handle prefix, nb::handle params) {
            auto o = With<nn::DenseOptions>(prefix, params);
            o.activation = OptionalString(activation);
            o.use_bias = use_bias;
            o.flatten = flatten;
            o.dtype = ToDType(dtype);
            o.weight_initializer = ToInitializer(weight_initializer, "weight_initializer");
            o.bias_initializer = ToInitializer(bias_initializer, "bias_initializer");
            o.in_units = in_units;
            new (self) nn::Dense(units, std::move(o));
          },
          nb::arg("units"), nb::arg("activation").none() = nb::none(), nb::arg("use_bias") = true,
          nb::arg("flatten") = true, nb::arg("dtype").none() = "float32",
          nb::arg("weight_initializer").none() = nb::none(),
          nb::arg("bias_initializer").none() = "zeros", nb::arg("in_units") = 0,
          MIXNET_PY_BLOCK_ARGS);

  nb::class_<nn::Dropout, HybridBlock>(m, "Dropout", "Applies Dropout to the input.")
      .def(
          "__init__",
          [](nn::Dropout* self, double rate, nb::handle axes, nb::handle prefix,
             nb::handle params) {
            auto o = With<nn::DropoutOptions>(prefix, params);
            o.axes = ToInts(axes);
            new (self) nn::Dropout(rate, std::move(o));
          },
          nb::arg("rate"), nb::arg("axes").none() = nb::none(), MIXNET_PY_BLOCK_ARGS);

  nb::class_<nn::BatchNorm, HybridBlock>(m, "BatchNorm", "Batch normalization layer.")
      .def(
          "__init__",
          [](nn::BatchNorm* self, int axis, double momentum, double epsilon, bool center,
             bool scale, bool use_global_stats, nb::handle beta_initializer,
             nb::handle gamma_initializer, nb::handle running_mean_initializer,
             nb::handle running_variance_initializer, int in_channels, nb::handle prefix,
             nb::handle params) {
            auto o = With<nn::BatchNormOptions>(prefix, params);
            o.axis = axis;
            o.momentum = momentum;
            o.epsilon = epsilon;
            o.center = center;
            o.scale = scale;
            o.use_global_stats = use_global_stats;
            o.beta_initializer = ToInitializer(beta_initializer, "beta_initializer");
            o.gamma_initializer = ToInitializer(gamma_initializer, "gamma_initializer");
            o.running_mean_initializer =
                ToInitializer(running_mean_initializer, "running_mean_initializer");
            o.running_variance_initializer =
                ToInitializer(running_variance_initializer, "running_variance_initializer");
            o.in_channels = in_channels;
            new (self) nn::BatchNorm(std::move(o));
          },
          nb::arg("axis") = 1, nb::arg("momentum") = 0.9, nb::arg("epsilon") = 1e-5,
          nb::arg("center") = true, nb::arg("scale") = true, nb::arg("use_global_stats") = false,
          nb::arg("beta_initializer").none() = "zeros",
          nb::arg("gamma_initializer").none() = "ones",
          nb::arg("running_mean_initializer").none() = "zeros",
          nb::arg("running_variance_initializer").none() = "ones", nb::arg("in_channels") = 0,
          MIXNET_PY_BLOCK_ARGS);

  BindNorm<nn::InstanceNorm, nn::InstanceNormOptions>(m, "InstanceNorm", "Instance normalization.",
                                                      1, false);
  BindNorm<nn::LayerNorm, nn::LayerNormOptions>(m, "LayerNorm", "Layer normalization.", -1, true);

  nb::class_<nn::GroupNorm, HybridBlock>(m, "GroupNorm", "Group normalization.")
      .def(
          "__init__",
          [](nn::GroupNorm* self, int num_groups, double epsilon, bool center, bool scale,
             nb::handle beta_initializer, nb::handle gamma_initializer, nb::handle prefix,
             nb::handle params) {
            auto o = With<nn::GroupNormOptions>(prefix, params);
            o.num_groups = num_groups;
            o.epsilon = epsilon;
            o.center = center;
            o.scale = scale;
            o.beta_initializer = ToInitializer(beta_initializer, "beta_initializer");
            o.gamma_initializer = ToInitializer(gamma_initializer, "gamma_initializer");
            new (self) nn::GroupNorm(std::move(o));
          },
          nb::arg("num_groups") = 1, nb::arg("epsilon") = 1e-5, nb::arg("center") = true,
          nb::arg("scale") = true, nb::arg("beta_initializer").none() = "zeros",
          nb::arg("gamma_initializer").none() = "ones", MIXNET_PY_BLOCK_ARGS);

  nb::class_<nn::Embedding, HybridBlock>(m, "Embedding", "Turns indices into dense vectors.")
      .def(
          "__init__",
          [](nn::Embedding* self, int input_dim, int output_dim, nb::handle dtype,
             nb::handle weight_initializer, bool sparse_grad, nb::handle prefix,
             nb::handle params) {
            auto o = With<nn::EmbeddingOptions>(prefix, params);
            o.dtype = ToDType(dtype);
            o.weight_initializer = ToInitializer(weight_initializer, "weight_initializer");
            o.sparse_grad = sparse_grad;
            new (self) nn::Embedding(input_dim, output_dim, std::move(o));
          },
          nb::arg("input_dim"), nb::arg("output_dim"), nb::arg("dtype").none() = "float32",
          nb::arg("weight_initializer").none() = nb::none(), nb::arg("sparse_grad") = false,
          MIXNET_PY_BLOCK_ARGS);

  nb::class_<nn::ConvBase, HybridBlock>(m, "_Conv");
  BindConv<nn::Conv1D>(m, "Conv1D", false);
  BindConv<nn::Conv2D>(m, "Conv2D", false);
  BindConv<nn::Conv3D>(m, "Conv3D", false);
  BindConv<nn::Conv1DTranspose>(m, "Conv1DTranspose", true);
  BindConv<nn::Conv2DTranspose>(m, "Conv2DTranspose", true);
  BindConv<nn::Conv3DTranspose>(m, "Conv3DTranspose", true);

  nb::class_<nn::PoolBase, HybridBlock>(m, "_Pooling");
  BindPool<nn::MaxPool1D>(m, "MaxPool1D", false);
  BindPool<nn::MaxPool2D>(m, "MaxPool2D", false);
  BindPool<nn::MaxPool3D>(m, "MaxPool3D", false);
  BindPool<nn::AvgPool1D>(m, "AvgPool1D", true);
  BindPool<nn::AvgPool2D>(m, "AvgPool2D", true);
  BindPool<nn::AvgPool3D>(m, "AvgPool3D", true);
  BindGlobalPool<nn::GlobalMaxPool1D>(m, "GlobalMaxPool1D");
  BindGlobalPool<nn::GlobalMaxPool2D>(m, "GlobalMaxPool2D");
  BindGlobalPool<nn::GlobalMaxPool3D>(m, "GlobalMaxPool3D");
  BindGlobalPool<nn::GlobalAvgPool1D>(m, "GlobalAvgPool1D");
  BindGlobalPool<nn::GlobalAvgPool2D>(m, "GlobalAvgPool2D");
  BindGlobalPool<nn::GlobalAvgPool3D>(m, "GlobalAvgPool3D");

  nb::class_<nn::ReflectionPad2D, HybridBlock>(m, "ReflectionPad2D",
                                               "Pads the input tensor using its reflection.")
      .def(
          "__init__",
          [](nn::ReflectionPad2D* self, nb::handle padding, nb::handle prefix, nb::handle params) {
            new (self) nn::ReflectionPad2D(ToInts(padding), ToBlockArgs(prefix, params));
          },
          nb::arg("padding") = 0, MIXNET_PY_BLOCK_ARGS);
}

}  // namespace
MIXNET_PY_BIND(82, BindNN);

}  // namespace mixnet::python
