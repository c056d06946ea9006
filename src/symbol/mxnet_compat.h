// MXNet 1.x conventions shared by the Symbol API (symbol.cc) and the JSON loader (json.cc).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "symbol/node.h"

namespace mixnet::sym {

/*!
 * \brief MXNet's kHiddenKeys: attributes that MXNet also accepts (and old files store) without
 * the double underscores: `ctx_group` means `__ctx_group__`.
 */
inline constexpr std::array<std::string_view, 5> kHiddenKeys = {"ctx_group", "lr_mult", "wd_mult",
                                                                "force_mirroring", "mirror_stage"};

/*!
 * \brief MXNet's FSetInputVarAttrOnCompose: gives the variables feeding `node` the `__init__`
 * its op wants for them (BatchNorm's moving_mean `["zero", {}]`, moving_var `["one", {}]`,
 * LeakyReLU's prelu gamma 0.25) unless they have one. Edits those variable nodes.
 */
void SetInputVariableAttrs(const Node& node);

/*!
 * \brief The number of outputs MXNet 1.9.1 gives `n`'s op, hidden ones included (BatchNorm: 3);
 * node_row_ptr in symbol JSON counts them. NOTE [ MXNet's hidden outputs ] in symbol.cc.
 */
uint32_t MXNetOutputCount(const Node& n);

}  // namespace mixnet::sym
