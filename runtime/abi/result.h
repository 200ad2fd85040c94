// SPDX-License-Identifier: Apache-2.0
// Result<T>: the error channel for operational failures across module
// boundaries.
//
// The API follows std::expected (C++23) so the alias can move to it later. An
// Error keeps its message in the value, so callers can show it to the user.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hoody {

struct Error {
  std::string code;     ///< Stable machine-readable code, e.g. "io-error".
  std::string message;  ///< One line for a person, lowercase, no period.

  std::string str() const { return code.empty() ? message : code + ": " + message; }
};

template <typename E>
struct Unexpected {
  E error;
};

inline Unexpected<Error> makeError(std::string code, std::string message) {
  return {Error{std::move(code), std::move(message)}};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
  Result(Unexpected<Error> e) : storage_(std::in_place_index<1>, std::move(e.error)) {}

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(storage_); }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected<Error> e) : error_(std::move(e.error)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace hoody

/// Propagates the error of a Result-returning expression to the caller.
#define HOODY_TRY(expr)                                     \
  do {                                                      \
    auto hoody_try_result_ = (expr);                        \
    if (!hoody_try_result_) {                               \
      return ::hoody::Unexpected<::hoody::Error>{hoody_try_result_.error()}; \
    }                                                       \
  } while (0)
