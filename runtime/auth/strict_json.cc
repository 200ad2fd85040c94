// SPDX-License-Identifier: Apache-2.0
// Strict JSON object parsing: no duplicate member names, bounded depth.
#include "runtime/auth/internal/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace hoody::auth::internal {

std::optional<nlohmann::json> parseJsonObject(std::string_view text) {
  using Json = nlohmann::json;
  try {
    std::vector<std::set<std::string>> open_objects;
    bool rejected = false;
    Json::parser_callback_t check = [&](int depth, Json::parse_event_t event, Json& parsed) {
      if (depth > kMaxJsonDepth) {
        rejected = true;
        return false;
      }
      switch (event) {
        case Json::parse_event_t::object_start:
          open_objects.emplace_back();
          break;
        case Json::parse_event_t::key:
          if (open_objects.empty() ||
              !open_objects.back().insert(parsed.get_ref<const std::string&>()).second) {
            rejected = true;
          }
          break;
        case Json::parse_event_t::object_end:
          if (!open_objects.empty()) {
            open_objects.pop_back();
          }
          break;
        default:
          break;
      }
      return true;
    };
    Json value = Json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/false,
                             /*ignore_comments=*/false);
    if (rejected || value.is_discarded() || !value.is_object()) {
      return std::nullopt;
    }
    return value;
  } catch (const std::exception&) {
    // Only allocation failures reach here: parse errors are returned as a
    // discarded value because exceptions are switched off above.
    return std::nullopt;
  }
}

}  // namespace hoody::auth::internal
