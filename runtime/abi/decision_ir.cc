// SPDX-License-Identifier: Apache-2.0
// Names of services and methods in the decision IR.
#include "runtime/abi/decision_ir.h"

#include <array>

namespace hoody::ir {
namespace {

constexpr std::array<std::string_view, kServiceCount> kServiceNames = {
    "http", "exec",    "pipe",  "tunnel",  "terminal", "files", "sqlite", "display",
    "code", "browser", "agent", "cron",    "daemons",  "curl",  "ssh"};

constexpr std::array<std::string_view, kMethodCount> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "OTHER"};

}  // namespace

std::optional<Service> serviceFromName(std::string_view name) {
  for (size_t i = 0; i < kServiceNames.size(); ++i) {
    if (kServiceNames[i] == name) return static_cast<Service>(i);
  }
  return std::nullopt;
}

std::string_view serviceName(Service s) { return kServiceNames[static_cast<size_t>(s)]; }

Method methodFromToken(std::string_view token) {
  for (size_t i = 0; i + 1 < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == token) return static_cast<Method>(i);
  }
  return Method::Other;
}

std::optional<Method> methodFromName(std::string_view name) {
  for (size_t i = 0; i + 1 < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  return std::nullopt;
}

std::string_view methodName(Method m) { return kMethodNames[static_cast<size_t>(m)]; }

}  // namespace hoody::ir
