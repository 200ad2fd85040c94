// SPDX-License-Identifier: Apache-2.0
// IDs: every project and container ID is 24 lowercase hex digits, looks
// random, and is used once in the whole input (across realms and files).
//
// IDs are what keeps a service URL unguessable, so an ID that a person typed
// (runs, counting sequences, repeated patterns) gets a warning.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <string_view>
#include <unordered_map>

#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"

namespace hoody::sema {
namespace {

constexpr const char* kNewIdHelp = "generate a random ID with `hoodyc new-id`";

int hexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void reportInvalid(Context& ctx, const ast::Word& id, std::string_view kind) {
  const std::string& text = id.text;
  std::string lowered = lowercase(text);
  if (text.size() == 24 && isValidId(lowered)) {
    ctx.sink.error("invalid-id", id.span,
                   fmt::format("{} ID {} contains uppercase letters", kind, diag::quote(text)),
                   "IDs are lowercase; write `" + lowered + "`");
    return;
  }
  auto bad = std::find_if(lowered.begin(), lowered.end(), [](char c) { return !isHex(c); });
  if (bad != lowered.end()) {
    size_t index = static_cast<size_t>(bad - lowered.begin());
    ctx.sink.error("invalid-id", id.span,
                   fmt::format("{} ID {} contains {}, which is not a hex digit", kind,
                               diag::quote(text), diag::quote(text.substr(index, 1))),
                   fmt::format("an ID is exactly 24 lowercase hex digits; {}", kNewIdHelp));
    return;
  }
  ctx.sink.error("invalid-id", id.span,
                 fmt::format("{} ID {} has {} digits; expected 24", kind, diag::quote(text),
                             text.size()),
                 fmt::format("an ID is exactly 24 lowercase hex digits (96 bits); {}", kNewIdHelp));
}

// Returns why a valid ID looks hand-made, or an empty string. The thresholds
// keep false alarms on random IDs rare: a run of 6 equal digits, or a
// 6-digit counting run, appears in a random 24-digit ID with an estimated
// probability of 2 in 100 000 each (19 start positions times 16^-5).
std::string lowEntropyReason(std::string_view id) {
  constexpr size_t kRun = 6;
  size_t same = 1;
  size_t up = 1;
  size_t down = 1;
  for (size_t i = 1; i < id.size(); ++i) {
    int prev = hexValue(id[i - 1]);
    int cur = hexValue(id[i]);
    same = cur == prev ? same + 1 : 1;
    up = cur == prev + 1 ? up + 1 : 1;
    down = cur == prev - 1 ? down + 1 : 1;
    if (same >= kRun) {
      return fmt::format("it repeats the digit `{}` {} or more times in a row", id[i], kRun);
    }
    if (up >= kRun || down >= kRun) {
      return fmt::format("it contains the counting sequence `{}`", id.substr(i + 1 - kRun, kRun));
    }
  }
  for (size_t period = 1; period <= 8; ++period) {
    bool periodic = true;
    for (size_t i = period; i < id.size() && periodic; ++i) periodic = id[i] == id[i - period];
    if (periodic) {
      return fmt::format("it repeats the pattern `{}`", id.substr(0, period));
    }
  }
  uint32_t digits = 0;  // Bit d is set when hex digit d occurs.
  for (char c : id) digits |= 1u << hexValue(c);
  int distinct = std::popcount(digits);
  if (distinct <= 6) {
    return fmt::format("it uses only {} different digits", distinct);
  }
  return {};
}

// The first declaration of an ID. The pointers are into the syntax tree,
// which outlives the check, and the description is only formatted for a
// duplicate.
struct IdOwner {
  std::string_view kind;  ///< "project" or "container".
  const ast::Word* name = nullptr;
  const ast::Word* realm = nullptr;
  const ast::Word* id = nullptr;

  std::string description() const {
    return fmt::format("{} `{}` of realm `{}`", kind, name->text, realm->text);
  }
};

// Valid IDs seen so far, by their text.
using SeenIds = std::unordered_map<std::string_view, IdOwner>;

void checkOne(Context& ctx, const IdOwner& owner, SeenIds& seen) {
  const ast::Word& id = *owner.id;
  std::string_view kind = owner.kind;
  if (!isValidId(id.text)) {
    reportInvalid(ctx, id, kind);
    return;
  }
  std::string reason = lowEntropyReason(id.text);
  if (!reason.empty()) {
    ctx.sink.warning("low-entropy-id", id.span,
                     fmt::format("{} ID {} does not look random: {}", kind, diag::quote(id.text),
                                 reason),
                     fmt::format("IDs keep service URLs unguessable; {}", kNewIdHelp));
  }
  auto [it, inserted] = seen.emplace(id.text, owner);
  if (!inserted) {
    const diag::Span& first = it->second.id->span;
    ctx.sink.error("duplicate-id", id.span,
                   fmt::format("ID {} is already used by {} at {}:{}", diag::quote(id.text),
                               it->second.description(), first.file, first.line),
                   fmt::format("every project and container needs its own ID; {}", kNewIdHelp));
  }
}

}  // namespace

void checkIds(Context& ctx) {
  SeenIds seen;
  for (const RealmScope& realm : ctx.scope.realms()) {
    const ast::Word& realm_name = realm.realm->name;
    for (const ast::Project& project : realm.realm->projects) {
      checkOne(ctx, IdOwner{"project", &project.name, &realm_name, &project.id}, seen);
      for (const ast::Container& c : project.containers) {
        checkOne(ctx, IdOwner{"container", &c.name, &realm_name, &c.id}, seen);
      }
    }
  }
}

}  // namespace hoody::sema
