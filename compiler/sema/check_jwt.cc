// SPDX-License-Identifier: Apache-2.0
// JWT conditions: pinned, supported algorithms (never `none`), a key file
// that exists and fits every pinned algorithm, a valid leeway, and warnings
// when the issuer or audience is left unchecked, when tokens may lack `exp`,
// or when an HMAC algorithm puts a shared secret into the policy.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"
#include "runtime/auth/auth.h"

namespace hoody::sema {
namespace {

// Key files are public keys or JWKS documents; anything larger is a mistake.
constexpr std::streamsize kMaxKeyFileBytes = 1 << 20;

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

std::optional<std::string> readKeyFile(const std::string& path, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "it is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::error_code(errno, std::generic_category()).message();
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) {
    error = "read failed";
    return std::nullopt;
  }
  std::string content = buffer.str();
  if (static_cast<std::streamsize>(content.size()) > kMaxKeyFileBytes) {
    error = "the file is larger than 1 MiB";
    return std::nullopt;
  }
  return content;
}

void checkKey(Context& ctx, const std::string& group, const ast::JwtCondition& jwt,
              bool algorithms_ok) {
  if (!jwt.key_file) {
    ctx.sink.error("missing-setting", jwt.span,
                   fmt::format("the jwt condition of group `{}` has no key", group),
                   "add `key file \"keys/issuer.pub.pem\"` (a PEM public key or a JWKS file, "
                   "relative to this policy file)");
    return;
  }
  const ast::Text& file = *jwt.key_file;
  std::string path = resolveRelative(file.span.file, file.value);
  std::string error;
  auto content = readKeyFile(path, error);
  if (!content) {
    ctx.sink.error("invalid-jwt-key", file.span,
                   fmt::format("cannot read key file {}: {}", diag::quote(file.value), error),
                   "key file paths are relative to the policy file; check that `" + path +
                       "` exists and is readable");
    return;
  }
  if (!algorithms_ok) return;
  std::vector<std::string> algorithms;
  for (const ast::Word& alg : jwt.algorithms) algorithms.push_back(alg.text);
  auto usable = auth::checkJwtKey(*content, algorithms);
  if (!usable) {
    ctx.sink.error("invalid-jwt-key", file.span,
                   fmt::format("key file {} cannot verify the pinned algorithms: {}",
                               diag::quote(file.value), usable.error().message),
                   "use the issuer's public key (PEM or JWKS) of the type the algorithms need: "
                   "RSA for RS/PS, EC for ES, Ed25519 for EdDSA");
    return;
  }
  ctx.inputs.key_files[path] = std::move(*content);
}

void checkJwtCondition(Context& ctx, const std::string& group, const ast::JwtCondition& jwt) {
  bool algorithms_ok = checkAlgorithms(ctx, group, jwt);
  checkKey(ctx, group, jwt, algorithms_ok);

  if (jwt.leeway && !parseDuration(jwt.leeway->text)) {
    ctx.sink.error("invalid-duration", jwt.leeway->span,
                   fmt::format("{} is not a duration", diag::quote(jwt.leeway->text)),
                   "write a whole number followed by `s`, `m` or `h`, e.g. `30s`");
  }
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
}

}  // namespace

void checkJwt(Context& ctx) {
  forEachGroupBody(ctx, [&](const GroupSite& site) {
    for (const ast::JwtCondition& jwt : site.body->jwts) checkJwtCondition(ctx, *site.name, jwt);
  });
}

}  // namespace hoody::sema
