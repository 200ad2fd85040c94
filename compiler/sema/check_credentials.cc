// SPDX-License-Identifier: Apache-2.0
// Credential conditions: passwords only as argon2id or scrypt hashes, user
// names that HTTP Basic can carry, bearer tokens only as SHA-256 digests, and
// at most one credential kind per group.
//
// A valid hash can still be a poor choice, so these get warnings:
// - argon2i, which the verifier accepts, but `hoodyc hash-password` makes
//   argon2id (`legacy-password-hash`);
// - a cost below libsodium's interactive limits, which makes offline
//   guessing cheap (`weak-password-hash`);
// - a cost of 1 GiB of memory passes or more, because the proxy pays it for
//   every failed login, so a few clients can tie it up
//   (`costly-password-hash`). Hashes above 1 GiB of memory are rejected as
//   invalid by the hash check itself.
//
// Messages never repeat a password or token given in clear. The diagnostic
// points at it, and the help explains how to replace it.
#include <fmt/format.h>

#include <sodium.h>

#include <charconv>
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

constexpr const char* kRehashHelp =
    "re-hash the password with `hoodyc hash-password`, which makes an argon2id hash at "
    "libsodium's interactive limits (m=65536 KiB, t=2)";

// Verification work at or above which a hash is reported as costly:
// memory in KiB times passes (argon2) or parallel runs (scrypt).
constexpr uint64_t kCostlyWorkKib = uint64_t{1} << 20;  // 1 GiB

enum class HashAlgorithm { Argon2id, Argon2i, Scrypt };

// Cost parameters of a hash that auth::checkPasswordHash accepted.
struct HashCost {
  HashAlgorithm algorithm = HashAlgorithm::Argon2id;
  uint64_t memory_kib = 0;
  uint64_t passes = 0;  ///< argon2 `t`; scrypt `p` (parallel runs).
};

