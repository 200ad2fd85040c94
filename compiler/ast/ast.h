// SPDX-License-Identifier: Apache-2.0
// Syntax tree of the policy language, with a source span on every node.
//
// The tree keeps values as written (addresses, IDs, ports and durations are
// text) so the checker can name the exact entry in a diagnostic. Nothing here
// is validated beyond the grammar; compiler/sema checks the tree and
// compiler/lower turns a checked tree into the decision IR.
//
// A setting that may appear once per block is an std::optional; the parser
// adapter reports a second occurrence as `duplicate-setting` and keeps the
// first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"

namespace hoody::ast {

using diag::Span;

/// A name or value token as written: declared names, references, services,
/// methods, addresses, IDs, ports, durations.
struct Word {
  std::string text;
  Span span;
};

/// A string literal with its escapes decoded.
struct Text {
  std::string value;
  Span span;
};

struct Flag {
  bool value = false;
  Span span;
};

// ---------------------------------------------------------------------------
// Permissions

/// `allow SERVICES [methods METHODS] [paths PATHS]`.
struct Grant {
  Span span;
  std::vector<Word> services;  ///< `all` stands for every service.
  std::vector<Word> methods;   ///< Empty: every method.
  std::vector<Text> paths;     ///< Empty: every path.
};

/// One `user "name" hash "..."` line; `password` is set instead of `hash`
/// when the line gives a password in clear (always an error).
struct PasswordUser {
  Span span;
  Text user;
  std::optional<Text> hash;
  std::optional<Text> password;
};

/// `password { ... }` or `password "clear text"`.
struct PasswordCondition {
  Span span;
  std::vector<PasswordUser> users;
  std::optional<Text> clear_text;  ///< The `password "x"` form.
};

/// One bearer digest: `sha256:"hex"` (or `sha256:hex`); a bare string is a
/// token in clear, which the checker rejects.
struct BearerDigest {
  Span span;
  std::string hex;      ///< The digest text after `sha256:`.
  bool has_prefix = false;
};

struct BearerCondition {
  Span span;
  std::vector<BearerDigest> digests;
};

enum class ClaimOp { Equals, Contains, Exists };

struct ClaimRequirement {
  Span span;
  Word claim;
  ClaimOp op = ClaimOp::Exists;
  Text value;  ///< Unused for Exists.
};

struct JwtCondition {
  Span span;
  std::optional<Text> issuer;
  std::vector<Text> audiences;
  std::vector<Word> algorithms;
  std::optional<Span> algorithms_span;
  std::optional<Text> key_file;
  std::optional<Word> leeway;
  std::vector<ClaimRequirement> claims;
  std::optional<Flag> require_exp;
  std::optional<Text> realm_claim;
};

/// The body of a group: conditions (all must hold) and grants.
struct GroupBody {
  Span span;
  std::vector<Word> ip;             ///< CIDR entries of every `ip` line.
  std::vector<Span> ip_lines;       ///< One span per `ip` line.
  std::vector<PasswordCondition> passwords;
  std::vector<BearerCondition> bearers;
  std::vector<JwtCondition> jwts;
  std::vector<Grant> grants;
  std::optional<Span> forward_credentials;

  bool hasIp() const { return !ip_lines.empty(); }
  bool hasCredential() const { return !passwords.empty() || !bearers.empty() || !jwts.empty(); }
};

/// `group NAME { ... }` (a definition) or `group NAME` (a reference to a
/// realm-level group; NAME may be qualified as `realm.group`).
struct GroupEntry {
  Span span;
  Word name;
  std::optional<GroupBody> body;
};

/// `default allow|deny [SERVICES]`; no services means every service.
struct DefaultRule {
  Span span;
  bool allow = false;
  std::vector<Word> services;
};

struct PermissionsBlock {
  Span span;
  std::vector<DefaultRule> defaults;
  std::vector<GroupEntry> groups;
};

// ---------------------------------------------------------------------------
// Container settings

struct FirewallRule {
  Span span;
  Word direction;  ///< `ingress` or `egress`.
  bool allow = false;
  Word protocol;
  std::optional<Word> peer_keyword;  ///< `from` or `to`, when given.
  std::vector<Word> addresses;       ///< Empty: any address.
  std::vector<Word> ports;           ///< Empty: any port.
};

struct Firewall {
  Span span;
  std::optional<DefaultRule> default_rule;  ///< Never has services.
  std::vector<FirewallRule> rules;
};

struct WireguardSpec {
  Span span;
  std::optional<Word> endpoint;
  std::optional<Text> public_key;
  std::vector<Word> addresses;
};

struct Exit {
  enum class Kind { Proxy, Wireguard, Vpn, Block };
  Span span;
  Kind kind = Kind::Block;
  Word scheme;   ///< Proxy: `socks5`, `http` or `https`.
  Word address;  ///< Proxy: `ADDR:PORT`.
  WireguardSpec wireguard;
  Word provider;  ///< Vpn: provider name.
};

struct Network {
  Span span;
  std::optional<Word> ipv4;
  std::vector<Exit> exits;
  std::vector<Word> dns;
  std::vector<Span> dns_lines;
};

struct SeccompRule {
  Span span;
  Word action;  ///< allow, deny, kill, log, trap.
  std::vector<Word> syscalls;
  std::optional<Word> errno_name;
};

struct Seccomp {
  Span span;
  std::optional<Word> base;
  std::vector<SeccompRule> rules;
};

struct Container {
  Span span;
  Word name;
  Word id;
  std::optional<PermissionsBlock> permissions;  ///< Absent: the project's block governs.
  std::optional<Firewall> firewall;
  std::optional<Network> network;
  std::optional<Seccomp> seccomp;
  std::optional<Word> state;
};

// ---------------------------------------------------------------------------
// Aliases and tests

struct Alias {
  Span span;
  Word name;
  Word target;  ///< `container.service`, optionally qualified.
  std::optional<Text> target_path;
  std::optional<Flag> allow_path_override;
  std::optional<Flag> scrub_container_id;
  std::optional<Text> domain;
};

struct TestRequest {
  Span span;
  Word target;  ///< `container.service` or `<container-id>-<project-id>.service`.
  std::optional<Word> instance;
  Word client;
  std::optional<Word> method;
  std::optional<Text> path;
  std::optional<Word> presenting;
  Word expect_status;
  std::optional<Word> expect_group;
};

struct PolicyTest {
  Span span;
  Text name;
  std::vector<TestRequest> requests;
};

// ---------------------------------------------------------------------------
// Realms and projects

struct Project {
  Span span;
  Word name;
  Word id;
  std::optional<Word> profile;
  std::optional<PermissionsBlock> permissions;  ///< Absent: default deny, no groups.
  std::vector<Container> containers;
  std::vector<Alias> aliases;
  std::vector<PolicyTest> tests;
};

struct Provider {
  Span span;
  Word name;
  std::optional<WireguardSpec> wireguard;
};

/// A custom security profile.
struct Profile {
  Span span;
  Word name;
  std::optional<Word> base;
  std::optional<Word> disk_encryption;
  std::optional<Word> snapshots;
};

/// A realm-level group, shared by name with the realm's permissions blocks.
struct SharedGroup {
  Span span;
  Word name;
  GroupBody body;
};

struct Realm {
  Span span;
  Word name;
  std::vector<SharedGroup> groups;
  std::vector<Provider> providers;
  std::vector<Profile> profiles;
  std::vector<Project> projects;
};

struct File {
  std::string path;
  std::vector<Realm> realms;
};

/// Every file of one run.
struct Program {
  std::vector<File> files;
};

}  // namespace hoody::ast
