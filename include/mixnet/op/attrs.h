/*!
 * \file attrs.h
 * \brief Operator attributes as MXNet writes them: names to strings, in order.
 */
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mixnet::op {

/*! \brief {"kernel": "(3, 3)", "num_filter": "64"}: the order is kept for JSON round trips. */
using AttrDict = std::vector<std::pair<std::string, std::string>>;

}  // namespace mixnet::op
