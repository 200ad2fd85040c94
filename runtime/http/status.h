// SPDX-License-Identifier: Apache-2.0
// Reason phrases for the status codes the proxy sends itself.
#pragma once

#include <string_view>

namespace hoody::http {

/// The RFC 9110 reason phrase of `status`, or "Unknown".
std::string_view reasonPhrase(int status);

}  // namespace hoody::http
