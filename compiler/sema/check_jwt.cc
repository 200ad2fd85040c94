// SPDX-License-Identifier: Apache-2.0
// JWT conditions: pinned, supported algorithms (never `none`), a key file
// in the policy's directory that contains keys for every pinned algorithm, a
// valid leeway of at most 1 hour, and warnings when the issuer or audience
// is left unchecked, when tokens may lack `exp`, when the leeway is above
// 5 minutes, or when an HMAC algorithm puts a shared secret into the policy.
//
// Realms are separate universes, so a token minted for one realm must not
// work in another. When JWT conditions of two realms trust the same issuer
// or the same key, each of them must set `realm_claim`, which makes the
// verifier require that claim to equal the realm's name
// (`shared-jwt-issuer`).
#include <fmt/format.h>

#include <algorithm>
#include <variant>

#include "compiler/sema/checker.h"
#include "compiler/sema/jwt_key_file.h"
#include "compiler/sema/values.h"
#include "runtime/auth/auth.h"

namespace hoody::sema {
namespace {

// A leeway above this gets a warning, because clock skew between an issuer
// and the proxy is normally a few seconds.
constexpr uint32_t kLeewayWarningSeconds = 5 * 60;
// A leeway above this is an error, because it keeps expired tokens valid
// for so long that `exp` and `nbf` hardly limit them.
constexpr uint32_t kLeewayErrorSeconds = 60 * 60;

// The issuer and keys one JWT condition trusts, for the cross-realm check.
struct JwtTrust {
  const std::string* realm = nullptr;
  const std::string* group = nullptr;
  const ast::JwtCondition* jwt = nullptr;
  std::vector<std::string> key_identities;
};

const std::vector<std::string>& supportedAlgorithms() {
  static const std::vector<std::string> kNames = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                                  "PS512", "ES256", "ES384", "ES512", "EdDSA",
                                                  "HS256", "HS384", "HS512"};
  return kNames;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Returns true when every algorithm is supported.
bool checkAlgorithms(Context& ctx, const std::string& group, const ast::JwtCondition& jwt) {
  if (!jwt.algorithms_span) {
    ctx.sink.error("missing-setting", jwt.span,
                   fmt::format("the jwt condition of group `{}` pins no algorithm", group),
                   "add `algorithms ES256` (or the algorithm your issuer signs with)");
    return false;
  }
  bool all_supported = true;
  for (const ast::Word& alg : jwt.algorithms) {
    if (lowercase(alg.text) == "none") {
      ctx.sink.error("jwt-none-algorithm", alg.span,
                     fmt::format("JWT algorithm {} accepts unsigned tokens and is never allowed",
                                 diag::quote(alg.text)),
                     "pin the algorithm your issuer signs with, e.g. `ES256` or `RS256`");
      all_supported = false;
      continue;
    }
    if (auth::isSupportedJwtAlgorithm(alg.text)) {
      if (alg.text.rfind("HS", 0) == 0) {
        ctx.sink.warning("jwt-shared-secret", alg.span,
                         fmt::format("{} verifies with a shared secret, so the key file holds a "
                                     "secret that is compiled into every bundle",
                                     diag::quote(alg.text)),
                         "prefer an asymmetric algorithm (ES256, RS256 or EdDSA), so the policy "
                         "holds only a public key");
      }
      continue;
    }
    all_supported = false;
    std::string help;
    for (const std::string& name : supportedAlgorithms()) {
      if (lowercase(name) == lowercase(alg.text)) help = "algorithm names are case-sensitive: `" + name + "`";
    }
    if (help.empty()) help = didYouMean(alg.text, supportedAlgorithms());
    if (!help.empty()) help += "; ";
    help += "supported: " + listNames(supportedAlgorithms());
    ctx.sink.error("unsupported-jwt-algorithm", alg.span,
                   fmt::format("{} is not a supported JWT algorithm", diag::quote(alg.text)), help);
  }
  return all_supported;
}

// Reads and validates the key file. Returns the identities of its keys, or
// none when the key cannot be used.
std::vector<std::string> checkKey(Context& ctx, const std::string& group,
                                  const ast::JwtCondition& jwt, bool algorithms_ok) {
  if (!jwt.key_file) {
    ctx.sink.error("missing-setting", jwt.span,
                   fmt::format("the jwt condition of group `{}` has no key", group),
                   "add `key file \"keys/issuer.pub.pem\"` (a PEM public key or a JWKS file, "
                   "relative to this policy file)");
    return {};
  }
  const ast::Text& file = *jwt.key_file;
  auto read = readKeyFile(file.span.file, file.value);
  if (const auto* problem = std::get_if<KeyFileProblem>(&read)) {
    ctx.sink.error(problem->code, file.span, problem->message, problem->help);
    return {};
  }
  std::string& text = std::get<KeyFileText>(read).text;
  if (auto problem = keyTextFormProblem(file.value, text)) {
    ctx.sink.error(problem->code, file.span, problem->message, problem->help);
    return {};
  }
  if (!algorithms_ok) return {};
  std::vector<std::string> algorithms;
  for (const ast::Word& alg : jwt.algorithms) algorithms.push_back(alg.text);
  auto usable = auth::checkJwtKey(text, algorithms);
  if (!usable) {
    ctx.sink.error("invalid-jwt-key", file.span,
                   fmt::format("key file {} cannot verify the pinned algorithms: {}",
                               diag::quote(file.value), usable.error().message),
                   "use the issuer's public key (PEM or JWKS) of the type the algorithms need: "
                   "RSA for RS/PS, EC for ES, Ed25519 for EdDSA");
    return {};
  }
  std::vector<std::string> identities = keyIdentities(text);
  // Lowering looks the text up by the path as written, resolved lexically.
  ctx.inputs.key_files[resolveRelative(file.span.file, file.value)] = std::move(text);
  return identities;
}

void checkLeeway(Context& ctx, const ast::Word& leeway) {
  auto seconds = parseDuration(leeway.text);
  if (!seconds) {
    ctx.sink.error("invalid-duration", leeway.span,
                   fmt::format("{} is not a duration", diag::quote(leeway.text)),
                   "write a whole number followed by `s`, `m` or `h`, e.g. `30s`");
    return;
  }
  if (*seconds <= kLeewayWarningSeconds) return;
  std::string help =
      "a leeway only has to cover clock skew between the issuer and the proxy; use at most `5m`, "
      "e.g. `30s`";
  if (*seconds > kLeewayErrorSeconds) {
    ctx.sink.error("excessive-jwt-leeway", leeway.span,
                   fmt::format("leeway {} is more than 1 hour, so tokens stay valid that long "
                               "after `exp` and before `nbf`",
                               diag::quote(leeway.text)),
                   help);
  } else {
    ctx.sink.warning("excessive-jwt-leeway", leeway.span,
                     fmt::format("leeway {} is more than 5 minutes, so tokens stay valid that "
                                 "long after `exp` and before `nbf`",
                                 diag::quote(leeway.text)),
                     help);
  }
}

std::vector<std::string> checkJwtCondition(Context& ctx, const std::string& group,
                                           const ast::JwtCondition& jwt) {
  bool algorithms_ok = checkAlgorithms(ctx, group, jwt);
  std::vector<std::string> key_identities = checkKey(ctx, group, jwt, algorithms_ok);

  if (jwt.leeway) checkLeeway(ctx, *jwt.leeway);
  if (!jwt.issuer) {
    ctx.sink.warning("unpinned-jwt-claim", jwt.span,
                     fmt::format("the jwt condition of group `{}` accepts tokens from any issuer",
                                 group),
                     "pin the issuer with `issuer \"https://...\"`");
  }
  if (jwt.audiences.empty()) {
    ctx.sink.warning("unpinned-jwt-claim", jwt.span,
                     fmt::format("the jwt condition of group `{}` accepts tokens for any audience",
                                 group),
                     "pin the audience with `audience \"...\"`, so tokens minted for another "
                     "service are rejected");
  }
  for (const ast::Text& audience : jwt.audiences) {
    if (audience.value.empty()) {
      ctx.sink.error("invalid-jwt-setting", audience.span, "audience is an empty string",
                     "write the audience your issuer puts in `aud`");
    }
  }
  if (jwt.require_exp && !jwt.require_exp->value) {
    ctx.sink.warning("jwt-without-exp", jwt.require_exp->span,
                     fmt::format("group `{}` accepts tokens without `exp`, which never expire",
                                 group),
                     "remove `require_exp false` unless the issuer cannot set `exp`");
  }
  if (jwt.realm_claim && jwt.realm_claim->value.empty()) {
    ctx.sink.error("invalid-jwt-setting", jwt.realm_claim->span, "realm claim name is empty",
                   "name the claim that carries the realm, e.g. `realm_claim \"hoody_realm\"`");
  }
  return key_identities;
}

bool sharesKey(const JwtTrust& a, const JwtTrust& b) {
  return std::any_of(a.key_identities.begin(), a.key_identities.end(), [&](const std::string& k) {
    return std::find(b.key_identities.begin(), b.key_identities.end(), k) !=
           b.key_identities.end();
  });
}

// Reports each condition without `realm_claim` that trusts an issuer or key
// that a condition of another realm also trusts, naming the first such one.
void checkSharedTrust(Context& ctx, const std::vector<JwtTrust>& trusts) {
  for (const JwtTrust& a : trusts) {
    if (a.jwt->realm_claim) continue;
    for (const JwtTrust& b : trusts) {
      if (*a.realm == *b.realm) continue;
      bool same_issuer =
          a.jwt->issuer && b.jwt->issuer && a.jwt->issuer->value == b.jwt->issuer->value;
      if (!same_issuer && !sharesKey(a, b)) continue;
      std::string trusted = same_issuer ? "issuer " + diag::quote(a.jwt->issuer->value)
                                        : "the key in " + diag::quote(a.jwt->key_file->value);
      diag::Span at = same_issuer ? a.jwt->issuer->span : a.jwt->key_file->span;
      ctx.sink.error(
          "shared-jwt-issuer", at,
          fmt::format("the jwt condition of group `{}` does not set `realm_claim`, but group "
                      "`{}` of realm `{}` also trusts {}, so tokens minted for realm `{}` are "
                      "accepted in realm `{}`",
                      *a.group, *b.group, *b.realm, trusted, *b.realm, *a.realm),
          "add `realm_claim \"<claim name>\"` to every jwt condition that trusts it, e.g. "
          "`realm_claim \"hoody_realm\"`; tokens must then carry that claim equal to the realm "
          "name");
      break;
    }
  }
}

}  // namespace

void checkJwt(Context& ctx) {
  std::vector<JwtTrust> trusts;
  forEachGroupBody(ctx, [&](const GroupSite& site) {
    for (const ast::JwtCondition& jwt : site.body->jwts) {
      std::vector<std::string> identities = checkJwtCondition(ctx, *site.name, jwt);
      trusts.push_back({&site.realm->realm->name.text, site.name, &jwt, std::move(identities)});
    }
  });
  checkSharedTrust(ctx, trusts);
}

}  // namespace hoody::sema
