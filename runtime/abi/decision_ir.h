// SPDX-License-Identifier: Apache-2.0
// Decision IR: the flat, explicit form of a checked policy that every back end
// and the reference interpreter read.
//
// Inheritance and overrides are already resolved: each container points at the
// one permission block that governs it (its own, or its project's). CIDR lists
// are sorted, merged, non-overlapping ranges; services and methods are
// bitsets. Nothing downstream of lowering looks at the AST.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hoody::ir {

/// Version of the binary IR written into bundles; bump on any layout change.
inline constexpr uint32_t kFormatVersion = 1;

// ---------------------------------------------------------------------------
// Services and methods

/// The closed set of services. Order is part of the IR format.
enum class Service : uint8_t {
  Http, Exec, Pipe, Tunnel,  // public surfaces
  Terminal, Files, Sqlite, Display, Code, Browser, Agent, Cron, Daemons, Curl, Ssh,
};
inline constexpr int kServiceCount = 15;
using ServiceSet = uint32_t;
inline constexpr ServiceSet kNoServices = 0;
inline constexpr ServiceSet kAllServices = (1u << kServiceCount) - 1;
inline constexpr ServiceSet bit(Service s) { return 1u << static_cast<unsigned>(s); }
inline constexpr ServiceSet kPublicServices =
    bit(Service::Http) | bit(Service::Exec) | bit(Service::Pipe) | bit(Service::Tunnel);

/// Returns the service named `name` (lowercase, as in host names and policies).
std::optional<Service> serviceFromName(std::string_view name);
std::string_view serviceName(Service s);
inline bool isOperatorSurface(Service s) { return (bit(s) & kPublicServices) == 0; }

/// HTTP methods a grant can name. `Other` stands for every extension method.
enum class Method : uint8_t { Get, Head, Post, Put, Delete, Patch, Options, Connect, Trace, Other };
inline constexpr int kMethodCount = 10;
using MethodSet = uint16_t;
inline constexpr MethodSet kAllMethods = (1u << kMethodCount) - 1;
inline constexpr MethodSet bit(Method m) { return static_cast<MethodSet>(1u << static_cast<unsigned>(m)); }

/// Maps a request method token (case-sensitive, RFC 9110) to a Method; any
/// other valid token maps to `Other`.
Method methodFromToken(std::string_view token);
/// Returns the method for a standard name in a policy, or nullopt.
std::optional<Method> methodFromName(std::string_view name);
std::string_view methodName(Method m);

// ---------------------------------------------------------------------------
// Addresses

struct U128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend auto operator<=>(const U128&, const U128&) = default;
};

/// Inclusive range of IPv4 addresses in host byte order.
struct V4Range {
  uint32_t first = 0;
  uint32_t last = 0;
  friend bool operator==(const V4Range&, const V4Range&) = default;
};

/// Inclusive range of IPv6 addresses. IPv4-mapped ranges never appear here:
/// lowering turns them into V4Range entries.
struct V6Range {
  U128 first;
  U128 last;
  friend bool operator==(const V6Range&, const V6Range&) = default;
};

/// Sorted, merged, non-overlapping ranges of both families.
struct IpSet {
  std::vector<V4Range> v4;
  std::vector<V6Range> v6;
  bool empty() const { return v4.empty() && v6.empty(); }
  friend bool operator==(const IpSet&, const IpSet&) = default;
};

/// A client address. IPv4-mapped IPv6 addresses are stored as IPv4.
struct IpAddress {
  bool is_v4 = true;
  uint32_t v4 = 0;
  U128 v6;
};

// ---------------------------------------------------------------------------
// Permissions

/// Services a group grants, narrowed to methods and path prefixes.
struct Grant {
  ServiceSet services = kNoServices;
  MethodSet methods = kAllMethods;
  /// Normalized absolute prefixes; empty means every path. A prefix matches a
  /// path equal to it or continuing it at a segment boundary: "/admin" matches
  /// "/admin" and "/admin/x" but not "/administrator".
  std::vector<std::string> path_prefixes;
  friend bool operator==(const Grant&, const Grant&) = default;
};

