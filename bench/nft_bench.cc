// SPDX-License-Identifier: Apache-2.0
// Host applier benchmark: time to emit and atomically apply the nftables
// table for many containers, and TCP connects per second through a host
// namespace whose table holds 10 or 10 000 containers.
//
// Needs root (it creates network namespaces). Usage:
//   hoody_nft_bench [--containers N] [--seconds S]
// Everything runs in namespaces named hoody-t-<pid>-<n>, deleted on exit.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>

#include "compiler/backend/nft/nft_backend.h"
#include "runtime/host/nftables.h"
#include "tests/unit/host/support/host_builder.h"
#include "tests/unit/host/support/probes.h"
#include "tests/unit/host/support/topology.h"

namespace {

using namespace hoody;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `step` `rounds` times and returns the median time in seconds.
double medianSeconds(int rounds, const std::function<void()>& step) {
  std::vector<double> times;
  for (int i = 0; i < rounds; ++i) {
    Clock::time_point start = Clock::now();
    step();
    times.push_back(secondsSince(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// A fleet of `count` containers. Container 0 is the real one behind
// `veth-web` (the topology's container 1); the others have made-up
// interfaces that exist only in the verdict maps. Each container lets TCP
// port 80 in from the outside network, allows egress to it, uses DNS and
// lists its own addresses for anti-spoofing.
ir::HostPolicy fleet(size_t count) {
  using ir::Direction;
  using ir::Protocol;
  ir::HostPolicy host;
  for (size_t i = 0; i < count; ++i) {
    std::string interface = i == 0 ? "veth-web" : fmt::format("vf{}", i);
    ir::HostContainer c = testing::container(fmt::format("c{}", i), fmt::format("{:024x}", i + 1),
                                             interface, {"192.0.2.10", "2001:db8:1::10"});
    c.firewall.rules = {
        testing::rule(Direction::Ingress, true, Protocol::Tcp, {"203.0.113.0/24", "2001:db8:ff::/48"},
                      {{80, 80}}, fmt::format("fleet.hoody:{}", 2 * i + 1)),
        testing::rule(Direction::Egress, true, Protocol::Tcp, {"203.0.113.0/24", "2001:db8:ff::/48"},
                      {}, fmt::format("fleet.hoody:{}", 2 * i + 2)),
    };
    testing::setNetwork(c, ir::Ipv4Mode::Public, {}, {"198.51.100.53"});
    host.containers.push_back(std::move(c));
  }
  return host;
}

bool check(const Result<void>& r, const char* step) {
  if (!r) fmt::print(stderr, "{} failed: {}\n", step, r.error().str());
  return static_cast<bool>(r);
}

// Emits and applies the fleet's table in a fresh namespace.
bool benchApply(size_t count) {
  ir::HostPolicy host = fleet(count);
  nft::Ruleset rs;
  double emit = medianSeconds(5, [&] { rs = nft::emitRuleset(host); });
  fmt::print("containers={} chains={} rules={} text_bytes={} json_bytes={}\n", count, rs.chains,
             rs.rules, rs.text.size(), rs.json.size());
  fmt::print("emit (text + JSON): {:.3f} s\n", emit);

  testing::NetNamespace ns;
  if (!ns.created()) {
    fmt::print(stderr, "ip netns add failed: {}\n", ns.error());
    return false;
  }
  testing::NamespaceEntry enter(ns);
  bool ok = true;
  Clock::time_point start = Clock::now();
  ok = ok && check(host::replaceTable(rs.text), "first apply");
  fmt::print("first apply (text): {:.3f} s\n", secondsSince(start));
  double replace = medianSeconds(3, [&] { ok = ok && check(host::replaceTable(rs.text), "replace"); });
  fmt::print("replace (text, median of 3): {:.3f} s\n", replace);
  double replace_json =
      medianSeconds(3, [&] { ok = ok && check(host::replaceTable(rs.json), "replace JSON"); });
  fmt::print("replace (JSON, median of 3): {:.3f} s\n", replace_json);
  double check_time =
      medianSeconds(3, [&] { ok = ok && check(host::checkTable(rs.text), "dry-run check"); });
  fmt::print("dry-run check (text, median of 3): {:.3f} s\n", check_time);
  start = Clock::now();
  auto loaded = host::loadedTable();
  if (!loaded) {
    fmt::print(stderr, "listing failed: {}\n", loaded.error().str());
    return false;
  }
  host::Plan plan = host::planChanges(*loaded, host::summarizeDigests(rs.digests));
  fmt::print("list loaded table + plan: {:.3f} s ({} unchanged)\n", secondsSince(start),
             plan.count(host::Change::Unchanged));
  return ok;
}

// Connects to `address:port` from `from` as fast as it can for `seconds`,
// one connection at a time; returns connections per second, or -1 on error.
double connectRate(const testing::NetNamespace& from, const testing::NetNamespace& to,
                   const std::string& address, uint16_t port, double seconds) {
  testing::Servers servers;
  if (!servers.listenTcp(to, port)) return -1;
  int listener = servers.tcp().front();
  sockaddr_storage target{};
  socklen_t size = 0;
  if (!testing::internal::toSockaddr(address, port, target, size)) return -1;

  size_t count = 0;
  Clock::time_point start = Clock::now();
  while (secondsSince(start) < seconds) {
    int fd = testing::internal::socketIn(from, target.ss_family, SOCK_STREAM);
    if (fd < 0) return -1;
    // Blocking connect with a bound: a dropped SYN ends the run as an error.
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    timeval limit{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    // An abortive close leaves no TIME_WAIT entry to run out of ports.
    linger abort_close{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
    if (connect(fd, reinterpret_cast<sockaddr*>(&target), size) != 0) {
      close(fd);
      return -1;
    }
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 1000) == 1) {
      int accepted = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (accepted >= 0) close(accepted);
    }
    close(fd);
    ++count;
  }
  return static_cast<double>(count) / secondsSince(start);
}

bool benchPacketPath(size_t large, double seconds) {
  testing::Topology topology;
  testing::ContainerNet& web = topology.addContainer("veth-web", 1);
  if (!topology.ok()) {
    fmt::print(stderr, "topology setup failed: {}\n", topology.error());
    return false;
  }

  struct Case {
    std::string name;
    size_t containers;  ///< 0: no table loaded.
  };
  std::vector<Case> cases = {{"no table", 0}, {"10 containers", 10},
                             {fmt::format("{} containers", large), large}};
  const int kRounds = 3;

  std::vector<std::vector<double>> ingress(cases.size());
  std::vector<std::vector<double>> egress(cases.size());
  // Rounds alternate between the cases, so that drift on a shared machine
  // spreads over all of them.
  for (int round = 0; round < kRounds; ++round) {
    for (size_t i = 0; i < cases.size(); ++i) {
      {
        testing::NamespaceEntry enter(topology.host());
        Result<void> r = cases[i].containers == 0
                             ? host::deleteTable()
                             : host::replaceTable(nft::emitRuleset(fleet(cases[i].containers)).text);
        if (!check(r, "apply")) return false;
      }
      double in = connectRate(topology.outside(), *web.ns, web.v6, 80, seconds);
      double out = connectRate(*web.ns, topology.outside(), "2001:db8:ff::2", 8080, seconds);
      if (in < 0 || out < 0) {
        fmt::print(stderr, "connect failed or timed out with {} loaded\n", cases[i].name);
        return false;
      }
      ingress[i].push_back(in);
      egress[i].push_back(out);
    }
  }

  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  fmt::print("TCP connects per second over IPv6 (median of {} rounds of {:.1f} s):\n", kRounds,
             seconds);
  for (size_t i = 0; i < cases.size(); ++i) {
    fmt::print("  {:<18} outside->container {:>8.0f}/s   container->outside {:>8.0f}/s\n",
               cases[i].name, median(ingress[i]), median(egress[i]));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t containers = 10000;
  double seconds = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--containers") {
      containers = std::strtoul(argv[i + 1], nullptr, 10);
    } else if (flag == "--seconds") {
      seconds = std::strtod(argv[i + 1], nullptr);
    } else {
      fmt::print(stderr, "unknown option {}; use --containers N or --seconds S\n", flag);
      return 2;
    }
  }
  if (containers < 10 || seconds <= 0) {
    fmt::print(stderr, "--containers must be at least 10 and --seconds positive\n");
    return 2;
  }
  if (auto reason = testing::netnsUnavailable()) {
    fmt::print(stderr, "cannot run: {}\n", *reason);
    return 1;
  }
  if (!benchApply(containers)) return 1;
  return benchPacketPath(containers, seconds) ? 0 : 1;
}
