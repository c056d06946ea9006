// Typed operator parameters parsed from MXNet's string attributes.
//
// An op's parameter struct declares its fields once:
//
//   struct LeakyReLUParam {
//     int act_type = 0;
//     double slope = 0.25;
//     static void Declare(ParamDecl<LeakyReLUParam>& d) {
//       d.Field("act_type", &LeakyReLUParam::act_type)
//           .Enum({"leaky", "prelu", "elu", "selu", "gelu"}).Default("leaky")
//           .Doc("Activation function to be applied.");
//       d.Field("slope", &LeakyReLUParam::slope).Default(0.25).Lower(0).Doc("...");
//     }
//   };
//
// ParamParserFor<P>() then parses {"act_type": "elu"} (MXNet syntax: "(3, 3)", "True", "None",
// "1e-5"), applies defaults, checks ranges and names the op, the argument and the value in
// every error; an unknown argument name is reported with the nearest valid names.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mixnet/base/error.h"
#include "mixnet/op/attrs.h"

namespace mixnet::op {

/*! \brief Up to three names from `candidates` closest to `name` (edit distance), or none. */
std::vector<std::string> NearestNames(std::string_view name,
                                      const std::vector<std::string>& candidates);
/*! \brief " (did you mean 'a' or 'b'?)" for the names above, or "". */
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

/*! \brief String <-> value conversions in MXNet's attribute syntax, per field type. */
template <typename T>
struct ValueCodec;

template <>
struct ValueCodec<bool> {
  static const char* TypeName() { return "boolean"; }
  static bool Parse(std::string_view s);
  static std::string Print(bool v) { return v ? "True" : "False"; }
};
template <>
struct ValueCodec<int64_t> {
  static const char* TypeName() { return "int"; }
  static int64_t Parse(std::string_view s);
  static std::string Print(int64_t v) { return std::to_string(v); }
};
template <>
struct ValueCodec<int> {
  static const char* TypeName() { return "int"; }
  static int Parse(std::string_view s);
  static std::string Print(int v) { return std::to_string(v); }
};
template <>
struct ValueCodec<double> {
  static const char* TypeName() { return "float"; }
  static double Parse(std::string_view s);
  static std::string Print(double v);
};
template <>
struct ValueCodec<std::string> {
  static const char* TypeName() { return "string"; }
  static std::string Parse(std::string_view s) { return std::string(s); }
  static std::string Print(const std::string& v) { return v; }
};
/*! \brief A tuple of ints, "(3, 3)"; a single "3" is the tuple (3,). */
template <>
struct ValueCodec<std::vector<int64_t>> {
  static const char* TypeName() { return "tuple of int"; }
  static std::vector<int64_t> Parse(std::string_view s);
  static std::string Print(const std::vector<int64_t>& v);
};
/*! \brief A tuple of floats, "(0.1, 0.01)"; a single "0.1" is the tuple (0.1,). */
template <>
struct ValueCodec<std::vector<double>> {
  static const char* TypeName() { return "tuple of float"; }
  static std::vector<double> Parse(std::string_view s);
  static std::string Print(const std::vector<double>& v);
};
/*! \brief "None" or a value. */
template <typename T>
struct ValueCodec<std::optional<T>> {
  static std::string TypeName() { return std::string(ValueCodec<T>::TypeName()) + " or None"; }
  static std::optional<T> Parse(std::string_view s) {
    if (s == "None" || s == "none") return std::nullopt;
    return ValueCodec<T>::Parse(s);
  }
  static std::string Print(const std::optional<T>& v) {
    return v ? ValueCodec<T>::Print(*v) : "None";
  }
};

/*! \brief What the registry and docs know about one field. */
struct FieldInfo {
  std::string name;
  std::string type_name;  // "int", "float", "tuple of int", "{'relu', 'sigmoid'}", ...
  std::optional<std::string> default_value;  // printed; none means required
  std::string doc;
};

/*! \brief Type-erased parser for one parameter struct. */
class ParamParser {
 public:
  virtual ~ParamParser() = default;
  /*! \brief Parses `attrs` for op `op_name` into a new parameter struct. */
  virtual std::shared_ptr<const void> Parse(const AttrDict& attrs,
                                            std::string_view op_name) const = 0;
  /*! \brief Every field's value in canonical MXNet syntax (for JSON and docs). */
  virtual AttrDict Print(const void* param) const = 0;
  virtual const std::vector<FieldInfo>& Fields() const = 0;
};

template <typename P>
class ParamDecl;

namespace detail {
/*! \brief One declared field: parse, print, default, checks. */
template <typename P>
struct FieldOps {
  FieldInfo info;
  std::function<void(P*, std::string_view)> parse;  // throws a reason (std::string)
  std::function<std::string(const P&)> print;
  std::function<void(P*)> set_default;
  std::function<std::optional<std::string>(const P&)> check;  // range violation text
};
}  // namespace detail

/*! \brief Builder returned by ParamDecl::Field: default, range, enum and doc of one field. */
template <typename P, typename T>
class FieldBuilder {
 public:
  FieldBuilder(detail::FieldOps<P>* ops, T P::*member) : ops_(ops), member_(member) {}

