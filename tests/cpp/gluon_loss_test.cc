// Gluon losses against MXNet 1.9.1: each case's loss and d(sum loss)/d(first input) were computed
// by mx.gluon.loss on the same float32 inputs (inputs are sin-based sequences rounded to 3
// decimals; pos_weight, sample_weight and labels as listed) and are pinned here. Every case
// also runs through ExpectHybridMatchesEager. Then: shapes, names, Repr and errors.
#include "mixnet/gluon/loss.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gluon_check.h"
#include "mixnet/autograd/autograd.h"
#include "mixnet/base/error.h"
#include "mixnet/op/invoke.h"
#include "test_util.h"

namespace mixnet::gluon::loss {
namespace {

struct Input {
  std::vector<float> values;
  Shape shape;
};

struct Case {
  const char* name;
  std::function<std::shared_ptr<Loss>()> make;
  std::vector<Input> inputs;
  std::vector<float> loss;
  Shape loss_shape;
  std::vector<float> grad;  // d(sum loss)/d(inputs[0])
};

std::vector<NDArray> Arrays(const std::vector<Input>& inputs) {
  std::vector<NDArray> out;
  for (const Input& in : inputs)
    out.push_back(NDArray::FromVector(in.values, in.shape));
  return out;
}

std::vector<double> Doubles(const NDArray& x) {
  const auto v = x.ToVector<float>();
  return {v.begin(), v.end()};
}

std::vector<double> Doubles(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

// clang-format off
const std::vector<Case>& Cases() {
  static const std::vector<Case> cases{
    {"L2Loss", [] { return std::make_shared<L2Loss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}},
     {0.2947301, 1.7960551, 3.3606284}, Shape{3},
     {-0.215, 0.27324998, 0.1485, -0.066500008, 0.22275001, 0.68124998, 0.49250001, -0.37649998, -0.98175001, -0.63, 0.19600001, 0.53025001}},
    {"L2LossWeightedReshaped", [] { return std::make_shared<L2Loss>(LossOptions{.weight = 0.5}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{12}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.073682524, 0.89802754, 3.3606284}, Shape{3},
     {-0.053750001, 0.068312496, 0.037124999, -0.016625002, 0.111375, 0.34062499, 0.24625, -0.18824999, -0.98175001, -0.63, 0.19600001, 0.53025001}},
    {"L2LossBatchAxis1", [] { return std::make_shared<L2Loss>(LossOptions{.batch_axis = 1}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}},
     {2.8258018, 2.4951122, 0.80806535, 1.1395721}, Shape{4},
     {-0.28666669, 0.36433333, 0.198, -0.088666677, 0.29700002, 0.9083333, 0.6566667, -0.50199997, -1.309, -0.84000003, 0.26133335, 0.70700002}},
    {"L1Loss", [] { return std::make_shared<L1Loss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}},
     {0.70324999, 1.773, 2.3380001}, Shape{3},
     {-0.25, 0.25, 0.25, -0.25, 0.25, 0.25, 0.25, -0.25, -0.25, -0.25, 0.25, 0.25}},
    {"L1LossWeighted", [] { return std::make_shared<L1Loss>(LossOptions{.weight = 2.0}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.70324999, 3.546, 9.3520002}, Shape{3},
     {-0.25, 0.25, 0.25, -0.25, 0.5, 0.5, 0.5, -0.5, -1, -1, 1, 1}},
    {"SoftmaxCE", [] { return std::make_shared<SoftmaxCrossEntropyLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{0, 3, 2}, Shape{3}}},
     {1.4260283, 2.7315826, 0.73941755}, Shape{3},
     {-0.75973868, 0.64595324, 0.1000557, 0.013731974, 0.030697241, 0.3434951, 0.56069255, -0.93488383, 0.013057173, 0.046727728, -0.5226081, 0.46281976}},
    {"SoftmaxCEKeptAxisLabel", [] { return std::make_shared<SoftmaxCrossEntropyLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{0, 3, 2}, Shape{3, 1}}},
     {1.4260283, 2.7315826, 0.73941755}, Shape{3},
     {-0.75973868, 0.64595324, 0.1000557, 0.013731974, 0.030697241, 0.3434951, 0.56069255, -0.93488383, 0.013057173, 0.046727728, -0.5226081, 0.46281976}},
    {"SoftmaxCEAxis1", [] { return std::make_shared<SoftmaxCrossEntropyLoss>(SoftmaxCEOptions{.axis = 1}); },
     {{{0.397, 1.21, 1.782, 2, 1.819, 1.276, 0.478, -0.414, -1.224, -1.79, -2, -1.812}, Shape{2, 3, 2}}, {{2, 0, 1, 1}, Shape{2, 2}}},
     {1.1213396, 1.8596467}, Shape{2},
     {0.054703228, -0.38294846, 0.21852985, 0.25791091, -0.27323309, 0.12503757, 0.39487317, 0.33340502, -0.4280073, -0.41578627, 0.033134159, 0.082381263}},
    {"SoftmaxCEDense", [] { return std::make_shared<SoftmaxCrossEntropyLoss>(SoftmaxCEOptions{.sparse_label = false}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{0.424, 0.44, 0.1151, 0.021, 0.0169, 0.0354, 0.1925, 0.7552, 0.7538, 0.1939, 0.0356, 0.0168}, Shape{3, 4}}},
     {1.1519405, 2.2709687, 3.9035618}, Shape{3},
     {-0.18371467, 0.20601785, -0.015034287, -0.0072666523, 0.013797242, 0.3080951, 0.36819255, -0.69008386, -0.74074149, -0.14716761, 0.44183964, 0.44606605}},
    {"SoftmaxCEFromLogitsWeighted", [] {
       SoftmaxCEOptions o;
       o.weight = 0.7;
       o.from_logits = true;
       return std::make_shared<SoftmaxCrossEntropyLoss>(o);
     },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{0, 3, 2}, Shape{3}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {-0.33565, 0.24430001, -2.2512}, Shape{3},
     {-0.34999999, 0, 0, 0, 0, 0, 0, -0.69999999, 0, 0, -1.4, 0}},
    {"SigmoidBCE", [] { return std::make_shared<SigmoidBinaryCrossEntropyLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, Shape{3, 4}}},
     {1.2958075, 1.0290798, 0.80506837}, Shape{3},
     {-0.069269612, 0.2188071, 0.13018453, -0.21755767, -0.18761185, -0.052954566, 0.21465878, 0.10340623, 0.030037776, -0.16793139, 0.20828339, -0.042805187}},
    {"SigmoidBCEWeighted", [] { return std::make_shared<SigmoidBinaryCrossEntropyLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.64790374, 1.0290798, 1.6101367}, Shape{3},
     {-0.034634806, 0.10940355, 0.065092266, -0.10877883, -0.18761185, -0.052954566, 0.21465878, 0.10340623, 0.060075551, -0.33586279, 0.41656679, -0.085610375}},
    {"SigmoidBCEPosWeight", [] { return std::make_shared<SigmoidBinaryCrossEntropyLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}, {{1, 2, 0.5, 3}, Shape{1, 4}}},
     {1.1584029, 1.0885864, 2.3548911}, Shape{3},
     {-0.034634806, 0.10940355, 0.065092266, -0.3263365, -0.18761185, -0.10590913, 0.21465878, 0.10340622, 0.060075521, -0.67172557, 0.41656679, -0.25683111}},
    {"SigmoidBCEFromSigmoid", [] { return std::make_shared<SigmoidBinaryCrossEntropyLoss>(SigmoidBCEOptions{.from_sigmoid = true}); },
     {{{0.7229, 0.8752, 0.5207, 0.1298, 0.2496, 0.7882, 0.8586, 0.4136, 0.1202, 0.3283, 0.8331, 0.8288}, Shape{3, 4}}, {{1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, Shape{3, 4}}},
     {1.295679, 1.0289537, 0.80500627}, Shape{3},
     {-0.34582931, 2.0032048, 0.52159399, -1.9260399, -1.0016026, -0.31717837, 1.7680342, 0.42633012, 0.28415549, -0.76149863, 1.4979031, -0.30164093}},
    {"SigmoidBCEFromSigmoidPosWeight", [] { return std::make_shared<SigmoidBinaryCrossEntropyLoss>(SigmoidBCEOptions{.from_sigmoid = true}); },
     {{{0.7229, 0.8752, 0.5207, 0.1298, 0.2496, 0.7882, 0.8586, 0.4136, 0.1202, 0.3283, 0.8331, 0.8288}, Shape{3, 4}}, {{1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}, {{1, 2, 0.5, 3}, Shape{1, 4}}},
     {1.1582797, 1.0884546, 2.3547027}, Shape{3},
     {-0.17291465, 1.0016024, 0.26079699, -2.88906, -1.0016026, -0.63435674, 1.7680342, 0.42633012, 0.56831098, -3.0459945, 2.9958062, -1.8098456}},
    {"KLDiv", [] { return std::make_shared<KLDivLoss>(); },
     {{{-1.42603, -0.437028, -2.30203, -4.28803, -3.48358, -1.06858, -0.578583, -2.73158, -4.33842, -3.06342, -0.739418, -0.770418}, Shape{3, 4}}, {{0.424, 0.44, 0.1151, 0.021, 0.0169, 0.0354, 0.1925, 0.7552, 0.7538, 0.1939, 0.0356, 0.0168}, Shape{3, 4}}},
     {0.096938938, 1.5545225, 3.1850493}, Shape{3},
     {-0.42399999, -0.44, -0.1151, -0.021, -0.016899999, -0.035399999, -0.1925, -0.75520003, -0.75379997, -0.1939, -0.035599999, -0.016799999}},
    {"KLDivFromScores", [] { return std::make_shared<KLDivLoss>(KLDivOptions{.from_logits = false}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{0.424, 0.44, 0.1151, 0.021, 0.0169, 0.0354, 0.1925, 0.7552, 0.7538, 0.1939, 0.0356, 0.0168}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.048469469, 1.5545225, 6.3700986}, Shape{3},
     {-0.091857336, 0.10300893, -0.0075171436, -0.0036333262, 0.013797242, 0.3080951, 0.36819255, -0.69008386, -1.481483, -0.29433522, 0.88367927, 0.8921321}},
    {"Huber", [] { return std::make_shared<HuberLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}},
     {0.29364899, 1.2744851, 1.843832}, Shape{3},
     {-0.215, 0.25, 0.1485, -0.066500008, 0.22275001, 0.25, 0.25, -0.25, -0.25, -0.25, 0.19600001, 0.25}},
    {"HuberRho", [] {
       HuberOptions o;
       o.weight = 1.5;
       o.rho = 0.5;
       return std::make_shared<HuberLoss>(o);
     },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.35020423, 2.2844999, 6.2639999}, Shape{3},
     {-0.1875, 0.1875, 0.1875, -0.099750012, 0.375, 0.375, 0.375, -0.375, -0.75, -0.75, 0.75, 0.75}},
    {"Hinge", [] { return std::make_shared<HingeLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1, -1, -1, 1, 1, 1, -1, -1, -1, 1, -1, 1}, Shape{3, 4}}},
     {1.7437499, 1.3889999, 1.0810001}, Shape{3},
     {-0.25, 0.25, 0.25, -0.25, -0.25, -0, 0.25, 0.25, 0, -0.25, 0.25, -0}},
    {"SquaredHinge", [] { return std::make_shared<SquaredHingeLoss>(HingeOptions{.margin = 2}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1, -1, -1, 1, 1, 1, -1, -1, -1, 1, -1, 1}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {4.5303354, 6.8207531, 10.286665}, Shape{3},
     {-0.26025, 0.98699999, 0.52074999, -0.97574997, -1.5504999, -0.34299999, 1.902, 0.82550001, 0.0089999437, -2.7160001, 3.608, -0.42299998}},
    {"LogisticSigned", [] { return std::make_shared<LogisticLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1, -1, -1, 1, 1, 1, -1, -1, -1, 1, -1, 1}, Shape{3, 4}}},
     {1.2958075, 1.0290798, 0.80506837}, Shape{3},
     {-0.069269612, 0.2188071, 0.13018453, -0.21755767, -0.18761185, -0.052954566, 0.21465878, 0.10340623, 0.030037776, -0.16793139, 0.20828339, -0.042805187}},
    {"LogisticBinary", [] { return std::make_shared<LogisticLoss>(LogisticOptions{.label_format = "binary"}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.64790374, 1.0290798, 1.6101367}, Shape{3},
     {-0.034634806, 0.10940355, 0.065092266, -0.10877883, -0.18761185, -0.052954566, 0.21465878, 0.10340623, 0.060075551, -0.33586279, 0.41656679, -0.085610375}},
    {"Triplet", [] { return std::make_shared<TripletLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}, {{1, -1, -1, 1, 1, 1, -1, -1, -1, 1, -1, 1}, Shape{3, 4}}},
     {0, 2.5694284, 16.823696}, Shape{3},
     {0, 0, 0, 0, 5.9839997, 4.8219995, -1.6679997, -4.3140001, -5.8719997, -1.6079998, -3.648, 3.0880001}},
    {"TripletMargin", [] {
       HingeOptions o;
       o.weight = 0.5;
       o.margin = 3;
       return std::make_shared<TripletLoss>(o);
     },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}, {{1, -1, -1, 1, 1, 1, -1, -1, -1, 1, -1, 1}, Shape{3, 4}}},
     {0, 2.2847142, 9.4118481}, Shape{3},
     {0, 0, 0, 0, 2.9919999, 2.4109998, -0.83399987, -2.1570001, -2.9359999, -0.8039999, -1.824, 1.544}},
    {"PoissonNLL", [] { return std::make_shared<PoissonNLLLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{0, 1, 2, 3, 1, 4, 0, 2, 5, 1, 3, 2}, Shape{3, 4}}},
     {2.9151449}, Shape{1},
     {0.21742384, 0.50122041, -0.076121524, -0.23757328, -0.055621803, -0.023247659, 0.50615788, -0.10788391, -0.40528679, -0.042608071, 0.16606802, 0.23670109}},
    {"PoissonNLLRates", [] { return std::make_shared<PoissonNLLLoss>(PoissonNLLOptions{.from_logits = false}); },
     {{{1.059, 2.048, 0.183, 2.003, 1.201, 1.414, 1.904, 0.449, 2.091, 0.816, 1.708, 1.677}, Shape{3, 4}}, {{0, 1, 2, 3, 1, 4, 0, 2, 5, 1, 3, 2}, Shape{3, 4}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.68994004}, Shape{1},
     {0.041666668, 0.021321617, -0.41370672, -0.020739723, 0.013946712, -0.15240452, 0.083333336, -0.28786191, -0.23186673, -0.037581697, -0.12607338, -0.032100976}},
    {"PoissonNLLFull", [] { return std::make_shared<PoissonNLLLoss>(PoissonNLLOptions{.compute_full = true}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{2, 3, 2, 3, 4, 4, 6, 2, 5, 2, 3, 2}, Shape{3, 4}}},
     {4.0470634}, Shape{1},
     {0.05075717, 0.33455372, -0.076121524, -0.23757328, -0.3056218, -0.023247659, 0.0061578751, -0.10788391, -0.40528679, -0.12594141, 0.16606802, 0.23670109}},
    {"CosineEmbedding", [] { return std::make_shared<CosineEmbeddingLoss>(); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}, {{1, -1, 1}, Shape{3}}},
     {0.15050989, 0, 1.5361025}, Shape{3, 1},
     {-0.14070901, 0.086316496, 0.075412042, 0.020737588, -0, 0, 0, 0, -0.11003789, -0.16649318, -0.1846818, -0.026205599}},
    {"CosineEmbeddingMargin", [] { return std::make_shared<CosineEmbeddingLoss>(CosineEmbeddingOptions{.margin = 0.2}); },
     {{{0.959, 1.948, 0.083, -1.903, -1.101, 1.314, 1.804, -0.349, -1.991, -0.716, 1.608, 1.577}, Shape{3, 4}}, {{1.819, 0.855, -0.511, -1.637, -1.992, -1.411, -0.166, 1.157, 1.936, 1.804, 0.824, -0.544}, Shape{3, 4}}, {{-1, -1, 1}, Shape{3}}, {{0.5, 1, 2}, Shape{3, 1}}},
     {0.32474506, 0, 3.0722051}, Shape{3, 1},
     {0.070354506, -0.043158248, -0.037706021, -0.010368794, -0, 0, 0, 0, -0.22007577, -0.33298635, -0.36936361, -0.052411199}},

  };
  return cases;
}
// clang-format on

