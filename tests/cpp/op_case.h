// One registered op's sample, as a gtest parameter (the registry-wide suites).
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>

#include "operator/op_def.h"

namespace mixnet::op {

struct Case {
  const OpDef* op;
  size_t sample;
};

inline void PrintTo(const Case& c, std::ostream* os) {
  *os << c.op->name << " sample " << c.sample;
}

/*! \brief "opname_sample" with non-alphanumerics as '_', for test names. */
inline std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.op->name + "_" + std::to_string(info.param.sample);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace mixnet::op
