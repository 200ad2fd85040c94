// SPDX-License-Identifier: Apache-2.0
// Tests of seccomp file installation: atomic replacement, modes, rollback,
// and clear errors for bad paths. Works in a fresh temporary directory.
#include "runtime/host/seccomp_install.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hoody::host {
namespace {

namespace fs = std::filesystem;

class SeccompInstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "hoody-install-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::string read(const std::string& file) {
    std::ifstream in(file);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

  static void write(const std::string& file, const std::string& content, mode_t mode) {
    std::ofstream(file) << content;
    ASSERT_EQ(chmod(file.c_str(), mode), 0);
  }

  static mode_t modeOf(const std::string& file) {
    struct stat st {};
    EXPECT_EQ(stat(file.c_str(), &st), 0) << file;
    return st.st_mode & 07777;
  }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  static ir::HostContainer container(std::string name, uint32_t profile, std::string file) {
    ir::HostContainer c;
    c.realm = "acme";
    c.project = "production";
    c.name = std::move(name);
    c.seccomp_profile = profile;
    c.seccomp_file = std::move(file);
    return c;
  }

  fs::path dir_;
};

TEST_F(SeccompInstallTest, CreatesNewFile) {
  auto installed = installFile(path("seccomp"), "2\ndenylist\n");
  ASSERT_TRUE(installed) << installed.error().str();
  EXPECT_FALSE(installed->previous.has_value());
  EXPECT_EQ(read(path("seccomp")), "2\ndenylist\n");
  EXPECT_EQ(modeOf(path("seccomp")), 0644u);
  EXPECT_EQ(entries(), std::vector<std::string>{"seccomp"});

  auto restored = installed->restore();
  ASSERT_TRUE(restored) << restored.error().str();
  EXPECT_FALSE(fs::exists(path("seccomp")));
}

TEST_F(SeccompInstallTest, ReplacesAndRestores) {
  write(path("seccomp"), "old policy\n", 0600);
  auto installed = installFile(path("seccomp"), "new policy\n");
  ASSERT_TRUE(installed) << installed.error().str();
  ASSERT_TRUE(installed->previous.has_value());
  EXPECT_EQ(*installed->previous, "old policy\n");
  EXPECT_EQ(installed->previous_mode, 0600u);
  EXPECT_EQ(read(path("seccomp")), "new policy\n");
  EXPECT_EQ(modeOf(path("seccomp")), 0644u);

  auto restored = installed->restore();
  ASSERT_TRUE(restored) << restored.error().str();
  EXPECT_EQ(read(path("seccomp")), "old policy\n");
  EXPECT_EQ(modeOf(path("seccomp")), 0600u);
  EXPECT_EQ(entries(), std::vector<std::string>{"seccomp"}) << "a temporary file was left behind";
}

TEST_F(SeccompInstallTest, MissingDirectoryIsClear) {
  std::string target = path("no-such-dir/seccomp");
  auto installed = installFile(target, "2\ndenylist\n");
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().code, "missing-directory");
  EXPECT_NE(
      installed.error().message.find(path("no-such-dir") + " of " + target + " does not exist"),
      std::string::npos)
      << installed.error().message;
  EXPECT_TRUE(entries().empty());
}

TEST_F(SeccompInstallTest, RejectsNonRegularFiles) {
  fs::create_directory(path("a-directory"));
  auto on_dir = installFile(path("a-directory"), "x");
  ASSERT_FALSE(on_dir);
  EXPECT_EQ(on_dir.error().code, "not-a-file");
  EXPECT_NE(on_dir.error().message.find("is a directory"), std::string::npos);

  write(path("target"), "kept\n", 0644);
  fs::create_symlink(path("target"), path("link"));
  auto on_link = installFile(path("link"), "x");
  ASSERT_FALSE(on_link);
  EXPECT_EQ(on_link.error().code, "not-a-file");
  EXPECT_NE(on_link.error().message.find("is a symbolic link"), std::string::npos);
  EXPECT_EQ(read(path("target")), "kept\n");
}