TEST(GluonLoss, MatchesMXNet) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto loss_fn = c.make();
    std::vector<NDArray> in = Arrays(c.inputs);
    autograd::AttachGrad(&in[0]);
    NDArray l;
    {
      autograd::RecordScope record;
      l = (*loss_fn)(in)[0];
    }
    autograd::Backward({l});
    EXPECT_EQ(l.shape(), c.loss_shape);
    testing_util::ExpectNear(Doubles(l), Doubles(c.loss), 2e-5);
    testing_util::ExpectNear(Doubles(autograd::GetGrad(in[0])), Doubles(c.grad), 2e-5);
  }
}

TEST(GluonLoss, HybridMatchesEager) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto loss_fn = c.make();
    test::ExpectHybridMatchesEager(*loss_fn, Arrays(c.inputs), {.rtol = 1e-5, .atol = 1e-5});
    EXPECT_EQ(loss_fn->num_traces(), 1u);  // the hybridized run traced the loss once
  }
}

TEST(GluonLoss, NamesAndRepr) {
  ResetBlockNames();
  EXPECT_EQ(SoftmaxCrossEntropyLoss().prefix(), "softmaxcrossentropyloss0_");
  EXPECT_EQ(SoftmaxCELoss().prefix(), "softmaxcrossentropyloss1_");
  EXPECT_EQ(SigmoidBCELoss().prefix(), "sigmoidbinarycrossentropyloss0_");
  EXPECT_EQ(KLDivLoss().prefix(), "kldivloss0_");
  EXPECT_EQ(CTCLoss().prefix(), "ctcloss0_");
  EXPECT_EQ(L2Loss().Repr(), "L2Loss(batch_axis=0, w=1.0)");
  EXPECT_EQ(L1Loss({.weight = 0.5, .batch_axis = 1}).Repr(), "L1Loss(batch_axis=1, w=0.5)");
  EXPECT_EQ(HuberLoss().Repr(), "HuberLoss(batch_axis=0, w=None)");
  EXPECT_EQ(CTCLoss({.label_layout = "TN"}).batch_axis(), 1);
}