  /*! \brief Default value; a field without one is required. */
  FieldBuilder& Default(T v) {
    ops_->set_default = [m = member_, v](P* p) { p->*m = v; };
    if constexpr (std::is_same_v<T, int>) {
      if (!enum_names_.empty()) {
        ops_->info.default_value = "'" + enum_names_.at(static_cast<size_t>(v)) + "'";
        return *this;
      }
    }
    ops_->info.default_value = ValueCodec<T>::Print(v);
    return *this;
  }
  /*! \brief For enum fields (after Enum): the default by name. */
  FieldBuilder& Default(const char* name) requires std::is_same_v<T, int> {
    for (size_t i = 0; i < enum_names_.size(); ++i) {
      if (enum_names_[i] == name) return Default(static_cast<int>(i));
    }
    MX_THROW(InternalError) << "default '" << name << "' is not among the enum's names";
  }
  FieldBuilder& Lower(T lo) {
    return AddCheck([m = member_, lo](const P& p) -> std::optional<std::string> {
      if (p.*m < lo) return "must be >= " + ValueCodec<T>::Print(lo);
      return std::nullopt;
    });
  }
  FieldBuilder& Range(T lo, T hi) {
    return AddCheck([m = member_, lo, hi](const P& p) -> std::optional<std::string> {
      if (p.*m < lo || p.*m > hi) {
        return "must be in [" + ValueCodec<T>::Print(lo) + ", " + ValueCodec<T>::Print(hi) + "]";
      }
      return std::nullopt;
    });
  }
  /*! \brief An int field that takes one of `names` ("relu" -> its index). */
  FieldBuilder& Enum(std::vector<std::string> names) {
    static_assert(std::is_same_v<T, int>, "Enum needs an int field");
    enum_names_ = names;
    std::string type = "{";
    for (size_t i = 0; i < names.size(); ++i)
      type += (i ? ", '" : "'") + names[i] + "'";
    ops_->info.type_name = type + "}";
    ops_->parse = [m = member_, names](P* p, std::string_view s) {
      std::string_view v = s;
      if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) {
        v = v.substr(1, v.size() - 2);
      }
      for (size_t i = 0; i < names.size(); ++i) {
        if (v == names[i]) {
          p->*m = static_cast<int>(i);
          return;
        }
      }
      throw std::string("expected one of ") + JoinQuoted(names) + DidYouMean(v, names);
    };
    ops_->print = [m = member_, names](const P& p) { return names.at(static_cast<size_t>(p.*m)); };
    return *this;
  }
  FieldBuilder& Doc(std::string doc) {
    ops_->info.doc = std::move(doc);
    return *this;
  }

 private:
  static std::string JoinQuoted(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
      out += (i ? ", '" : "'") + names[i] + "'";
    return out;
  }
  FieldBuilder& AddCheck(std::function<std::optional<std::string>(const P&)> c) {
    auto prev = std::move(ops_->check);
    ops_->check = [prev, c](const P& p) -> std::optional<std::string> {
      if (prev) {
        if (auto r = prev(p)) return r;
      }
      return c(p);
    };
    return *this;
  }

