// SPDX-License-Identifier: Apache-2.0
// Test blocks -> PolicyTestCase.
#include "compiler/driver/test_cases.h"

#include "compiler/sema/test_target.h"
#include "compiler/sema/values.h"

namespace hoody::driver {
namespace {

PolicyTestCase makeCase(const sema::Scope& scope, const sema::RealmScope& realm,
                        const ast::Project& project, const ast::PolicyTest& test,
                        const ast::TestRequest& request) {
  PolicyTestCase c;
  c.test_name = test.name.value;
  c.file = request.span.file;
  c.line = request.span.line;
  c.column = request.span.column;
  c.realm = realm.realm->name.text;

  sema::TestTarget target = sema::resolveTestTarget(scope, realm, project, request.target.text);
  c.service = ir::serviceFromName(target.service_name).value_or(ir::Service::Http);
  if (target.raw_ids) {
    c.raw_ids = true;
    c.container_id = target.container_id;
    c.project_id = target.project_id;
  } else if (target.container.container != nullptr) {
    c.container = target.container.container->name.text;
    c.container_id = sema::parseId(target.container.container->id.text).value_or(ir::Id96{});
    c.project_id = sema::parseId(target.container.project->id.text).value_or(ir::Id96{});
  }
  if (request.instance) c.instance = sema::parsePort(request.instance->text).value_or(1);
  c.client = request.client.text;
  if (request.method) c.method = request.method->text;
  if (request.path) c.path = request.path->value;
  if (request.presenting) c.presenting_group = request.presenting->text;
  c.expect_status = std::stoi(request.expect_status.text);
  if (request.expect_group) c.expect_group = request.expect_group->text;
  return c;
}

}  // namespace

std::vector<PolicyTestCase> collectTestCases(const sema::Scope& scope) {
  std::vector<PolicyTestCase> cases;
  for (const sema::RealmScope& realm : scope.realms()) {
    for (const ast::Project& project : realm.realm->projects) {
      for (const ast::PolicyTest& test : project.tests) {
        for (const ast::TestRequest& r : test.requests) {
          cases.push_back(makeCase(scope, realm, project, test, r));
        }
      }
    }
  }
  return cases;
}

}  // namespace hoody::driver
