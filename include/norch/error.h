// norch/error.h — the one exception type of the core and the checks that raise it.
// Depends on nothing. The binding layer maps ErrorKind to the Python exception
// PyTorch raises (RuntimeError, TypeError, IndexError, ValueError, NotImplementedError).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace norch {

enum class ErrorKind { Runtime, Type, Index, Value, NotImplemented };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest);
template <typename T>
void append_one(std::ostringstream& os, const std::vector<T>& v) {
  os << '(';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  if (v.size() == 1) os << ',';
  os << ')';
}
template <typename T>
void append_one(std::ostringstream& os, const T& v) { os << v; }
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  append_one(os, v);
  append(os, rest...);
}
}  // namespace detail

// str(...) concatenates its arguments; vectors print as Python tuples, so shapes
// in messages read like PyTorch's: "shapes (2, 3) and (4,)".
template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

}  // namespace norch

#define NORCH_CHECK_KIND(kind, cond, ...)                              \
  do {                                                                \
    if (!(cond)) throw ::norch::Error(kind, ::norch::str(__VA_ARGS__)); \
  } while (0)
#define NORCH_CHECK(cond, ...) NORCH_CHECK_KIND(::norch::ErrorKind::Runtime, cond, __VA_ARGS__)
#define NORCH_CHECK_TYPE(cond, ...) NORCH_CHECK_KIND(::norch::ErrorKind::Type, cond, __VA_ARGS__)
#define NORCH_CHECK_INDEX(cond, ...) NORCH_CHECK_KIND(::norch::ErrorKind::Index, cond, __VA_ARGS__)
#define NORCH_CHECK_VALUE(cond, ...) NORCH_CHECK_KIND(::norch::ErrorKind::Value, cond, __VA_ARGS__)
#define NORCH_ERROR(...) throw ::norch::Error(::norch::ErrorKind::Runtime, ::norch::str(__VA_ARGS__))
#define NORCH_NOT_IMPLEMENTED(...) \
  throw ::norch::Error(::norch::ErrorKind::NotImplemented, ::norch::str(__VA_ARGS__))
