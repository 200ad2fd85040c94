// SPDX-License-Identifier: Apache-2.0
// JSON access log lines.
#include "runtime/observe/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hoody::observe {

std::string formatTimestamp(int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>(unix_ms % 1000));
}

namespace {

nlohmann::json stringOrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

double roundMillis(double ms) { return std::round(ms * 1000.0) / 1000.0; }

}  // namespace

std::string formatAccessRecord(const AccessRecord& r) {
  nlohmann::ordered_json j;
  j["time"] = formatTimestamp(r.start_unix_ms);
  j["conn"] = r.conn_id;
  j["stream"] = r.stream_id;
  j["protocol"] = r.protocol;
  j["realm"] = stringOrNull(r.realm);
  j["container"] = stringOrNull(r.container);
  j["service"] = stringOrNull(r.service);
  j["client"] = r.client;
  j["method"] = stringOrNull(r.method);
  j["path"] = stringOrNull(r.path);
  j["decision"] = r.decision;
  j["group"] = stringOrNull(r.group);
  j["status"] = r.status;
  if (!r.error.empty()) j["error"] = r.error;
  j["bytes_in"] = r.bytes_in;
  j["bytes_out"] = r.bytes_out;
  j["duration_ms"] = roundMillis(r.duration_ms);
  j["upstream_ms"] = r.upstream_ms < 0 ? nlohmann::json(nullptr)
                                       : nlohmann::json(roundMillis(r.upstream_ms));
  // Invalid UTF-8 (a path byte can be anything a client sent before it was
  // rejected) is replaced rather than thrown on.
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

Result<std::shared_ptr<AccessLog>> AccessLog::open(const std::string& path) {
  if (path == "-") return std::shared_ptr<AccessLog>(new AccessLog(STDOUT_FILENO, false));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return makeError("io-error",
                     fmt::format("cannot open the access log `{}`: {}", path, strerror(errno)));
  }
  return std::shared_ptr<AccessLog>(new AccessLog(fd, true));
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::write(const AccessRecord& record) {
  std::string line = formatAccessRecord(record);
  ssize_t n;
  do {
    n = ::write(fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(line.size())) failed_writes_.fetch_add(1);
}

uint64_t AccessLog::failedWrites() const { return failed_writes_.load(); }

}  // namespace hoody::observe
