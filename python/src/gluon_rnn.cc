// mx.gluon.rnn: the C++ fused layers and cells (mixnet/gluon/rnn.h) with MXNet 1.x's
// signatures. The Python package gives calls MXNet's shapes: layer(x, states) returns
// (out, [states]), cell(x, states) returns (out, [states]) (mixnet/gluon/rnn/__init__.py).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "gluon.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/rnn.h"

namespace mixnet::python {

namespace rnn = gluon::rnn;
using gluon::HybridBlock;

namespace {

#define MIXNET_PY_RNN_ARGS \
  nb::arg("prefix").none() = nb::none(), nb::arg("params").none() = nb::none()

nb::list StateInfoList(const std::vector<rnn::StateDesc>& states) {
  nb::list l;
  for (const rnn::StateDesc& s : states) {
    nb::dict d;
    nb::list shape;
    for (int i = 0; i < s.shape.ndim(); ++i)
      shape.append(s.shape[i]);
    d["shape"] = nb::tuple(shape);
    d["__layout__"] = s.layout;
    l.append(d);
  }
  return l;
}

nb::list ArrayList(const std::vector<NDArray>& v) {
  nb::list l;
  for (const NDArray& a : v)
    l.append(nb::cast(a));
  return l;
}

std::vector<NDArray> Arrays(nb::handle h) {
  std::vector<NDArray> out;
  if (h.is_none()) return out;
  bool constants = false;
  FlattenArrays(h, &out, &constants);
  MX_CHECK(!constants, TypeError) << "rnn: expected NDArrays or lists of them";
  return out;
}

/*! \brief state_info and _begin_state of the layers and the cells. */
template <typename T, typename... Base>
void DefStates(nb::class_<T, Base...>& cls) {
  cls.def(
         "state_info",
         [](const T& l, int64_t batch_size) { return StateInfoList(l.StateInfo(batch_size)); },
         nb::arg("batch_size") = 0)
      .def(
          "_begin_state",
          [](const T& l, int64_t batch_size, nb::handle ctx, nb::handle dtype) {
            return ArrayList(l.BeginState(batch_size, ToContext(ctx), ToDType(dtype)));
          },
          nb::arg("batch_size"), nb::arg("ctx").none(), nb::arg("dtype").none());
}

/*!
 * \brief RNN, LSTM and GRU. MXNet orders their later arguments differently (RNN puts
 * activation third), so everything after num_layers is keyword-only.
 */
template <typename T>
void BindLayer(nb::module_& m, const char* name, bool rnn_act) {
  nb::class_<T, rnn::RecurrentLayer>(m, name).def(
      "__init__",
      [](T* self, int hidden_size, int num_layers, nb::handle activation, const std::string& layout,
         double dropout, bool bidirectional, nb::handle i2h_weight_initializer,
         nb::handle h2h_weight_initializer, nb::handle i2h_bias_initializer,
         nb::handle h2h_bias_initializer, int64_t input_size, nb::handle state_clip_min,
         nb::handle state_clip_max, bool state_clip_nan, nb::handle dtype, nb::handle prefix,
         nb::handle params) {
        rnn::RNNLayerOptions o;
        static_cast<gluon::BlockArgs&>(o) = ToBlockArgs(prefix, params);
        o.num_layers = num_layers;
        o.layout = layout;
        o.dropout = dropout;
        o.bidirectional = bidirectional;
        o.input_size = input_size;
        o.i2h_weight_initializer = ToInitializer(i2h_weight_initializer);
        o.h2h_weight_initializer = ToInitializer(h2h_weight_initializer);
        o.i2h_bias_initializer = ToInitializer(i2h_bias_initializer);
        o.h2h_bias_initializer = ToInitializer(h2h_bias_initializer);
        o.dtype = ToDType(dtype);
        if (!activation.is_none()) o.activation = nb::cast<std::string>(activation);
        o.state_clip_min = ToOptionalFloat(state_clip_min);
        o.state_clip_max = ToOptionalFloat(state_clip_max);
        o.state_clip_nan = state_clip_nan;
        new (self) T(hidden_size, std::move(o));
      },
      nb::arg("hidden_size"), nb::arg("num_layers") = 1, nb::kw_only(),
      nb::arg("activation").none() = rnn_act ? nb::object(nb::str("relu")) : nb::none(),
      nb::arg("layout") = "TNC", nb::arg("dropout") = 0.0, nb::arg("bidirectional") = false,
      nb::arg("i2h_weight_initializer").none() = nb::none(),
      nb::arg("h2h_weight_initializer").none() = nb::none(),
      nb::arg("i2h_bias_initializer").none() = "zeros",
      nb::arg("h2h_bias_initializer").none() = "zeros", nb::arg("input_size") = 0,
      nb::arg("state_clip_min").none() = nb::none(), nb::arg("state_clip_max").none() = nb::none(),
      nb::arg("state_clip_nan") = false, nb::arg("dtype").none() = "float32", MIXNET_PY_RNN_ARGS);
}

/*!
 * \brief RNNCell, LSTMCell and GRUCell: (hidden_size, initializers..., input_size, acts); an
 * activation left None is the cell's own default (tanh, sigmoid gates).
 */
template <typename T>
void BindGatedCell(nb::module_& m, const char* name) {
  nb::class_<T, rnn::GatedCell>(m, name).def(
      "__init__",
      [](T* self, int hidden_size, nb::handle i2h_weight_initializer,
         nb::handle h2h_weight_initializer, nb::handle i2h_bias_initializer,
         nb::handle h2h_bias_initializer, int64_t input_size, nb::handle activation,
         nb::handle recurrent_activation, nb::handle prefix, nb::handle params) {
        rnn::CellOptions o;
        static_cast<gluon::BlockArgs&>(o) = ToBlockArgs(prefix, params);
        o.i2h_weight_initializer = ToInitializer(i2h_weight_initializer);
        o.h2h_weight_initializer = ToInitializer(h2h_weight_initializer);
        o.i2h_bias_initializer = ToInitializer(i2h_bias_initializer);
        o.h2h_bias_initializer = ToInitializer(h2h_bias_initializer);
        o.input_size = input_size;
        if (!activation.is_none()) o.activation = nb::cast<std::string>(activation);
        if (!recurrent_activation.is_none())
          o.recurrent_activation = nb::cast<std::string>(recurrent_activation);
        new (self) T(hidden_size, std::move(o));
      },
      nb::arg("hidden_size"), nb::arg("i2h_weight_initializer").none() = nb::none(),
      nb::arg("h2h_weight_initializer").none() = nb::none(),
      nb::arg("i2h_bias_initializer").none() = "zeros",
      nb::arg("h2h_bias_initializer").none() = "zeros", nb::arg("input_size") = 0,
      nb::arg("activation").none() = nb::none(),
      nb::arg("recurrent_activation").none() = nb::none(), MIXNET_PY_RNN_ARGS);
}

void BindRNN(nb::module_& root) {
  nb::module_ m = root.def_submodule("rnn", "The C++ gluon recurrent layers and cells.");

  nb::class_<rnn::RecurrentLayer, HybridBlock> layer(m, "_RNNLayer");
  DefStates(layer);
  layer.def_prop_ro("_hidden_size", &rnn::RecurrentLayer::hidden_size)
      .def_prop_ro("_num_layers", &rnn::RecurrentLayer::num_layers)
      .def_prop_ro("_layout", &rnn::RecurrentLayer::layout)
      .def_prop_ro("_mode", &rnn::RecurrentLayer::mode)
      .def_prop_ro("_dir", &rnn::RecurrentLayer::directions);
  BindLayer<rnn::RNN>(m, "RNN", true);
  BindLayer<rnn::LSTM>(m, "LSTM", false);
  BindLayer<rnn::GRU>(m, "GRU", false);

  nb::class_<rnn::RecurrentCell, HybridBlock> cell(m, "RecurrentCell");
  DefStates(cell);
  cell.def("reset", &rnn::RecurrentCell::Reset, "Resets the state carried between steps.")
      .def(
          "unroll",
          [](rnn::RecurrentCell& c, int64_t length, nb::handle inputs, nb::handle begin_state,
             const std::string& layout, std::optional<bool> merge_outputs,
             nb::handle valid_length) {
            NDArray valid;
            if (!valid_length.is_none()) valid = ToNDArray(valid_length);
            rnn::UnrollResult r =
                c.Unroll(length, Arrays(inputs), Arrays(begin_state), layout, merge_outputs, valid);
            nb::object outputs;
            const bool merged =
                merge_outputs.value_or(false) || (r.outputs.size() == 1 && length != 1);
            if (merged && r.outputs.size() == 1) {
              outputs = nb::cast(r.outputs[0]);
            } else {
              outputs = ArrayList(r.outputs);
            }
            return nb::make_tuple(outputs, ArrayList(r.states));
          },
          nb::arg("length"), nb::arg("inputs"), nb::arg("begin_state").none() = nb::none(),
          nb::arg("layout") = "NTC", nb::arg("merge_outputs").none() = nb::none(),
          nb::arg("valid_length").none() = nb::none(),
          "Unrolls the cell over `length` steps; returns (outputs, states).");

  nb::class_<rnn::GatedCell, rnn::RecurrentCell>(m, "_GatedCell")
      .def_prop_ro("_hidden_size", &rnn::GatedCell::hidden_size);
  BindGatedCell<rnn::RNNCell>(m, "RNNCell");
  BindGatedCell<rnn::LSTMCell>(m, "LSTMCell");
  BindGatedCell<rnn::GRUCell>(m, "GRUCell");

  nb::class_<rnn::SequentialRNNCell, rnn::RecurrentCell>(m, "SequentialRNNCell",
                                                         "Sequentially stacking multiple cells.")
      .def(
          "__init__",
          [](rnn::SequentialRNNCell* self, nb::handle prefix, nb::handle params) {
            new (self) rnn::SequentialRNNCell(ToBlockArgs(prefix, params));
          },
          MIXNET_PY_RNN_ARGS)
      .def("add", &rnn::SequentialRNNCell::Add, nb::arg("cell"), "Appends a cell.")
      .def("__len__", &rnn::SequentialRNNCell::size)
      .def("__getitem__", [](const rnn::SequentialRNNCell& c, size_t i) {
        MX_CHECK(i < c.size(), IndexError) << "SequentialRNNCell: index " << i << " out of range";
        return BlockToPython(*c[i]);
      });
  nb::class_<rnn::HybridSequentialRNNCell, rnn::SequentialRNNCell>(m, "HybridSequentialRNNCell")
      .def(
          "__init__",
          [](rnn::HybridSequentialRNNCell* self, nb::handle prefix, nb::handle params) {
            new (self) rnn::HybridSequentialRNNCell(ToBlockArgs(prefix, params));
          },
          MIXNET_PY_RNN_ARGS);
  nb::class_<rnn::DropoutCell, rnn::RecurrentCell>(m, "DropoutCell",
                                                   "Applies dropout on the input.")
      .def(
          "__init__",
          [](rnn::DropoutCell* self, double rate, nb::handle axes, nb::handle prefix,
             nb::handle params) {
            std::vector<int64_t> ax;
            for (int a : ToInts(axes))
              ax.push_back(a);
            new (self) rnn::DropoutCell(rate, std::move(ax), ToBlockArgs(prefix, params));
          },
          nb::arg("rate"), nb::arg("axes").none() = nb::none(), MIXNET_PY_RNN_ARGS);
  nb::class_<rnn::ModifierCell, rnn::RecurrentCell>(m, "ModifierCell")
      .def_prop_ro("base_cell",
                   [](const rnn::ModifierCell& c) { return BlockToPython(*c.base_cell()); });
  nb::class_<rnn::ZoneoutCell, rnn::ModifierCell>(m, "ZoneoutCell", "Applies Zoneout on a cell.")
      .def(nb::init<std::shared_ptr<rnn::RecurrentCell>, double, double>(), nb::arg("base_cell"),
           nb::arg("zoneout_outputs") = 0.0, nb::arg("zoneout_states") = 0.0);
  nb::class_<rnn::ResidualCell, rnn::ModifierCell>(m, "ResidualCell",
                                                   "Adds residual connection to a cell.")
      .def(nb::init<std::shared_ptr<rnn::RecurrentCell>>(), nb::arg("base_cell"));
  nb::class_<rnn::BidirectionalCell, rnn::RecurrentCell>(m, "BidirectionalCell",
                                                         "Bidirectional RNN cell (unroll only).")
      .def(nb::init<std::shared_ptr<rnn::RecurrentCell>, std::shared_ptr<rnn::RecurrentCell>,
                    std::string>(),
           nb::arg("l_cell"), nb::arg("r_cell"), nb::arg("output_prefix") = "bi_");
}

}  // namespace
MIXNET_PY_BIND(85, BindRNN);

}  // namespace mixnet::python
