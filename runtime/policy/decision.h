// SPDX-License-Identifier: Apache-2.0
// The per-request decision: inputs, outcome, and the verifier interface that
// decision engines call for credential checks.
//
// Host-name parsing and credential extraction happen before the decision and
// are shared by every engine, so the reference interpreter and generated code
// see identical facts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/abi/decision_ir.h"

namespace hoody::policy {

/// The routing key parsed from a container host name
/// `<container-id>-<project-id>-<service>-<instance>.<node>.containers.<domain>`.
struct HostKey {
  ir::Id96 container{};
  ir::Id96 project{};
  ir::Service service = ir::Service::Http;
  uint32_t instance = 1;
};

enum class HostStatus : uint8_t {
  Ok,         ///< A well-formed container host; `key` is set.
  Unknown,    ///< Not a container host of this node (answered like a wrong ID).
  Malformed,  ///< Not a valid host name at all (400).
};

struct ParsedHost {
  HostStatus status = HostStatus::Unknown;
  HostKey key;
  std::string canonical;  ///< Lowercase, no port, no trailing dot.
};

/// Normalizes `raw` (a Host header, an :authority or an SNI name): lowercases
/// it, drops a port and one trailing dot, then parses the container labels
/// against `node` and `domain`. Two trailing dots, empty labels, bytes outside
/// the host-name alphabet and bad ports give Malformed.
ParsedHost parseHost(std::string_view raw, std::string_view node, std::string_view domain);

/// Credentials read from the request's single Authorization header.
struct Credentials {
  enum class Kind : uint8_t { None, Basic, Bearer, Invalid } kind = Kind::None;
  std::string user;      ///< Basic: everything before the first colon.
  std::string password;  ///< Basic: everything after the first colon.
  std::string token;     ///< Bearer: the token (opaque or a JWT).
};

/// Parses an Authorization header value. The scheme is case-insensitive.
/// Basic credentials are base64 (with padding) of UTF-8 `user:password`,
/// split at the first colon; anything undecodable gives Kind::Invalid, which
/// matches no group.
Credentials parseAuthorization(std::string_view value);

/// The facts a decision engine reads about one request.
struct RequestFacts {
  HostKey host;
  ir::IpAddress client;
  ir::Method method = ir::Method::Get;
  std::string_view path = "/";  ///< Normalized absolute path, no query.
  const Credentials* credentials = nullptr;
  int64_t now = 0;  ///< Unix seconds, for JWT time checks.
};

/// Credential checks the engines call; implemented by runtime/auth. Engines
/// call a verifier only when its result can change the outcome.
class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual bool verifyPassword(const ir::Group& group, std::string_view user,
                              std::string_view password) = 0;
  virtual bool verifyBearer(const ir::Group& group, std::string_view token) = 0;
  virtual bool verifyJwt(const ir::Group& group, const ir::Realm& realm, std::string_view token,
                         int64_t now) = 0;
};

enum class Outcome : uint8_t {
  NotFound,      ///< 404: unknown host or IDs.
  Maintenance,   ///< 503: container in maintenance.
  Allow,         ///< Forward upstream.
  Unauthorized,  ///< 401: a credential group would grant it.
  Forbidden,     ///< 403.
};

/// Bits of Decision::challenges.
inline constexpr uint8_t kChallengeBasic = 1;
inline constexpr uint8_t kChallengeBearer = 2;

struct Decision {
  Outcome outcome = Outcome::NotFound;
  int realm = -1;      ///< Index into Policy::realms, or -1.
  int container = -1;  ///< Index into Realm::containers, or -1.
  int group = -1;      ///< Granting group index in the block; -1 with Allow means the default.
  uint8_t challenges = 0;
  std::string reason;  ///< One line for explain and debug logs.
};

int statusOf(Outcome outcome);
std::string_view outcomeName(Outcome outcome);

/// Returns true when `prefix` matches `path` at a segment boundary.
bool pathHasPrefix(std::string_view path, std::string_view prefix);

}  // namespace hoody::policy
