// SPDX-License-Identifier: Apache-2.0
// Atomic installation of seccomp policy files, with rollback.
#include "runtime/host/seccomp_install.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

namespace hoody::host {
namespace {

Unexpected<Error> ioError(std::string_view operation, const std::string& path, int err) {
  return makeError("io-error", fmt::format("{} {} failed: {}", operation, path, strerror(err)));
}

std::string parentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<void> checkParent(const std::string& path) {
  std::string parent = parentOf(path);
  struct stat st {};
  if (stat(parent.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return makeError("missing-directory",
                       fmt::format("directory {} of {} does not exist; create it, or correct the "
                                   "path (`seccomp_file` in the inventory)",
                                   parent, path));
    }
    return ioError("stat of", parent, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return makeError("missing-directory",
                     fmt::format("{} is not a directory, so {} cannot be written", parent, path));
  }
  return {};
}

struct Existing {
  bool exists = false;
  std::string content;
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Reads the current file at `path`, rejecting anything but a regular file.
Result<Existing> readExisting(const std::string& path) {
  Existing existing;
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return existing;
    return ioError("lstat of", path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    std::string_view kind = S_ISDIR(st.st_mode)   ? "a directory"
                            : S_ISLNK(st.st_mode) ? "a symbolic link"
                                                  : "not a regular file";
    return makeError("not-a-file", fmt::format("{} is {}; point the configuration at a regular "
                                               "file",
                                               path, kind));
  }
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return ioError("opening", path, errno);
  char buffer[8192];
  while (true) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ioError("reading", path, errno);
    if (n == 0) break;
    existing.content.append(buffer, static_cast<size_t>(n));
  }
  existing.exists = true;
  existing.mode = st.st_mode & 07777;
  existing.uid = st.st_uid;
  existing.gid = st.st_gid;
  return existing;
}

Result<void> writeAll(int fd, std::string_view content, const std::string& path) {
  while (!content.empty()) {
    ssize_t n = write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ioError("writing", path, errno);
    content.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<void> syncDirectory(const std::string& dir) {
  Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ioError("opening directory", dir, errno);
  if (fsync(fd.get()) != 0) return ioError("fsync of directory", dir, errno);
  return {};
}

// Writes a temporary file next to `path` and renames it over `path`. With
// `owner`, the new file gets that owner, as the file it replaces had.
Result<void> replaceAtomically(const std::string& path, std::string_view content, mode_t mode,
                               const Existing* owner) {
  std::string temp = path + ".hoody-XXXXXX";
  int raw = mkostemp(temp.data(), O_CLOEXEC);
  if (raw < 0) return ioError("creating a temporary file for", path, errno);
  Fd fd(raw);
  auto fail = [&](Unexpected<Error> error) -> Result<void> {
    unlink(temp.c_str());
    return error;
  };
  if (auto written = writeAll(fd.get(), content, temp); !written) {
    return fail(Unexpected<Error>{written.error()});
  }
  if (fchmod(fd.get(), mode) != 0) return fail(ioError("chmod of", temp, errno));
  if (owner != nullptr && fchown(fd.get(), owner->uid, owner->gid) != 0) {
    return fail(ioError("chown of", temp, errno));
  }
  if (fsync(fd.get()) != 0) return fail(ioError("fsync of", temp, errno));
  if (rename(temp.c_str(), path.c_str()) != 0)
    return fail(ioError("renaming a temporary file to", path, errno));
  return syncDirectory(parentOf(path));
}

std::string containerName(const ir::HostContainer& c) {
  return fmt::format("{}/{}/{}", c.realm, c.project, c.name);
}

// The LXC policy each container with a seccomp file gets, keyed by path.
struct Target {
  std::string container;
  const std::string* content = nullptr;
};

Result<std::map<std::string, Target>> targetsOf(const ir::HostPolicy& policy,
                                                std::span<const std::string> lxc_policies) {
  std::map<std::string, Target> targets;
  for (const ir::HostContainer& c : policy.containers) {
    if (c.seccomp_file.empty()) continue;
    if (c.seccomp_profile >= lxc_policies.size()) {
      return makeError(
          "missing-profile",
          fmt::format("container {} uses seccomp profile {}, but only {} were compiled",
                      containerName(c), c.seccomp_profile, lxc_policies.size()));
    }
    const std::string* content = &lxc_policies[c.seccomp_profile];
    auto [it, inserted] = targets.emplace(c.seccomp_file, Target{containerName(c), content});
    if (!inserted && *it->second.content != *content) {
      return makeError("conflicting-seccomp-file",
                       fmt::format("containers {} and {} both name {} as their seccomp file but "
                                   "have different profiles; give each container its own file",
                                   it->second.container, containerName(c), c.seccomp_file));
    }
  }
  return targets;
}

}  // namespace

Result<void> InstalledFile::restore() const {
  if (!previous) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return ioError("removing", path, errno);
    return syncDirectory(parentOf(path));
  }
  return replaceAtomically(path, *previous, previous_mode, nullptr);
}

Result<InstalledFile> installFile(const std::string& path, std::string_view content, mode_t mode) {
  HOODY_TRY(checkParent(path));
  auto existing = readExisting(path);
  if (!existing) return Unexpected<Error>{existing.error()};

  InstalledFile installed{path, std::nullopt, 0644};
  if (existing->exists) {
    installed.previous = existing->content;
    installed.previous_mode = existing->mode;
  }
  HOODY_TRY(replaceAtomically(path, content, mode, existing->exists ? &*existing : nullptr));
  return installed;
}

Result<void> restoreAll(std::span<const InstalledFile> files) {
  Result<void> first;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    auto restored = it->restore();
    if (!restored && first) first = restored;
  }
  return first;
}

Result<std::vector<PlannedFile>> planSeccompFiles(const ir::HostPolicy& policy,
                                                  std::span<const std::string> lxc_policies) {
  auto targets = targetsOf(policy, lxc_policies);
  if (!targets) return Unexpected<Error>{targets.error()};
  std::vector<PlannedFile> plan;
  for (const auto& [path, target] : *targets) {
    HOODY_TRY(checkParent(path));
    auto existing = readExisting(path);
    if (!existing) return Unexpected<Error>{existing.error()};
    PlannedFile::Change change = !existing->exists ? PlannedFile::Change::Create
                                 : existing->content == *target.content
                                     ? PlannedFile::Change::Unchanged
                                     : PlannedFile::Change::Replace;
    plan.push_back({target.container, path, change});
  }
  return plan;
}

Result<std::vector<InstalledFile>> installSeccompFiles(const ir::HostPolicy& policy,
                                                       std::span<const std::string> lxc_policies) {
  auto plan = planSeccompFiles(policy, lxc_policies);
  if (!plan) return Unexpected<Error>{plan.error()};
  auto targets = targetsOf(policy, lxc_policies);
  if (!targets) return Unexpected<Error>{targets.error()};

  std::vector<InstalledFile> installed;
  for (const PlannedFile& file : *plan) {
    if (file.change == PlannedFile::Change::Unchanged) continue;
    auto written = installFile(file.path, *targets->at(file.path).content);
    if (!written) {
      auto restored = restoreAll(installed);
      Error error = written.error();
      if (!restored) error.message += "; rolling back also failed: " + restored.error().message;
      return Unexpected<Error>{std::move(error)};
    }
    installed.push_back(std::move(*written));
  }
  return installed;
}

}  // namespace hoody::host
