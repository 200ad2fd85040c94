// SPDX-License-Identifier: Apache-2.0
// Services, methods and paths of grants and defaults: every name is in the
// closed set, path prefixes can match a normalized request path (and are
// written in that form), and defaults do not contradict each other.
#include <fmt/format.h>

#include <map>

#include "compiler/sema/checker.h"
#include "compiler/sema/service_check.h"
#include "compiler/sema/values.h"

namespace hoody::sema {
namespace {

std::vector<std::string> methodNames() {
  std::vector<std::string> names;
  for (int i = 0; i + 1 < ir::kMethodCount; ++i) {
    names.emplace_back(ir::methodName(static_cast<ir::Method>(i)));
  }
  return names;
}

void checkMethod(Context& ctx, const ast::Word& method) {
  if (ir::methodFromName(method.text)) return;
  std::string upper = method.text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string help;
  if (ir::methodFromName(upper)) {
    help = "methods are written in uppercase: `" + upper + "`";
  } else {
    help = didYouMean(method.text, methodNames());
    if (help.empty()) help = "use one of " + listNames(methodNames());
  }
  ctx.sink.error("unknown-method", method.span,
                 fmt::format("{} is not an HTTP method a grant can name", diag::quote(method.text)),
                 help);
}

void checkGrant(Context& ctx, const ast::Grant& grant) {
  for (const ast::Word& s : grant.services) checkServiceName(ctx, s, true);
  for (const ast::Word& m : grant.methods) checkMethod(ctx, m);
  for (const ast::Text& p : grant.paths) checkPathPrefix(ctx, p, "path prefix");
}

// A block may set one global default and any number of per-service ones,
// but never allow and deny the same service.
void checkDefaults(Context& ctx, const ast::PermissionsBlock& block) {
  const ast::DefaultRule* global = nullptr;
  std::map<std::string, const ast::DefaultRule*> per_service;
  for (const ast::DefaultRule& rule : block.defaults) {
    for (const ast::Word& s : rule.services) checkServiceName(ctx, s, true);
    if (rule.services.empty()) {
      if (global != nullptr) {
        ctx.sink.error("conflicting-default", rule.span,
                       fmt::format("this block already sets the default `{}` at line {}",
                                   global->allow ? "allow" : "deny", global->span.line),
                       "keep one `default allow` or `default deny`; name services to set "
                       "defaults per service");
      } else {
        global = &rule;
      }
      continue;
    }
    for (const std::string& name : serviceNamesIn(serviceSetOf(rule.services))) {
      auto [it, inserted] = per_service.emplace(name, &rule);
      if (!inserted && it->second->allow != rule.allow) {
        ctx.sink.error("conflicting-default", rule.span,
                       fmt::format("service `{}` is both allowed and denied by default", name),
                       "keep one of the two defaults for this service");
      }
    }
  }
}

}  // namespace

bool checkPathPrefix(Context& ctx, const ast::Text& path, std::string_view setting) {
  if (auto problem = pathPrefixProblem(path.value)) {
    ctx.sink.error("invalid-path-prefix", path.span,
                   fmt::format("{} {} is not valid: {}", setting, diag::quote(path.value), *problem),
                   "write an absolute path such as `/api/v1`, without `.` or `..` segments, "
                   "`//`, `;`, `?` or `#`");
    return false;
  }
  std::string normalized = normalizePathPrefix(path.value);
  if (normalized != path.value) {
    ctx.sink.warning("non-normalized-path-prefix", path.span,
                     fmt::format("{} {} is matched as {}, the form the proxy normalizes request "
                                 "paths to",
                                 setting, diag::quote(path.value), diag::quote(normalized)),
                     "write `" + normalized + "`");
  }
  return true;
}

bool checkServiceName(Context& ctx, const ast::Word& service, bool allow_all) {
  if (ir::serviceFromName(service.text) || (allow_all && service.text == "all")) return true;
  std::vector<std::string> names = serviceNames();
  if (allow_all) names.push_back("all");
  std::string help = didYouMean(service.text, names);
  if (!help.empty()) help += " ";
  help += "services are " + listNames(serviceNames());
  if (allow_all) help += "; `all` names every service";
  ctx.sink.error("unknown-service", service.span,
                 fmt::format("{} is not a service", diag::quote(service.text)), help);
  return false;
}

void checkServices(Context& ctx) {
  forEachGroupBody(ctx, [&](const GroupSite& site) {
    for (const ast::Grant& g : site.body->grants) checkGrant(ctx, g);
  });
  forEachBlock(ctx, [&](const BlockSite& site) { checkDefaults(ctx, *site.block); });
}

}  // namespace hoody::sema