TEST_F(SeccompInstallTest, PlansChanges) {
  write(path("same"), "policy A\n", 0644);
  write(path("other"), "old\n", 0644);
  ir::HostPolicy policy;
  policy.containers = {container("web", 0, path("same")), container("worker", 1, path("other")),
                       container("db", 1, path("new")), container("cache", 0, "")};
  std::vector<std::string> lxc = {"policy A\n", "policy B\n"};

  auto plan = planSeccompFiles(policy, lxc);
  ASSERT_TRUE(plan) << plan.error().str();
  ASSERT_EQ(plan->size(), 3u);
  // Sorted by path: new, other, same.
  EXPECT_EQ((*plan)[0].path, path("new"));
  EXPECT_EQ((*plan)[0].container, "acme/production/db");
  EXPECT_EQ((*plan)[0].change, PlannedFile::Change::Create);
  EXPECT_EQ((*plan)[1].change, PlannedFile::Change::Replace);
  EXPECT_EQ((*plan)[2].change, PlannedFile::Change::Unchanged);
  EXPECT_EQ(entries(), (std::vector<std::string>{"other", "same"})) << "planning wrote files";
}

TEST_F(SeccompInstallTest, InstallsChangedFilesOnly) {
  write(path("same"), "policy A\n", 0644);
  ir::HostPolicy policy;
  policy.containers = {container("web", 0, path("same")), container("db", 1, path("new"))};
  std::vector<std::string> lxc = {"policy A\n", "policy B\n"};

  auto installed = installSeccompFiles(policy, lxc);
  ASSERT_TRUE(installed) << installed.error().str();
  ASSERT_EQ(installed->size(), 1u);
  EXPECT_EQ((*installed)[0].path, path("new"));
  EXPECT_EQ(read(path("new")), "policy B\n");

  ASSERT_TRUE(restoreAll(*installed));
  EXPECT_EQ(entries(), std::vector<std::string>{"same"});
}

TEST_F(SeccompInstallTest, FailedInstallRollsBack) {
  write(path("a-first"), "old A\n", 0644);
  // A name of 250 bytes is valid, but the temporary name next to it exceeds
  // NAME_MAX, so writing it fails after the plan succeeded.
  std::string long_name = "b" + std::string(249, 'x');
  ir::HostPolicy policy;
  policy.containers = {container("web", 0, path("a-first")), container("db", 0, path(long_name))};
  std::vector<std::string> lxc = {"new\n"};

  auto installed = installSeccompFiles(policy, lxc);
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().code, "io-error");
  EXPECT_NE(installed.error().message.find(long_name), std::string::npos);
  EXPECT_EQ(read(path("a-first")), "old A\n") << "the first file was not rolled back";
  EXPECT_EQ(entries(), std::vector<std::string>{"a-first"});
}

TEST_F(SeccompInstallTest, RejectsConflictingFiles) {
  ir::HostPolicy policy;
  policy.containers = {container("web", 0, path("shared")), container("db", 1, path("shared"))};
  std::vector<std::string> lxc = {"policy A\n", "policy B\n"};
  auto installed = installSeccompFiles(policy, lxc);
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().code, "conflicting-seccomp-file");
  EXPECT_NE(installed.error().message.find("acme/production/web and acme/production/db"),
            std::string::npos)
      << installed.error().message;
  EXPECT_TRUE(entries().empty());
}

TEST_F(SeccompInstallTest, RejectsMissingProfile) {
  ir::HostPolicy policy;
  policy.containers = {container("web", 2, path("seccomp"))};
  std::vector<std::string> lxc = {"policy A\n"};
  auto installed = installSeccompFiles(policy, lxc);
  ASSERT_FALSE(installed);
  EXPECT_EQ(installed.error().code, "missing-profile");
}

}  // namespace
}  // namespace hoody::host
