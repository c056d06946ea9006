/*!
 * \file initializer.h
 * \brief Parameter initializers with MXNet 1.x semantics (mx.init / mx.initializer).
 *
 *   mx::init::Xavier xavier("gaussian", "in", 2.0);
 *   xavier("fc1_weight", &w);  // Xavier draw
 *   xavier("fc1_bias", &b);    // zeros (the name decides, as in MXNet)
 *
 * Calling an initializer with a parameter name follows MXNet's Initializer.__call__ for a
 * plain name: names starting with "upsampling" get the bilinear kernel, "stn_loc*weight" zero
 * and "stn_loc*bias" the identity transform; otherwise the suffix decides: "bias" zero, "gamma"
 * one, "beta" zero, "weight" the initializer's own rule, "moving_mean" zero, "moving_var" one,
 * "moving_inv_var" zero, "moving_avg" zero, and any other name is a ValueError naming it.
 *
 * Random initializers run the registered `_random_uniform` / `_random_normal` ops into the
 * array, so op::SeedRandom makes them reproducible. Writes are asynchronous like any op.
 */
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "mixnet/ndarray/ndarray.h"

namespace mixnet::init {

/*! \brief Base class: name-based dispatch; subclasses give the weight rule. */
class Initializer {
 public:
  virtual ~Initializer() = default;
  /*! \brief Initializes `arr` (in place) as the parameter called `name`. */
  virtual void operator()(const std::string& name, NDArray* arr) const;
  /*! \brief Short description with the arguments, e.g. "Uniform(scale=0.07)". */
  virtual std::string ToString() const = 0;
  /*!
   * \brief The initializer's own rule, whatever the name: used for names ending in "weight",
   * and what MXNet applies to a variable given its own initializer (the `__init__` attribute,
   * e.g. LSTMBias on an LSTM cell's i2h_bias).
   */
  virtual void InitWeight(const std::string& name, const NDArray& arr) const = 0;

 protected:
  virtual void InitBias(const std::string& name, const NDArray& arr) const;
  virtual void InitGamma(const std::string& name, const NDArray& arr) const;
  virtual void InitBeta(const std::string& name, const NDArray& arr) const;
};

using InitializerPtr = std::shared_ptr<const Initializer>;

/*! \brief Weights to 0. */
class Zero : public Initializer {
 public:
  std::string ToString() const override { return "Zero()"; }
  void InitWeight(const std::string& name, const NDArray& arr) const override;
};

/*! \brief Weights to 1. */
class One : public Initializer {
 public:
  std::string ToString() const override { return "One()"; }
  void InitWeight(const std::string& name, const NDArray& arr) const override;
};

/*! \brief Weights to a scalar, or copied from an array of the same shape. */
class Constant : public Initializer {
 public:
  explicit Constant(double value) : value_(value) {}
  explicit Constant(NDArray value) : array_(std::move(value)) {}
  std::string ToString() const override;
  void InitWeight(const std::string& name, const NDArray& arr) const override;

 private:
  double value_ = 0;
  NDArray array_;  // none when the value is a scalar
};

/*! \brief Weights from U(-scale, scale). */
class Uniform : public Initializer {
 public:
  explicit Uniform(double scale = 0.07) : scale_(scale) {}
  std::string ToString() const override;
  void InitWeight(const std::string& name, const NDArray& arr) const override;

 private:
  double scale_;
};

/*! \brief Weights from N(0, sigma²). */
class Normal : public Initializer {
 public:
  explicit Normal(double sigma = 0.01) : sigma_(sigma) {}
  std::string ToString() const override;
  void InitWeight(const std::string& name, const NDArray& arr) const override;