// Reads `name=<decimal>` from a comma-separated argon2 parameter list.
std::optional<uint64_t> argon2Parameter(std::string_view parameters, std::string_view name) {
  while (!parameters.empty()) {
    size_t comma = parameters.find(',');
    std::string_view item = parameters.substr(0, comma);
    if (item.size() > name.size() + 1 && item.substr(0, name.size()) == name &&
        item[name.size()] == '=') {
      uint64_t value = 0;
      std::string_view digits = item.substr(name.size() + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
      return value;
    }
    if (comma == std::string_view::npos) break;
    parameters.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

// Value of one character of the crypt(3) base64 alphabet of `$7$` strings.
int cryptBase64Value(char c) {
  static constexpr std::string_view kAlphabet =
      "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  size_t pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// A 30-bit little-endian number in five crypt(3) base64 characters.
std::optional<uint64_t> cryptBase64Number(std::string_view five) {
  uint64_t value = 0;
  for (size_t i = 0; i < five.size(); ++i) {
    int digit = cryptBase64Value(five[i]);
    if (digit < 0) return std::nullopt;
    value |= static_cast<uint64_t>(digit) << (6 * i);
  }
  return value;
}

std::optional<HashCost> hashCostOf(std::string_view hash) {
  HashCost cost;
  if (hash.rfind("$7$", 0) == 0) {
    // `$7$` + log2(N) + r (5 characters) + p (5 characters); scrypt needs
    // 128 * r * N bytes.
    if (hash.size() < 14) return std::nullopt;

    int log2_n = cryptBase64Value(hash[3]);
    auto block_size = cryptBase64Number(hash.substr(4, 5));
    auto parallelism = cryptBase64Number(hash.substr(9, 5));
    if (log2_n < 1 || log2_n > 40 || !block_size || !parallelism) return std::nullopt;
    cost.algorithm = HashAlgorithm::Scrypt;
    cost.memory_kib = (*block_size << log2_n) / 8;  // 128 bytes per unit, 1024 per KiB.
    cost.passes = *parallelism;
    return cost;
  }

  std::string_view rest = hash;
  if (rest.rfind("$argon2id$", 0) == 0) {
    cost.algorithm = HashAlgorithm::Argon2id;
  } else if (rest.rfind("$argon2i$", 0) == 0) {
    cost.algorithm = HashAlgorithm::Argon2i;
  } else {
    return std::nullopt;
  }

  // `$argon2id$v=19$m=M,t=T,p=P$salt$hash`: skip to the `$` before the
  // parameters, past the algorithm and the version.
  for (int field = 0; field < 2; ++field) {
    size_t dollar = rest.find('$', 1);
    if (dollar == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(dollar);
  }

  std::string_view parameters = rest.substr(1, rest.find('$', 1) - 1);
  auto memory = argon2Parameter(parameters, "m");
  auto passes = argon2Parameter(parameters, "t");
  if (!memory || !passes) return std::nullopt;
  cost.memory_kib = *memory;
  cost.passes = *passes;
  return cost;
}

void checkHashCost(Context& ctx, const std::string& group, const ast::PasswordUser& entry) {
  const ast::Text& hash = *entry.hash;
  auto cost = hashCostOf(hash.value);
  if (!cost) return;
  std::string owner = fmt::format("the password hash of user {} in group `{}`",
                                  diag::quote(entry.user.value), group);

  if (cost->algorithm == HashAlgorithm::Argon2i) {
    ctx.sink.warning("legacy-password-hash", hash.span,
                     owner + " is argon2i, but RFC 9106 recommends argon2id, the variant "
                             "this policy language documents",
                     kRehashHelp);
  }

  uint64_t min_memory_kib = 0;
  uint64_t min_passes = 1;
  std::string parameters;
  switch (cost->algorithm) {
    case HashAlgorithm::Argon2id:
      min_memory_kib = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE / 1024;
      min_passes = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
      parameters = fmt::format("m={} KiB, t={}", cost->memory_kib, cost->passes);
      break;
    case HashAlgorithm::Argon2i:
      min_memory_kib = crypto_pwhash_argon2i_MEMLIMIT_INTERACTIVE / 1024;
      min_passes = crypto_pwhash_argon2i_OPSLIMIT_INTERACTIVE;
      parameters = fmt::format("m={} KiB, t={}", cost->memory_kib, cost->passes);
      break;
    case HashAlgorithm::Scrypt:
      min_memory_kib = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE / 1024;
      parameters = fmt::format("{} KiB of memory", cost->memory_kib);
      break;
  }
  if (cost->memory_kib < min_memory_kib || cost->passes < min_passes) {
    std::string limits = cost->algorithm == HashAlgorithm::Scrypt
                             ? fmt::format("{} KiB of memory", min_memory_kib)
                             : fmt::format("m={} KiB, t={}", min_memory_kib, min_passes);
    ctx.sink.warning("weak-password-hash", hash.span,
                     fmt::format("{} is cheap to guess offline: its cost ({}) is below "
                                 "libsodium's interactive limits ({})",
                                 owner, parameters, limits),
                     kRehashHelp);
  }

  // The hash check caps memory at 2^20 KiB and `passes` at 2^30 (scrypt's
  // parallelism), so the product fits in 64 bits.
  uint64_t work_kib = cost->memory_kib * cost->passes;
  if (work_kib >= kCostlyWorkKib) {
    std::string unit = cost->algorithm == HashAlgorithm::Scrypt ? "parallel runs" : "passes";
    ctx.sink.warning("costly-password-hash", hash.span,
                     fmt::format("{} makes every verification use {} MiB of memory for {} {}; "
                                 "the proxy pays that for every failed login, so a few clients "
                                 "can tie it up",
                                 owner, cost->memory_kib / 1024, cost->passes, unit),
                     kRehashHelp);
  }
}

void checkHash(Context& ctx, const std::string& group, const ast::PasswordUser& entry) {
  const ast::Text& hash = *entry.hash;
  auto checked = auth::checkPasswordHash(hash.value);
  if (checked) {
    checkHashCost(ctx, group, entry);
    return;
  }
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
