// SPDX-License-Identifier: Apache-2.0
// RST_STREAM token bucket.
#include "runtime/http2/reset_limiter.h"

#include <algorithm>

namespace hoody::http2 {

bool TokenBucket::take(double now_seconds) {
  if (last_ >= 0 && now_seconds > last_) {
    tokens_ = std::min(burst_, tokens_ + (now_seconds - last_) * rate_);
  }
  if (last_ < 0 || now_seconds > last_) last_ = now_seconds;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace hoody::http2
