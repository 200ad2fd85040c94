// SPDX-License-Identifier: Apache-2.0
// The access log: one JSON object per line and request.
//
// A record never contains a credential, a query string, or the value of an
// Authorization or Cookie header: the fields below are all it can carry.
// Lines are written with a single write() on a descriptor opened with
// O_APPEND, so lines from different worker threads never interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "runtime/abi/result.h"

namespace hoody::observe {

struct AccessRecord {
  int64_t start_unix_ms = 0;  ///< When the request head arrived.
  uint64_t conn_id = 0;
  int32_t stream_id = 0;      ///< HTTP/2 stream id; the request number on HTTP/1.1.
  std::string protocol;       ///< "h1" or "h2".
  std::string realm;
  std::string container;
  std::string service;
  std::string client;  ///< Peer address, IPv4-mapped addresses as IPv4.
  std::string method;
  std::string path;      ///< Normalized path without the query string.
  std::string decision;  ///< Outcome name, or "error" when no decision was made.
  std::string group;     ///< Granting group, "default", or empty.
  std::string error;     ///< Short error code for rejected or failed requests.
  int status = 0;
  uint64_t bytes_in = 0;   ///< Request body bytes received.
  uint64_t bytes_out = 0;  ///< Response body bytes sent.
  double duration_ms = 0;
  double upstream_ms = -1;  ///< Time to the upstream's response head; -1 when not forwarded.
};

/// Formats `unix_ms` as RFC 3339 UTC with milliseconds, e.g.
/// "2026-12-04T16:44:00.123Z".
std::string formatTimestamp(int64_t unix_ms);

/// Formats one record as a JSON line ending in '\n'. Empty string fields are
/// written as null.
std::string formatAccessRecord(const AccessRecord& record);

class AccessLog {
 public:
  /// Opens `path` for appending (created with mode 0640), or standard output
  /// for "-". Error code: "io-error".
  /// NOTE: the file is never reopened (not even on SIGHUP), so log rotation
  /// has to copy and truncate it.
  static Result<std::shared_ptr<AccessLog>> open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  /// Appends one record; safe to call from any thread. A failed write is
  /// counted, not retried.
  void write(const AccessRecord& record);
  uint64_t failedWrites() const;

 private:
  AccessLog(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_;
  bool owned_;
  std::atomic<uint64_t> failed_writes_{0};
};

}  // namespace hoody::observe
