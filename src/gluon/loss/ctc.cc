// CTCLoss: layouts and weighting around the registered "CTCLoss" operator.
#include "gluon/loss/math.h"
#include "mixnet/base/error.h"
#include "mixnet/gluon/loss.h"

namespace mixnet::gluon::loss {

using namespace math;

namespace {
LossOptions CTCLossOptions(const CTCOptions& o) {
  MX_CHECK(o.layout == "NTC" || o.layout == "TNC", ValueError)
      << "CTCLoss: only 'NTC' and 'TNC' layouts for pred are supported, got '" << o.layout << "'";
  MX_CHECK(o.label_layout == "NT" || o.label_layout == "TN", ValueError)
      << "CTCLoss: only 'NT' and 'TN' layouts for label are supported, got '" << o.label_layout
      << "'";
  LossOptions l;
  l.prefix = o.prefix;
  l.params = o.params;
  l.weight = o.weight;
  l.batch_axis = static_cast<int>(o.label_layout.find('N'));
  return l;
}
}  // namespace

CTCLoss::CTCLoss(CTCOptions options)
    : Loss("CTCLoss", CTCLossOptions(options)),
      layout_(options.layout),
      label_layout_(options.label_layout) {}

std::vector<NDArray> CTCLoss::HybridForward(const std::vector<NDArray>& inputs) {
  CheckInputs(inputs, 2, {"pred", "label", "pred_lengths", "label_lengths", "sample_weight"});
  const op::AttrDict swap01{{"dim1", "0"}, {"dim2", "1"}};
  const NDArray pred = layout_ == "NTC" ? Call("SwapAxis", {inputs[0]}, swap01) : inputs[0];
  const NDArray label = batch_axis_ == 1 ? Call("SwapAxis", {inputs[1]}, swap01) : inputs[1];
  std::vector<NDArray> args{pred, label};
  const auto given = [&](size_t i) { return i < inputs.size() && !inputs[i].is_none(); };
  if (given(2)) args.push_back(inputs[2]);
  if (given(3)) args.push_back(inputs[3]);
  const NDArray loss = op::Invoke("CTCLoss", args,
                                  {{"use_data_lengths", op::AttrValue(given(2))},
                                   {"use_label_lengths", op::AttrValue(given(3))},
                                   {"blank_label", "last"}})[0];
  return {ApplyWeighting(loss, inputs, 4)};
}

}  // namespace mixnet::gluon::loss