TEST(GluonLoss, OneValuePerSampleAlongBatchAxis) {
  // (2, 3, 4) with batch_axis 1: three losses, each the mean of 8 squared differences / 2.
  const auto pred = NDArray::Zeros({2, 3, 4});
  const auto label = NDArray::FromVector(std::vector<float>(24, 2.0f), {2, 3, 4});
  const NDArray l = L2Loss({.batch_axis = 1})({pred, label})[0];
  EXPECT_EQ(l.shape(), (Shape{3}));
  testing_util::ExpectNear(Doubles(l), {2, 2, 2}, 1e-6);
  // A (batch,) loss stays as it is.
  EXPECT_EQ(L1Loss()({NDArray::Zeros({5}), NDArray::Ones({5})})[0].shape(), (Shape{5}));
}

TEST(GluonLoss, PosWeightWithoutSampleWeight) {
  // A none sample_weight leaves pos_weight alone: pos_weight 1 is the plain loss.
  const auto pred = NDArray::FromVector(std::vector<float>{0.5f, -1.0f, 2.0f, 0.1f}, {2, 2});
  const auto label = NDArray::FromVector(std::vector<float>{1, 0, 0, 1}, {2, 2});
  SigmoidBCELoss bce;
  const auto plain = Doubles(bce({pred, label})[0]);
  testing_util::ExpectNear(Doubles(bce({pred, label, NDArray(), NDArray::Ones({1, 2})})[0]), plain,
                           1e-6);
  // pos_weight 2 doubles the -log(sigmoid) of each positive label.
  std::vector<double> want;
  const std::vector<double> x{0.5, -1.0, 2.0, 0.1}, z{1, 0, 0, 1};
  for (int r = 0; r < 2; ++r) {
    double s = 0;
    for (int c = 0; c < 2; ++c) {
      const double xi = x[r * 2 + c], zi = z[r * 2 + c];
      s += 2 * zi * std::log1p(std::exp(-xi)) + (1 - zi) * std::log1p(std::exp(xi));
    }
    want.push_back(s / 2);
  }
  testing_util::ExpectNear(Doubles(bce({pred, label, NDArray(), NDArray::Full({1, 2}, 2.0)})[0]),
                           want, 1e-5);
}

