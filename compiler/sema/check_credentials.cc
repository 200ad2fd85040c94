// SPDX-License-Identifier: Apache-2.0
// Credential conditions: passwords only as argon2id or scrypt hashes, user
// names that HTTP Basic can carry, bearer tokens only as SHA-256 digests, and
// at most one credential kind per group.
//
// Messages never repeat a password or token given in clear. The diagnostic
// points at it, and the help explains how to replace it.
#include <fmt/format.h>

#include <map>
#include <set>

#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"
#include "runtime/auth/auth.h"

namespace hoody::sema {
namespace {

constexpr const char* kHashPasswordHelp =
    "hash it with `hoodyc hash-password` and write `user \"NAME\" hash \"<hash>\"`";

void checkUserName(Context& ctx, const std::string& group, const ast::Text& user) {
  if (user.value.empty()) {
    ctx.sink.error("invalid-user", user.span, fmt::format("group `{}` has an empty user name", group),
                   "give every user a name");
    return;
  }
  if (user.value.find(':') != std::string::npos) {
    ctx.sink.error("invalid-user", user.span,
                   fmt::format("user name {} contains `:`", diag::quote(user.value)),
                   "HTTP Basic separates the user from the password at the first `:`, so a "
                   "user name cannot contain one; rename the user");
    return;
  }
  for (unsigned char c : user.value) {
    if (c < 0x20 || c == 0x7f) {
      ctx.sink.error("invalid-user", user.span,
                     fmt::format("user name {} contains a control character",
                                 diag::quote(user.value)),
                     "use printable characters only");
      return;
    }
  }
}

void checkHash(Context& ctx, const std::string& group, const ast::PasswordUser& entry) {
  const ast::Text& hash = *entry.hash;
  auto checked = auth::checkPasswordHash(hash.value);
  if (checked) return;
  bool looks_supported = hash.value.rfind("$argon2id$", 0) == 0 ||
                         hash.value.rfind("$argon2i$", 0) == 0 || hash.value.rfind("$7$", 0) == 0;
  if (looks_supported) {
    ctx.sink.error("invalid-password-hash", hash.span,
                   fmt::format("the password hash of user {} in group `{}` is malformed: {}",
                               diag::quote(entry.user.value), group, checked.error().message),
                   "paste the complete output of `hoodyc hash-password`");
    return;
  }
  std::string kind = hash.value.rfind("$2", 0) == 0   ? "a bcrypt hash"
                     : hash.value.rfind("$1$", 0) == 0 ? "an MD5-crypt hash"
                     : hash.value.rfind("$5$", 0) == 0 || hash.value.rfind("$6$", 0) == 0
                         ? "a SHA-crypt hash"
                         : "not a password hash";
  ctx.sink.error("plaintext-password", hash.span,
                 fmt::format("the password of user {} in group `{}` is {}; only argon2id and "
                             "scrypt hashes are accepted",
                             diag::quote(entry.user.value), group, kind),
                 kHashPasswordHelp);
}

void checkPasswords(Context& ctx, const std::string& group, const ast::PasswordCondition& cond) {
  if (cond.clear_text) {
    ctx.sink.error("plaintext-password", cond.clear_text->span,
                   fmt::format("group `{}` gives a password in clear", group),
                   "hash it with `hoodyc hash-password` and write `password { user \"NAME\" "
                   "hash \"<hash>\" }`");
    return;
  }
  if (cond.users.empty()) {
    ctx.sink.error("missing-setting", cond.span,
                   fmt::format("the password condition of group `{}` lists no users", group),
                   "add `user \"NAME\" hash \"<hash>\"` lines");
  }
  std::map<std::string, diag::Span> seen;
  for (const ast::PasswordUser& entry : cond.users) {
    checkUserName(ctx, group, entry.user);
    auto [it, inserted] = seen.emplace(entry.user.value, entry.user.span);
    if (!inserted) {
      ctx.sink.error("duplicate-name", entry.user.span,
                     fmt::format("user {} is already listed in group `{}` at line {}",
                                 diag::quote(entry.user.value), group, it->second.line),
                     "keep one entry per user");
    }
    if (entry.password) {
      ctx.sink.error("plaintext-password", entry.password->span,
                     fmt::format("user {} in group `{}` has a password in clear",
                                 diag::quote(entry.user.value), group),
                     kHashPasswordHelp);
    } else if (entry.hash) {
      checkHash(ctx, group, entry);
    }
  }
}

void checkBearers(Context& ctx, const std::string& group, const ast::BearerCondition& cond) {
  std::set<std::string> seen;
  for (const ast::BearerDigest& d : cond.digests) {
    if (!d.has_prefix) {
      ctx.sink.error("invalid-bearer-digest", d.span,
                     fmt::format("group `{}` gives a bearer token in clear", group),
                     "store only its digest: run `hoodyc hash-token` and write "
                     "`sha256:\"<digest>\"`");
      continue;
    }
    if (!parseSha256Hex(d.hex)) {
      ctx.sink.error("invalid-bearer-digest", d.span,
                     fmt::format("`sha256:\"{}\"` is not a SHA-256 digest: expected 64 hex digits",
                                 d.hex.size() > 80 ? d.hex.substr(0, 80) + "..." : d.hex),
                     "run `hoodyc hash-token` and paste the digest it prints");
      continue;
    }
    std::string lowered = d.hex;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!seen.insert(lowered).second) {
      ctx.sink.warning("duplicate-name", d.span,
                       fmt::format("group `{}` lists the same bearer digest twice", group),
                       "remove the repeated digest");
    }
  }
}

void checkGroupCredentials(Context& ctx, const GroupSite& site) {
  const std::string& group = *site.name;
  const ast::GroupBody& body = *site.body;
  for (const auto& p : body.passwords) checkPasswords(ctx, group, p);
  for (const auto& b : body.bearers) checkBearers(ctx, group, b);

  // Every credential kind reads the one Authorization header, so a group
  // with two kinds could never be satisfied.
  struct Kind {
    std::string name;
    diag::Span span;
  };
  std::vector<Kind> kinds;
  if (!body.passwords.empty()) kinds.push_back({"password", body.passwords.front().span});
  if (!body.bearers.empty()) kinds.push_back({"bearer", body.bearers.front().span});
  if (!body.jwts.empty()) kinds.push_back({"jwt", body.jwts.front().span});
  if (kinds.size() > 1) {
    std::sort(kinds.begin(), kinds.end(),
              [](const Kind& a, const Kind& b) { return diag::spanBefore(a.span, b.span); });
    ctx.sink.error("multiple-credentials", kinds[1].span,
                   fmt::format("group `{}` has both a `{}` and a `{}` condition", group,
                               kinds[0].name, kinds[1].name),
                   "a request carries one Authorization header, so no request could meet both; "
                   "split them into two groups");
  }
  if (body.jwts.size() > 1) {
    ctx.sink.error("duplicate-setting", body.jwts[1].span,
                   fmt::format("group `{}` has two `jwt` conditions", group),
                   "merge them into one `jwt { ... }` block");
  }
  if (body.forward_credentials && !body.hasCredential()) {
    ctx.sink.warning("forward-without-credential", *body.forward_credentials,
                     fmt::format("group `{}` forwards credentials but has no credential condition",
                                 group),
                     "remove `forward_credentials`, or add a password, bearer or jwt condition");
  }
}

}  // namespace

void checkCredentials(Context& ctx) {
  forEachGroupBody(ctx, [&](const GroupSite& site) { checkGroupCredentials(ctx, site); });
}

}  // namespace hoody::sema
