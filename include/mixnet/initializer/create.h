/*!
 * \file create.h
 * \brief Initializers by MXNet's registered names (mx.init.create): what a layer's
 * weight_initializer='xavier', an Initializer's dumps() and a variable's __init__ attribute
 * name.
 *
 *   auto xavier = init::CreateInitializer("xavier", {{"magnitude", "2.24"}});
 *   auto same = init::InitializerFromJSON(R"(["xavier", {"magnitude": 2.24}])");
 */
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "mixnet/initializer/initializer.h"

namespace mixnet::init {

/*!
 * \brief The initializer registered as `name` in MXNet (case-insensitive; "zeros"/"ones"
 * too): zero, one, constant, uniform, normal, xavier, msraprelu, orthogonal, bilinear,
 * lstmbias, with keyword arguments by MXNet's names (values as text; missing ones take
 * MXNet's defaults). NotImplementedError for another name, listing these; ValueError for a
 * number that does not parse.
 */
InitializerPtr CreateInitializer(std::string_view name,
                                 const std::map<std::string, std::string>& kwargs = {});

/*!
 * \brief From MXNet's JSON form '["xavier", {"magnitude": 2.24}]' (Initializer.dumps(), a
 * symbol variable's __init__ attribute), or a bare name ("zeros"). ValueError for malformed
 * text, as CreateInitializer otherwise.
 */
InitializerPtr InitializerFromJSON(std::string_view text);

}  // namespace mixnet::init