TEST(GluonLoss, PoissonFullKeepsZeroCountsFinite) {
  // MXNet 1.9.1 gives NaN here (0 * log 0 times the mask); the Stirling term is 0 for t <= 1.
  const std::vector<double> x{0.3, -0.2, 1.1, 0.0}, t{0, 1, 3, 5};
  double want = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    want += std::exp(x[i]) - t[i] * x[i];
    if (t[i] > 1)
      want += t[i] * std::log(t[i]) - t[i] + 0.5 * std::log(2 * t[i] * 3.141592653589793);
  }
  want /= 4;
  const NDArray l = PoissonNLLLoss({.compute_full = true})(
      {NDArray::FromVector(std::vector<float>{0.3f, -0.2f, 1.1f, 0.0f}, {2, 2}),
       NDArray::FromVector(std::vector<float>{0, 1, 3, 5}, {2, 2})})[0];
  EXPECT_EQ(l.shape(), (Shape{1}));
  testing_util::ExpectNear(Doubles(l), {want}, 1e-5);
}

TEST(GluonLoss, ClearErrors) {
  const auto p = NDArray::Zeros({3, 4});
  EXPECT_ERROR(L2Loss()({p, NDArray::Zeros({5})}), ValueError, "L2Loss", "label has shape (5,)",
               "(3, 4)");
  EXPECT_ERROR(HingeLoss()({p}), ValueError,
               "HingeLoss: expected inputs (pred, label, [sample_weight])", "got 1");
  EXPECT_ERROR(L1Loss()({p, p, p, p}), ValueError, "L1Loss: expected inputs");
  EXPECT_ERROR(SoftmaxCELoss()({p, NDArray::Zeros({4})}), ValueError,
               "SoftmaxCrossEntropyLoss: sparse label has shape (4,)", "pred has shape (3, 4)");
  EXPECT_ERROR(SoftmaxCELoss({.axis = 2})({p, NDArray::Zeros({3})}), ValueError, "axis 2");
  EXPECT_ERROR(SoftmaxCELoss()({p, NDArray::Zeros({3}), NDArray::Ones({3})}), ValueError,
               "sample_weight of shape (3,) does not broadcast to the loss's shape (3, 1)");
  EXPECT_ERROR(TripletLoss()({p, p, NDArray::Zeros({2})}), ValueError, "negative has shape (2,)");
  EXPECT_ERROR(CosineEmbeddingLoss()({p, p, NDArray::Zeros({4})}), ValueError,
               "label has shape (4,)", "3 vectors");
  EXPECT_ERROR(LogisticLoss({.label_format = "multi"}), ValueError, "label_format", "'multi'");
  EXPECT_ERROR(HuberLoss({.rho = 0}), ValueError, "rho must be > 0");
  EXPECT_ERROR(CTCLoss({.layout = "NCT"}), ValueError, "'NTC' and 'TNC'", "'NCT'");
  EXPECT_ERROR(CTCLoss({.label_layout = "NN"}), ValueError, "'NT' and 'TN'");
}

