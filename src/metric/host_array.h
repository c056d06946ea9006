// Host copies of metric inputs and the shape checks every metric shares.
#pragma once

#include <string>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/ndarray/ndarray.h"

namespace mixnet::metric {

/*! \brief An array's values as float64 on the host, with its shape. */
struct HostArray {
  Shape shape;
  std::vector<double> data;
};

HostArray ToHost(const NDArray& a);

/*! \brief MXNet's check_label_shapes on lists: as many labels as predictions. */
void CheckCount(const std::string& metric, const std::vector<NDArray>& labels,
                const std::vector<NDArray>& preds);

/*! \brief Raises ValueError naming the metric and both shapes unless `ok`. */
void CheckShapes(bool ok, const std::string& metric, const Shape& label, const Shape& pred);

}  // namespace mixnet::metric
