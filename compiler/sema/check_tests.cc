// SPDX-License-Identifier: Apache-2.0
// Test blocks: every request names a container of its realm (or a raw ID
// pair, to test unknown hosts), a known service, a client address, and an
// outcome the proxy can produce.
#include <fmt/format.h>

#include "compiler/sema/checker.h"
#include "compiler/sema/service_check.h"
#include "compiler/sema/test_target.h"
#include "compiler/sema/values.h"

namespace hoody::sema {
namespace {

const std::vector<int>& knownStatuses() {
  static const std::vector<int> kStatuses = {200, 401, 403, 404, 421, 503};
  return kStatuses;
}

void checkStatus(Context& ctx, const ast::Word& status) {
  for (int s : knownStatuses()) {
    if (status.text == std::to_string(s)) return;
  }
  ctx.sink.error("invalid-test-request", status.span,
                 fmt::format("{} is not an outcome a policy decides", diag::quote(status.text)),
                 "expect 200 (allowed), 401, 403, 404, 421 or 503");
}

const ResolvedGroup* findGroup(const std::vector<ResolvedGroup>& groups, std::string_view name) {
  for (const ResolvedGroup& g : groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

std::vector<std::string> groupNames(const std::vector<ResolvedGroup>& groups) {
  std::vector<std::string> names;
  for (const ResolvedGroup& g : groups) names.push_back(g.name);
  return names;
}

void checkGroups(Context& ctx, const RealmScope& realm, const ast::TestRequest& request,
                 const ContainerTarget& target) {
  const ast::PermissionsBlock* block = effectivePermissions(*target.project, *target.container);
  std::vector<ResolvedGroup> groups;
  if (block != nullptr) groups = ctx.scope.resolveGroups(realm, *block);
  std::string container = target.container->name.text;

  if (request.presenting) {
    const ResolvedGroup* g = findGroup(groups, request.presenting->text);
    if (g == nullptr) {
      std::string help = didYouMean(request.presenting->text, groupNames(groups));
      if (help.empty()) help = "present a credential of a group in the container's permissions";
      ctx.sink.error("unknown-name", request.presenting->span,
                     fmt::format("group `{}` is not in the permissions of container `{}`",
                                 request.presenting->text, container),
                     help);
    } else if (g->body != nullptr && !g->body->hasCredential()) {
      ctx.sink.error("invalid-test-request", request.presenting->span,
                     fmt::format("group `{}` has no credential condition, so there is nothing "
                                 "to present",
                                 g->name),
                     "drop `presenting`; the group's ip condition decides by the `from` "
                     "address");
    }
  }
  if (request.expect_group && request.expect_group->text != "default" &&
      findGroup(groups, request.expect_group->text) == nullptr) {
    std::string help = didYouMean(request.expect_group->text, groupNames(groups));
    if (help.empty()) help = "name a group of the container's permissions, or `default`";
    ctx.sink.error("unknown-name", request.expect_group->span,
                   fmt::format("group `{}` is not in the permissions of container `{}`",
                               request.expect_group->text, container),
                   help);
  }
}

void checkRequest(Context& ctx, const RealmScope& realm, const ast::Project& project,
                  const ast::TestRequest& request) {
  checkStatus(ctx, request.expect_status);
  if (request.method && !ir::methodFromName(request.method->text)) {
    ctx.sink.error("unknown-method", request.method->span,
                   fmt::format("{} is not an HTTP method", diag::quote(request.method->text)),
                   "use an uppercase method such as `GET` or `POST`");
  }
  if (request.path && (request.path->value.empty() || request.path->value[0] != '/')) {
    ctx.sink.error("invalid-test-request", request.path->span,
                   fmt::format("request path {} does not start with `/`",
                               diag::quote(request.path->value)),
                   "write an absolute path such as `/`");
  }
  if (request.instance) {
    auto n = parsePort(request.instance->text);  // Same shape: decimal 1..65535.
    if (!n) {
      ctx.sink.error("invalid-test-request", request.instance->span,
                     fmt::format("{} is not an instance number", diag::quote(request.instance->text)),
                     "instances are numbered from 1");
    }
  }

  TestTarget target = resolveTestTarget(ctx.scope, realm, project, request.target.text);
  if (target.raw_ids) {
    ast::Word service{target.service_name, request.target.span};
    checkServiceName(ctx, service, false);
    return;
  }
  const ContainerTarget& found = target.container;
  switch (found.status) {
    case ContainerTarget::Status::Malformed:
      ctx.sink.error("invalid-test-request", request.target.span,
                     fmt::format("request target {} is not of the form `container.service`",
                                 diag::quote(request.target.text)),
                     "write `CONTAINER.SERVICE`, or `<container-id>-<project-id>.SERVICE` to "
                     "test an unknown host");
      return;
    case ContainerTarget::Status::OtherRealm:
      ctx.sink.error("cross-realm-reference", request.target.span,
                     fmt::format("container `{}` belongs to realm `{}`; a test can only reach its "
                                 "own realm",
                                 found.container_name, found.other_realm),
                     "move the test to realm `" + found.other_realm + "`");
      return;
    case ContainerTarget::Status::Ambiguous:
      ctx.sink.error("ambiguous-name", request.target.span,
                     fmt::format("container `{}` exists in several projects of realm `{}`",
                                 found.container_name, realm.realm->name.text),
                     "qualify the target with its project: `PROJECT." + found.container_name +
                         "." + found.service_name + "`");
      return;
    case ContainerTarget::Status::NotFound:
      ctx.sink.error("unknown-name", request.target.span,
                     fmt::format("container `{}` is not declared in realm `{}`",
                                 found.container_name, realm.realm->name.text),
                     "to test an unknown host, write `<container-id>-<project-id>.SERVICE`");
      return;
    case ContainerTarget::Status::Found:
      break;
  }
  ast::Word service{found.service_name, request.target.span};
  if (!checkServiceName(ctx, service, false)) return;
  checkGroups(ctx, realm, request, found);
}

}  // namespace

TestTarget resolveTestTarget(const Scope& scope, const RealmScope& realm,
                             const ast::Project& project, std::string_view text) {
  TestTarget target;
  // `<container-id>-<project-id>.service` addresses a host by IDs alone.
  size_t dot = text.find('.');
  if (dot == 49 && text[24] == '-' && isValidId(text.substr(0, 24)) &&
      isValidId(text.substr(25, 24))) {
    target.raw_ids = true;
    target.container_id = *parseId(text.substr(0, 24));
    target.project_id = *parseId(text.substr(25, 24));
    target.service_name = std::string(text.substr(dot + 1));
    return target;
  }
  target.container = scope.findTarget(realm, project, text);
  target.service_name = target.container.service_name;
  return target;
}

void checkTests(Context& ctx) {
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Project& project : realm.realm->projects) {
      for (const ast::PolicyTest& test : project.tests) {
        if (test.requests.empty()) {
          ctx.sink.warning("invalid-test-request", test.span,
                           fmt::format("test {} has no requests", diag::quote(test.name.value)),
                           "add `request CONTAINER.SERVICE from ADDRESS expect STATUS` lines");
        }
        for (const ast::TestRequest& r : test.requests) checkRequest(ctx, realm, project, r);
      }
    }
  }
}

}  // namespace hoody::sema
