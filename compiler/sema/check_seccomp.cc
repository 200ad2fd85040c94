// SPDX-License-Identifier: Apache-2.0
// Seccomp blocks: a known base profile, known actions, well-formed system
// call names, errno names of the C library, and no system call with two
// different actions.
//
// System call names are checked for form only: whether a name exists on
// each architecture is decided when the filter is built with libseccomp.
#include <fmt/format.h>

#include <cstring>
#include <map>

#include "compiler/sema/checker.h"
#include "compiler/sema/values.h"

namespace hoody::sema {
namespace {

bool isSyscallName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !(std::islower(static_cast<unsigned char>(name[0])) ||
                                            name[0] == '_')) {
    return false;
  }
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

// The errno names of this C library (EPERM, EACCES, ...).
const std::vector<std::string>& errnoNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (int e = 1; e < 4096; ++e) {
      if (const char* name = strerrorname_np(e)) names.emplace_back(name);
    }
    return names;
  }();
  return kNames;
}

void checkRule(Context& ctx, const ast::SeccompRule& rule,
               std::map<std::string, const ast::SeccompRule*>& actions) {
  static const std::vector<std::string> kActions = {"allow", "deny", "kill", "log", "trap"};
  const std::string& action = rule.action.text;
  if (std::find(kActions.begin(), kActions.end(), action) == kActions.end()) {
    std::string help = didYouMean(action, kActions);
    if (!help.empty()) help += " ";
    help += "actions are " + listNames(kActions);
    ctx.sink.error("unknown-seccomp-action", rule.action.span,
                   fmt::format("{} is not a seccomp action", diag::quote(action)), help);
  }
  if (rule.errno_name) {
    const std::string& name = rule.errno_name->text;
    if (action != "deny") {
      ctx.sink.error("invalid-seccomp-rule", rule.errno_name->span,
                     fmt::format("`errno` applies to `deny` rules, not to `{}`", action),
                     "remove `errno " + name + "`");
    } else if (std::find(errnoNames().begin(), errnoNames().end(), name) == errnoNames().end()) {
      std::string help = didYouMean(name, errnoNames());
      if (help.empty()) help = "use an errno name such as `EPERM` or `ENOSYS`";
      ctx.sink.error("unknown-errno", rule.errno_name->span,
                     fmt::format("{} is not an errno name", diag::quote(name)), help);
    }
  }
  for (const ast::Word& syscall : rule.syscalls) {
    if (!isSyscallName(syscall.text)) {
      ctx.sink.error("invalid-syscall", syscall.span,
                     fmt::format("{} is not a system call name", diag::quote(syscall.text)),
                     "write the name as in the kernel's system call table, e.g. `ptrace`");
      continue;
    }
    auto [it, inserted] = actions.emplace(syscall.text, &rule);
    if (!inserted && it->second->action.text != action) {
      ctx.sink.error("conflicting-seccomp-rule", syscall.span,
                     fmt::format("system call `{}` is already given the action `{}` at line {}",
                                 syscall.text, it->second->action.text, it->second->span.line),
                     "give each system call one action");
    }
  }
}

}  // namespace

void checkSeccomp(Context& ctx) {
  forEachContainer(ctx, [&](const ContainerSite& site) {
    if (!site.container->seccomp) return;
    const ast::Seccomp& seccomp = *site.container->seccomp;
    if (seccomp.base && seccomp.base->text != "default") {
      ctx.sink.error("unknown-name", seccomp.base->span,
                     fmt::format("seccomp profile {} is not defined", diag::quote(seccomp.base->text)),
                     "the base profile is `default`: write `seccomp default { ... }`");
    }
    std::map<std::string, const ast::SeccompRule*> actions;
    for (const ast::SeccompRule& rule : seccomp.rules) checkRule(ctx, rule, actions);
  });
}

}  // namespace hoody::sema
