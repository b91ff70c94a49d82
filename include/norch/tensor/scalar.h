// norch/tensor/scalar.h — a Python number on its way into an op (bool, int or float).
#pragma once
#include <cstdint>
#include <ostream>

#include "norch/tensor/dtype.h"
#include "norch/tensor/value_cast.h"

namespace norch {

class Scalar {
 public:
  enum class Kind : int8_t { Bool, Int, Float };
  Scalar() : kind_(Kind::Int), i_(0) {}
  Scalar(bool v) : kind_(Kind::Bool), i_(v) {}
  Scalar(int v) : kind_(Kind::Int), i_(v) {}
  Scalar(int64_t v) : kind_(Kind::Int), i_(v) {}
  Scalar(long long v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)) {}
  Scalar(double v) : kind_(Kind::Float), d_(v) {}
  Scalar(float v) : kind_(Kind::Float), d_(v) {}

  Kind kind() const { return kind_; }
  bool is_floating_point() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  double to_double() const { return kind_ == Kind::Float ? d_ : static_cast<double>(i_); }
  int64_t to_int() const { return kind_ == Kind::Float ? value_cast<int64_t>(d_) : i_; }
  template <typename T>
  T to() const {
    if (kind_ == Kind::Float) return value_cast<T>(d_);
    return value_cast<T>(i_);
  }
  // Whether the value converts to T without overflow, by PyTorch's rule (value_cast.h).
  template <typename T>
  bool fits() const {
    if (kind_ == Kind::Float) return scalar_fits_double<T>(d_);
    return scalar_fits_int<T>(i_);
  }
  // The dtype a bare Python number takes when it becomes a tensor.
  ScalarType natural_dtype() const {
    return kind_ == Kind::Float ? default_dtype() : kind_ == Kind::Int ? ScalarType::Int64 : ScalarType::Bool;
  }
  Scalar operator-() const { return kind_ == Kind::Float ? Scalar(-d_) : Scalar(-i_); }

 private:
  Kind kind_;
  union {
    int64_t i_;
    double d_;
  };
};

inline std::ostream& operator<<(std::ostream& os, const Scalar& s) {
  if (s.is_floating_point()) return os << s.to_double();
  if (s.is_bool()) return os << (s.to_int() ? "True" : "False");
  return os << s.to_int();
}

}  // namespace norch