// CTC against MXNet 1.9.1's gluon.loss.CTCLoss (blank last) on (batch 2, T 5, 4 classes).
TEST(GluonLoss, CTCLoss) {
  const std::vector<float> pv{0.2,    0.906,  1.489,  1.871,  2,     1.858,  1.464,  0.873,
                              0.163,  -0.569, -1.224, -1.713, -1.97, -1.961, -1.686, -1.183,
                              -0.52,  0.213,  0.918,  1.498,  1.876, 2,      1.853,  1.455,
                              0.861,  0.149,  -0.582, -1.234, -1.72, -1.973, -1.958, -1.679,
                              -1.172, -0.507, 0.227,  0.93,   1.507, 1.881,  1.999,  1.848};
  const auto pred = NDArray::FromVector(pv, {2, 5, 4});
  const auto label = NDArray::FromVector(std::vector<float>{0, 1, 2, 1, 1, -1}, {2, 3});
  testing_util::ExpectNear(Doubles(CTCLoss()({pred, label})[0]), {3.5081129, 4.2738814}, 1e-4);
  const auto pl = NDArray::FromVector(std::vector<float>{5, 4}, {2});
  const auto ll = NDArray::FromVector(std::vector<float>{3, 2}, {2});
  testing_util::ExpectNear(Doubles(CTCLoss()({pred, label, pl, ll})[0]), {3.5081129, 4.7945571},
                           1e-4);
  const NDArray tnc = op::Invoke("SwapAxis", {pred}, {{"dim1", "0"}, {"dim2", "1"}})[0];
  const NDArray tn = op::Invoke("transpose", {label})[0];
  CTCLoss time_major({.layout = "TNC", .label_layout = "TN"});
  testing_util::ExpectNear(Doubles(time_major({tnc, tn})[0]), {3.5081129, 4.2738814}, 1e-4);
  test::ExpectHybridMatchesEager(time_major, {tnc, tn});
}

}  // namespace
}  // namespace mixnet::gluon::loss
