// Initializers by MXNet's registered names (mx.init.create) and from their JSON form.
#include "mixnet/initializer/create.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

#include "mixnet/base/error.h"

namespace mixnet::init {

InitializerPtr CreateInitializer(std::string_view name_in,
                                 const std::map<std::string, std::string>& kwargs) {
  std::string name(name_in);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto num = [&](const char* key, double fallback) {
    auto it = kwargs.find(key);
    if (it == kwargs.end()) return fallback;
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    MX_CHECK(end != it->second.c_str() && *end == '\0', ValueError)
        << "initializer '" << name << "': argument '" << key << "' is not a number: '" << it->second
        << "'";
    return v;
  };
  auto str = [&](const char* key, const char* fallback) {
    auto it = kwargs.find(key);
    return it == kwargs.end() ? std::string(fallback) : it->second;
  };
  if (name == "zero" || name == "zeros") return std::make_shared<Zero>();
  if (name == "one" || name == "ones") return std::make_shared<One>();
  if (name == "constant") return std::make_shared<Constant>(num("value", 0));
  if (name == "uniform") return std::make_shared<Uniform>(num("scale", 0.07));
  if (name == "normal") return std::make_shared<Normal>(num("sigma", 0.01));
  if (name == "xavier") {
    return std::make_shared<Xavier>(str("rnd_type", "uniform"), str("factor_type", "avg"),
                                    num("magnitude", 3));
  }
  if (name == "msraprelu") {
    return std::make_shared<MSRAPrelu>(str("factor_type", "avg"), num("slope", 0.25));
  }
  if (name == "orthogonal") {
    return std::make_shared<Orthogonal>(num("scale", 1.414), str("rand_type", "uniform"));
  }
  if (name == "bilinear") return std::make_shared<Bilinear>();
  if (name == "lstmbias") return std::make_shared<LSTMBias>(num("forget_bias", 1.0));
  MX_THROW(NotImplementedError) << "initializer '" << std::string(name_in)
                                << "' is not one mixnet can create by name (zero, one, "
                                   "constant, uniform, normal, xavier, msraprelu, orthogonal, "
                                   "bilinear, lstmbias)";
}

InitializerPtr InitializerFromJSON(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    // A bare registered name ("zeros", as MXNet writes some __init__ attributes).
    const bool word = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    MX_CHECK(word, ValueError) << "initializer '" << std::string(text)
                               << "' is not JSON: " << e.what();
    return CreateInitializer(text);
  }
  MX_CHECK(j.is_array() && j.size() == 2 && j[0].is_string() && j[1].is_object(), ValueError)
      << "initializer '" << std::string(text) << "': expected [\"initializer name\", {arguments}]";
  std::map<std::string, std::string> kwargs;
  for (const auto& [k, v] : j[1].items())
    kwargs[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return CreateInitializer(j[0].get<std::string>(), kwargs);
}

}  // namespace mixnet::init
