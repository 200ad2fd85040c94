// SPDX-License-Identifier: Apache-2.0
// AST -> decision IR.
#include "compiler/lower/lower.h"

#include <algorithm>
#include <unordered_map>

#include "compiler/sema/values.h"
#include "runtime/abi/address.h"

namespace hoody::lower {
namespace {

ir::Grant lowerGrant(const ast::Grant& grant) {
  ir::Grant g;
  g.services = sema::serviceSetOf(grant.services);
  if (!grant.methods.empty()) {
    g.methods = 0;
    for (const ast::Word& m : grant.methods) {
      if (auto method = ir::methodFromName(m.text)) g.methods |= ir::bit(*method);
    }
  }
  for (const ast::Text& p : grant.paths) {
    std::string prefix = sema::normalizePathPrefix(p.value);
    if (std::find(g.path_prefixes.begin(), g.path_prefixes.end(), prefix) == g.path_prefixes.end()) {
      g.path_prefixes.push_back(std::move(prefix));
    }
  }
  // "/" covers every path, so the list collapses to "every path".
  if (std::find(g.path_prefixes.begin(), g.path_prefixes.end(), "/") != g.path_prefixes.end()) {
    g.path_prefixes.clear();
  }
  return g;
}

ir::JwtSpec lowerJwt(const ast::JwtCondition& jwt, const sema::CheckedInputs& inputs) {
  ir::JwtSpec spec;
  for (const ast::Word& alg : jwt.algorithms) spec.algorithms.push_back(alg.text);
  if (jwt.issuer) spec.issuer = jwt.issuer->value;
  for (const ast::Text& a : jwt.audiences) spec.audiences.push_back(a.value);
  if (jwt.key_file) {
    std::string path = sema::resolveRelative(jwt.key_file->span.file, jwt.key_file->value);
    if (auto it = inputs.key_files.find(path); it != inputs.key_files.end()) {
      spec.key_pem = it->second;
    }
  }
  if (jwt.leeway) spec.leeway_seconds = sema::parseDuration(jwt.leeway->text).value_or(0);
  if (jwt.require_exp) spec.require_exp = jwt.require_exp->value;
  for (const ast::ClaimRequirement& c : jwt.claims) {
    ir::ClaimRule rule;
    rule.claim = c.claim.text;
    rule.value = c.value.value;
    switch (c.op) {
      case ast::ClaimOp::Equals:
        rule.op = ir::ClaimOp::Equals;
        break;
      case ast::ClaimOp::Contains:
        rule.op = ir::ClaimOp::Contains;
        break;
      case ast::ClaimOp::Exists:
        rule.op = ir::ClaimOp::Exists;
        break;
    }
    spec.claims.push_back(std::move(rule));
  }
  if (jwt.realm_claim) spec.realm_claim = jwt.realm_claim->value;
  return spec;
}

ir::Group lowerGroup(const std::string& name, const ast::GroupBody& body,
                     const sema::CheckedInputs& inputs) {
  ir::Group g;
  g.name = name;
  g.has_ip = body.hasIp();
  for (const ast::Word& entry : body.ip) {
    if (auto cidr = net::parseCidr(entry.text)) net::addToSet(g.ip, *cidr);
  }
  if (!body.passwords.empty()) {
    g.credential = ir::CredentialKind::Password;
    for (const ast::PasswordCondition& cond : body.passwords) {
      for (const ast::PasswordUser& user : cond.users) {
        if (user.hash) g.passwords.push_back({user.user.value, user.hash->value});
      }
    }
  } else if (!body.bearers.empty()) {
    g.credential = ir::CredentialKind::Bearer;
    for (const ast::BearerCondition& cond : body.bearers) {
      for (const ast::BearerDigest& d : cond.digests) {
        auto digest = sema::parseSha256Hex(d.hex);
        if (digest && std::find(g.bearer_sha256.begin(), g.bearer_sha256.end(), *digest) ==
                          g.bearer_sha256.end()) {
          g.bearer_sha256.push_back(*digest);
        }
      }
    }
  } else if (!body.jwts.empty()) {
    g.credential = ir::CredentialKind::Jwt;
    g.jwt = lowerJwt(body.jwts.front(), inputs);
  }
  for (const ast::Grant& grant : body.grants) g.grants.push_back(lowerGrant(grant));
  g.forward_credentials = body.forward_credentials.has_value();
  return g;
}

// Realm-level groups lowered so far, by body. Many blocks reference the same
// group, and its CIDR list can have thousands of entries.
using SharedGroupCache = std::unordered_map<const ast::GroupBody*, ir::Group>;

ir::PermissionBlock lowerBlock(const sema::Scope& scope, const sema::RealmScope& realm,
                               const ast::PermissionsBlock* block, std::string origin,
                               const sema::CheckedInputs& inputs, SharedGroupCache& shared) {
  ir::PermissionBlock out;
  out.origin = std::move(origin);
  if (block == nullptr) return out;  // Absent: default deny, no groups.
  out.default_allow = sema::defaultAllowOf(block);
  std::vector<sema::ResolvedGroup> groups = scope.resolveGroups(realm, *block);
  out.groups.reserve(groups.size());
  for (const sema::ResolvedGroup& g : groups) {
    if (g.body == nullptr) continue;
    if (g.entry->body) {
      out.groups.push_back(lowerGroup(g.name, *g.body, inputs));
      continue;
    }
    auto [it, inserted] = shared.try_emplace(g.body);
    if (inserted) it->second = lowerGroup(g.name, *g.body, inputs);
    out.groups.push_back(it->second);
  }
  return out;
}

ir::Realm lowerRealm(const sema::Scope& scope, const sema::RealmScope& realm,
                     const sema::CheckedInputs& inputs) {
  ir::Realm out;
  out.name = realm.realm->name.text;
  SharedGroupCache shared;
  for (const ast::Project& project : realm.realm->projects) {
    auto project_block = static_cast<uint32_t>(out.blocks.size());
    out.blocks.push_back(lowerBlock(scope, realm,
                                    project.permissions ? &*project.permissions : nullptr,
                                    "project " + project.name.text, inputs, shared));
    ir::Id96 project_id = sema::parseId(project.id.text).value_or(ir::Id96{});
    for (const ast::Container& c : project.containers) {
      ir::Container container;
      container.name = c.name.text;
      container.project = project.name.text;
      container.id = sema::parseId(c.id.text).value_or(ir::Id96{});
      container.project_id = project_id;
      container.maintenance = c.state && c.state->text == "maintenance";
      container.block = project_block;
      if (c.permissions) {
        container.block = static_cast<uint32_t>(out.blocks.size());
        out.blocks.push_back(
            lowerBlock(scope, realm, &*c.permissions, "container " + c.name.text, inputs, shared));
      }
      out.containers.push_back(std::move(container));
    }
  }
  return out;
}

}  // namespace

ir::Policy lowerProgram(const sema::Scope& scope, const sema::CheckedInputs& inputs) {
  ir::Policy policy;
  for (const sema::RealmScope& realm : scope.realms()) {
    policy.realms.push_back(lowerRealm(scope, realm, inputs));
  }
  return policy;
}

}  // namespace hoody::lower