  detail::FieldOps<P>* ops_;
  T P::*member_;
  std::vector<std::string> enum_names_;
};

/*! \brief Collects the fields of parameter struct P (see P::Declare). */
template <typename P>
class ParamDecl {
 public:
  template <typename T>
  FieldBuilder<P, T> Field(const char* name, T P::*member) {
    auto& ops = fields_.emplace_back();
    ops.info.name = name;
    ops.info.type_name = TypeNameOf<T>();
    ops.parse = [member](P* p, std::string_view s) { p->*member = ValueCodec<T>::Parse(s); };
    ops.print = [member](const P& p) { return ValueCodec<T>::Print(p.*member); };
    return FieldBuilder<P, T>(&ops, member);
  }
  std::vector<detail::FieldOps<P>>& fields() { return fields_; }

 private:
  template <typename T>
  static std::string TypeNameOf() {
    return std::string(ValueCodec<T>::TypeName());
  }
  // Fields are appended while builders point into the list: reserve so they never move.
  std::vector<detail::FieldOps<P>> fields_ = [] {
    std::vector<detail::FieldOps<P>> v;
    v.reserve(64);
    return v;
  }();
};

namespace detail {
/*! \brief Shared by all parsers: unknown names, missing required fields, hidden attributes. */
[[noreturn]] void ThrowBadValue(std::string_view op, const FieldInfo& f, std::string_view value,
                                const std::string& reason);
[[noreturn]] void ThrowUnknownArgument(std::string_view op, std::string_view name,
                                       const std::vector<std::string>& valid);
[[noreturn]] void ThrowMissing(std::string_view op, const FieldInfo& f);
/*! \brief MXNet's hidden attributes ("__lr_mult__") belong to the graph, not to the op. */
inline bool IsHiddenAttr(std::string_view name) {
  return name.size() > 4 && name.starts_with("__") && name.ends_with("__");
}

template <typename P>
class TypedParamParser final : public ParamParser {
 public:
  TypedParamParser() {
    ParamDecl<P> decl;
    P::Declare(decl);
    fields_ = std::move(decl.fields());
    for (const auto& f : fields_) {
      infos_.push_back(f.info);
      names_.push_back(f.info.name);
    }
  }
  std::shared_ptr<const void> Parse(const AttrDict& attrs, std::string_view op) const override {
    auto p = std::make_shared<P>();
    std::vector<bool> seen(fields_.size(), false);
    for (const auto& [key, value] : attrs) {
      size_t i = 0;
      while (i < fields_.size() && fields_[i].info.name != key)
        ++i;
      if (i == fields_.size()) {
        if (IsHiddenAttr(key)) continue;
        ThrowUnknownArgument(op, key, names_);
      }
      try {
        fields_[i].parse(p.get(), value);
      } catch (const std::string& reason) {
        ThrowBadValue(op, fields_[i].info, value, reason);
      } catch (const Error& e) {
        ThrowBadValue(op, fields_[i].info, value, e.what());
      }
      seen[i] = true;
    }
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (!seen[i]) {
        if (!fields_[i].set_default) ThrowMissing(op, fields_[i].info);
        fields_[i].set_default(p.get());
      }
      if (fields_[i].check) {
        if (auto why = fields_[i].check(*p)) {
          ThrowBadValue(op, fields_[i].info, fields_[i].print(*p), *why);
        }
      }
    }
    return p;
  }
  AttrDict Print(const void* param) const override {
    AttrDict out;
    for (const auto& f : fields_) {
      out.emplace_back(f.info.name, f.print(*static_cast<const P*>(param)));
    }
    return out;
  }
  const std::vector<FieldInfo>& Fields() const override { return infos_; }

 private:
  std::vector<FieldOps<P>> fields_;
  std::vector<FieldInfo> infos_;
  std::vector<std::string> names_;
};
}  // namespace detail

/*! \brief The one parser of P (built on first use). */
template <typename P>
const ParamParser& ParamParserFor() {
  static const detail::TypedParamParser<P> parser;
  return parser;
}

/*! \brief Parameter struct of ops without parameters. */
struct NoParam {
  static void Declare(ParamDecl<NoParam>&) {}
};

}  // namespace mixnet::op