 private:
  double sigma_;
};

/*!
 * \brief Xavier/Glorot. With fan_in = shape[1] * prod(shape[2:]) and fan_out = shape[0] *
 * prod(shape[2:]), factor is their mean ("avg"), fan_in ("in") or fan_out ("out"), and weights
 * come from U(-s, s) ("uniform") or N(0, s²) ("gaussian") with s = sqrt(magnitude / factor).
 * Needs weights of at least 2 dimensions.
 */
class Xavier : public Initializer {
 public:
  explicit Xavier(std::string rnd_type = "uniform", std::string factor_type = "avg",
                  double magnitude = 3);
  std::string ToString() const override;
  /*! \brief The s above for a weight of `shape` (ValueError below 2 dimensions). */
  double Scale(const std::string& name, const Shape& shape) const;
  void InitWeight(const std::string& name, const NDArray& arr) const override;
  std::string rnd_type_, factor_type_;
  double magnitude_;
};

/*! \brief He/MSRA: Xavier gaussian with magnitude 2 / (1 + slope²). */
class MSRAPrelu : public Xavier {
 public:
  explicit MSRAPrelu(std::string factor_type = "avg", double slope = 0.25);
  std::string ToString() const override;

 private:
  double slope_;
};

/*!
 * \brief Orthogonal weights: a random (shape[0], prod(shape[1:])) matrix from U(-1, 1)
 * ("uniform") or N(0, 1) ("normal") is orthonormalised (QR in double on the host) along its
 * shorter side — orthonormal rows when shape[0] <= prod(shape[1:]), else orthonormal columns,
 * as MXNet's SVD choice gives — and multiplied by scale.
 */
class Orthogonal : public Initializer {
 public:
  explicit Orthogonal(double scale = 1.414, std::string rand_type = "uniform");
  std::string ToString() const override;
  void InitWeight(const std::string& name, const NDArray& arr) const override;

 private:
  double scale_;
  std::string rand_type_;
};

/*!
 * \brief The bilinear upsampling kernel for 4-D weights (Deconvolution): with f =
 * ceil(shape[3] / 2) and c = (2f - 1 - f % 2) / (2f), element i is (1 - |x/f - c|)(1 - |y/f -
 * c|) where x = i % shape[3] and y = (i / shape[3]) % shape[2].
 */
class Bilinear : public Initializer {
 public:
  std::string ToString() const override { return "Bilinear()"; }
  /*! \brief The kernel (in row-major order) for a 4-D `shape`. */
  static std::vector<double> Kernel(const std::string& name, const Shape& shape);
  void InitWeight(const std::string& name, const NDArray& arr) const override;
};

/*!
 * \brief LSTM bias: zero except the forget gate's quarter [n, 2n) (n = shape[0] / 4, gate
 * order i, f, c, o), set to forget_bias. Apply it to a bias with InitWeight (as MXNet does for a
 * variable's own initializer); called with a name ending in "bias" it gives zeros, as in MXNet.
 */
class LSTMBias : public Initializer {
 public:
  explicit LSTMBias(double forget_bias = 1.0) : forget_bias_(forget_bias) {}
  std::string ToString() const override;
  void InitWeight(const std::string& name, const NDArray& arr) const override;

 private:
  double forget_bias_;
};

/*!
 * \brief Several initializers by name: the first pattern (ECMAScript regex, matched at the start
 * of the name as Python's re.match) that matches picks the initializer; no match is a
 * ValueError. Patterns are compiled once (ValueError naming a bad one). operator() calls the
 * chosen initializer by name (its name rules apply), InitWeight applies its own rule.
 */
class Mixed : public Initializer {
 public:
  Mixed(const std::vector<std::string>& patterns, std::vector<InitializerPtr> initializers);
  void operator()(const std::string& name, NDArray* arr) const override;
  std::string ToString() const override;
  void InitWeight(const std::string& name, const NDArray& arr) const override;

 private:
  const Initializer& Find(const std::string& name) const;
  std::vector<std::string> patterns_;
  std::vector<std::regex> regexes_;
  std::vector<InitializerPtr> initializers_;
};

}  // namespace mixnet::init
