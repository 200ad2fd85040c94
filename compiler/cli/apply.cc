// SPDX-License-Identifier: Apache-2.0
// hoodyc apply: install the host layers of a policy or bundle.
#include <signal.h>

#include <cstring>
#include <iostream>

#include "compiler/cli/commands.h"
#include "compiler/cli/front.h"
#include "compiler/cli/host_artifacts.h"
#include "runtime/host/applier.h"
#include "runtime/host/wireguard.h"
#include "compiler/backend/wireguard/wireguard_config.h"

namespace hoody::cli {
namespace {

// The artifacts to apply: read from a bundle, or compiled from the policy
// (and written as a bundle when an output directory is given).
Result<host::HostArtifacts> artifactsFor(const PolicyInput& input, const ApplyRequest& request,
                                         int& exit_code) {
  if (request.bundle) return loadHost(*request.bundle);
  FrontEnd front = runFront(input, true, true);
  if (!front.ran) {
    exit_code = kExitUsage;
    return makeError("usage", "cannot read the policy");
  }
  std::cerr << driver::renderDiagnostics(front.out, input.color);
  if (!front.out.ok) {
    exit_code = kExitPolicy;
    return makeError("policy", "the policy has errors; nothing was applied");
  }
  auto build = buildHost(front.out.host);
  if (!build) {
    exit_code = kExitPolicy;
    return Unexpected<Error>{build.error()};
  }
  for (const std::string& note : build->notes) std::cerr << "hoodyc: note: " << note << "\n";
  if (request.output) {
    std::string written =
        writeCompiledBundle(input, front.out.policy, build->files, *request.output);
    if (!written.empty()) {
      exit_code = kExitUsage;
      return makeError("io-error", written);
    }
  }
  return std::move(build->artifacts);
}

}  // namespace

int runApply(const PolicyInput& input, const ApplyRequest& request) {
  int exit_code = kExitUsage;
  auto artifacts = artifactsFor(input, request, exit_code);
  if (!artifacts) {
    if (artifacts.error().code != "policy" || exit_code != kExitPolicy) {
      std::cerr << "hoodyc: error: " << artifacts.error().message << "\n";
    }
    return exit_code;
  }

  host::ApplyOptions options;
  options.dry_run = request.dry_run;
  options.probe_wireguard = [] { return host::probeWireguardSupport(); };
  options.bring_up_wireguard =
      [&](const host::WireguardTarget& target) -> Result<std::function<void()>> {
    host::TunnelOptions tunnel;
    tunnel.key_file = wireguard::keyFilePath(request.wireguard_key_dir, target.exit.interface);
    HOODY_TRY(host::bringUp(target.exit, tunnel));
    std::string interface = target.exit.interface;
    return std::function<void()>([interface, tunnel] { (void)host::tearDown(interface, tunnel); });
  };
  auto report = host::applyHost(*artifacts, options);
  if (!report) {
    std::cerr << "hoodyc: error: " << report.error().message << "\n";
    return kExitPolicy;
  }
  std::cout << report->plan;
  if (request.dry_run) {
    std::cout << (report->changed ? "dry run: the changes above were checked by the kernel and "
                                    "not applied\n"
                                  : "dry run: nothing would change\n");
    return kExitOk;
  }
  std::cout << "applied\n";
  if (request.reload_pid) {
    if (::kill(*request.reload_pid, SIGHUP) != 0) {
      std::cerr << "hoodyc: error: the host layers are applied, but the proxy (pid "
                << *request.reload_pid << ") could not be told to reload: "
                << std::strerror(errno) << "\n";
      return kExitUsage;
    }
    std::cout << "asked hoody-proxy (pid " << *request.reload_pid << ") to reload\n";
  }
  return kExitOk;
}

}  // namespace hoody::cli
