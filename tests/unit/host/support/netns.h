// SPDX-License-Identifier: Apache-2.0
// Network namespaces for tests and benchmarks: creation and guaranteed
// deletion, commands run inside them, and entering one from this thread.
//
// Names are `hoody-t-<pid>-<n>`, unique per process. A namespace is deleted
// when its guard goes out of scope, also when a test fails. Namespaces left
// by a process of ours that died (same prefix, PID no longer running) are
// deleted before the first new one is made. Everything is header-only so
// both the test binary and the benchmark can use it.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace hoody::testing {

struct CommandResult {
  int status = -1;  ///< Exit status; -1 when the command did not finish.
  std::string output;  ///< Standard output and standard error, interleaved.
  bool ok() const { return status == 0; }
};

/// Runs `argv` (looked up in PATH) and waits at most `timeout_ms`; a command
/// still running then is killed and reported with status -1.
inline CommandResult runCommand(const std::vector<std::string>& argv, int timeout_ms = 5000) {
  CommandResult result;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return result;
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buffer[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == 0) {
    // Still running after the deadline (or it closed its output early).
    auto grace = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > grace) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        result.output += "\n(killed: timed out)";
        return result;
      }
      usleep(1000);
    }
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// Returns why network namespace tests cannot run here, or nullopt.
inline std::optional<std::string> netnsUnavailable() {
  if (geteuid() != 0) return "network namespace tests need root";
  if (!runCommand({"ip", "netns", "list"}).ok()) return "`ip netns` is not available";
  if (!runCommand({"nft", "--version"}).ok()) return "the `nft` command is not available";
  return std::nullopt;
}

namespace internal {

inline constexpr const char* kPrefix = "hoody-t-";

// Deletes namespaces named `hoody-t-<pid>-*` whose process is gone.
inline void deleteStaleNamespaces() {
  DIR* dir = opendir("/run/netns");
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.rfind(kPrefix, 0) != 0) continue;
    std::string rest = name.substr(std::strlen(kPrefix));
    size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0) continue;
    std::string digits = rest.substr(0, dash);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == getpid()) continue;
    if (kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(name);
  }
  closedir(dir);
  for (const std::string& name : stale) runCommand({"ip", "netns", "del", name});
}

}  // namespace internal

/// A network namespace that exists for the lifetime of this object.
class NetNamespace {
 public:
  NetNamespace() {
    static std::atomic<int> counter{0};
    static std::atomic<bool> cleaned{false};
    if (!cleaned.exchange(true)) internal::deleteStaleNamespaces();
    name_ = std::string(internal::kPrefix) + std::to_string(getpid()) + "-" +
            std::to_string(counter++);
    CommandResult r = runCommand({"ip", "netns", "add", name_});
    created_ = r.ok();
    error_ = r.output;
    if (created_) ip({"link", "set", "lo", "up"});
  }
  ~NetNamespace() {
    if (created_) runCommand({"ip", "netns", "del", name_});
  }
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  bool created() const { return created_; }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }

  /// Runs `ip -n <name> ARGS...`.
  CommandResult ip(std::vector<std::string> args) const {
    args.insert(args.begin(), {"ip", "-n", name_});
    return runCommand(args);
  }

  /// Runs a command inside the namespace with `ip netns exec`.
  CommandResult exec(std::vector<std::string> argv, int timeout_ms = 5000) const {
    argv.insert(argv.begin(), {"ip", "netns", "exec", name_});
    return runCommand(argv, timeout_ms);
  }

  /// Sets sysctls inside the namespace, e.g. {"net.ipv4.ip_forward=1"}.
  CommandResult sysctl(const std::vector<std::string>& settings) const {
    std::vector<std::string> argv = {"sysctl", "-q", "-w"};
    argv.insert(argv.end(), settings.begin(), settings.end());
    return exec(argv);
  }

 private:
  std::string name_;
  std::string error_;
  bool created_ = false;
};

/// Moves the calling thread into a namespace and back to its previous one
/// when destroyed. Sockets created meanwhile stay in the entered namespace.
class NamespaceEntry {
 public:
  explicit NamespaceEntry(const NetNamespace& ns) {
    previous_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(("/run/netns/" + ns.name()).c_str(), O_RDONLY | O_CLOEXEC);
    entered_ = previous_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0;
    if (target >= 0) close(target);
  }
  ~NamespaceEntry() {
    // Failing to return would run every later test in the wrong namespace.
    if (entered_ && setns(previous_, CLONE_NEWNET) != 0) abort();
    if (previous_ >= 0) close(previous_);
  }
  NamespaceEntry(const NamespaceEntry&) = delete;
  NamespaceEntry& operator=(const NamespaceEntry&) = delete;

  bool entered() const { return entered_; }

 private:
  int previous_ = -1;
  bool entered_ = false;
};

}  // namespace hoody::testing