enum class CredentialKind : uint8_t { None, Password, Bearer, Jwt };

/// One Basic user: name plus a PHC string (argon2id) or a libsodium `$7$`
/// scrypt string. Never a plain-text password.
struct PasswordEntry {
  std::string user;
  std::string hash;
  friend bool operator==(const PasswordEntry&, const PasswordEntry&) = default;
};

enum class ClaimOp : uint8_t { Equals, Contains, Exists };

/// An extra claim requirement. It is checked in addition to, never instead
/// of, the built-in exp/nbf/iss/aud checks.
struct ClaimRule {
  std::string claim;
  ClaimOp op = ClaimOp::Exists;
  std::string value;
  friend bool operator==(const ClaimRule&, const ClaimRule&) = default;
};

struct JwtSpec {
  /// Pinned JWS algorithms, e.g. "ES256", "RS256". Never "none".
  std::vector<std::string> algorithms;
  std::string issuer;                  ///< Required `iss`; empty means unchecked.
  std::vector<std::string> audiences;  ///< Any one must appear in `aud`; empty means unchecked.
  /// Key text inlined at compile time from the policy's key file: PEM
  /// (public key, certificate or HMAC SECRET block) or a JWK Set in JSON.
  std::string key_pem;
  uint32_t leeway_seconds = 0;
  bool require_exp = true;
  std::vector<ClaimRule> claims;
  /// Claim that must equal the realm's name; empty means unchecked.
  std::string realm_claim;
  friend bool operator==(const JwtSpec&, const JwtSpec&) = default;
};

/// A named authentication group. All of its conditions must hold. A group has
/// at most one credential condition because all of them read the single
/// Authorization header.
struct Group {
  std::string name;
  bool has_ip = false;  ///< When false, `ip` is ignored and any client matches.
  IpSet ip;
  CredentialKind credential = CredentialKind::None;
  std::vector<PasswordEntry> passwords;          ///< For CredentialKind::Password.
  std::vector<std::array<uint8_t, 32>> bearer_sha256;  ///< For CredentialKind::Bearer.
  std::optional<JwtSpec> jwt;                     ///< For CredentialKind::Jwt.
  std::vector<Grant> grants;
  /// Forward the Authorization header upstream after verifying it.
  bool forward_credentials = false;
  friend bool operator==(const Group&, const Group&) = default;
};

/// A permissions block: a default per service plus groups. A block with no
/// groups grants nothing beyond its default.
struct PermissionBlock {
  ServiceSet default_allow = kNoServices;
  std::vector<Group> groups;
  /// Declaration site of the block, for explanations: "project production" or
  /// "container public-api".
  std::string origin;
  friend bool operator==(const PermissionBlock&, const PermissionBlock&) = default;
};

// ---------------------------------------------------------------------------
// Containers and realms

using Id96 = std::array<uint8_t, 12>;

struct ServicePort {
  Service service = Service::Http;
  uint32_t instance = 1;
  uint16_t port = 0;
  friend bool operator==(const ServicePort&, const ServicePort&) = default;
};

/// Addresses of a container's services, joined from the inventory at
/// compile time. `address` is an IP literal.
struct Upstream {
  std::string address;
  std::vector<ServicePort> ports;
  friend bool operator==(const Upstream&, const Upstream&) = default;
};

struct Container {
  std::string name;
  std::string project;
  Id96 id{};
  Id96 project_id{};
  uint32_t block = 0;  ///< Index into Realm::blocks.
  bool maintenance = false;
  Upstream upstream;  ///< Empty when compiled without an inventory (check, explain).
  friend bool operator==(const Container&, const Container&) = default;
};

struct Realm {
  std::string name;
  std::vector<PermissionBlock> blocks;
  std::vector<Container> containers;
  friend bool operator==(const Realm&, const Realm&) = default;
};

struct Policy {
  /// Node and domain of the proxy, from the inventory: hosts end in
  /// ".<node>.containers.<domain>". Empty when no inventory was given.
  std::string node;
  std::string domain;
  std::vector<Realm> realms;
  friend bool operator==(const Policy&, const Policy&) = default;
};

}  // namespace hoody::ir
