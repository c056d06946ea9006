/*!
 * \file op_info.h
 * \brief What the registry says about each op, for generating bindings and docs (the typed C++
 * functions of mixnet/op/ops.h, Python's mx.nd/mx.sym functions, a C API's listing).
 */
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mixnet::op {

/*! \brief One parameter of an op, as MXNet documents it. */
struct ParamInfo {
  std::string name;
  /*! \brief "int", "float", "boolean", "tuple of int", "string", "{'relu', 'tanh'}", with
   * " or None" when None is accepted. */
  std::string type;
  /*! \brief The default in MXNet's syntax; none: the parameter is required. */
  std::optional<std::string> default_value;
  std::string doc;
};

/*! \brief An op's public description. */
struct OpInfo {
  std::string name;
  std::vector<std::string> aliases;
  std::string doc;
  /*!
   * \brief Inputs as generated functions take them: "data"; "bias?" optional (left out when
   * none is given); "*data" any number (the op's num_args, if it has one, is their count).
   */
  std::vector<std::string> inputs;
  std::vector<ParamInfo> params;
  /*! \brief Output names when they do not depend on the params; else empty. */
  std::vector<std::string> outputs;
  /*! \brief Outputs a call returns when they do not depend on the params (hidden outputs such
   * as Dropout's mask not counted); 0 when they do. */
  int num_visible_outputs = 0;
};

struct OpDef;
/*! \brief How many of an op call's `num_outputs` outputs the caller sees: the first ones
 * (Dropout's mask and BatchNorm's saved statistics are hidden, as in MXNet). */
int NumVisibleOutputs(const OpDef* op, int num_outputs);

/*! \brief The description of op `name` (or an alias); ValueError if there is none. */
OpInfo GetOpInfo(const std::string& name);
/*! \brief Every registered op, sorted by name. */
std::vector<OpInfo> ListOpInfo();

}  // namespace mixnet::op
