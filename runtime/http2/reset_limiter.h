// SPDX-License-Identifier: Apache-2.0
// Token bucket that limits RST_STREAM frames a client may send on one
// HTTP/2 connection (the "rapid reset" attack, CVE-2023-44487).
//
// nghttp2 1.52 has no built-in limit (1.57 added one with the same
// defaults), so the session counts each RST_STREAM here and ends the
// connection with GOAWAY(ENHANCE_YOUR_CALM) when the bucket is empty.
#pragma once

namespace hoody::http2 {

class TokenBucket {
 public:
  /// A bucket that starts full with `burst` tokens and refills at
  /// `rate_per_second`, never above `burst`.
  TokenBucket(double burst, double rate_per_second)
      : burst_(burst), rate_(rate_per_second), tokens_(burst) {}

  /// Takes one token at time `now_seconds` (any monotonic clock). Returns
  /// false when none is left; the failed take does not consume anything.
  bool take(double now_seconds);

  double tokens() const { return tokens_; }

 private:
  double burst_;
  double rate_;
  double tokens_;
  double last_ = -1;
};

/// Default limits: a burst of 1000 resets and 33 more per second, as in
/// nghttp2 1.57 and later.
inline constexpr double kResetBurst = 1000;
inline constexpr double kResetRatePerSecond = 33;

}  // namespace hoody::http2
