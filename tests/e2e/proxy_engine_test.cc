// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the proxy's decision engine: bundles compiled by the
// real hoodyc, the JIT engine against --interp on the same requests, damaged
// or older bundles at start-up and on SIGHUP, and reloads under load. All
// traffic stays on loopback.
#include <openssl/sha.h>
#include <strings.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/abi/bundle.h"
#include "runtime/auth/auth.h"
#include "tests/e2e/e2e_support.h"

namespace hoody::e2e {
namespace {

using nlohmann::json;

constexpr char kNode[] = "node-eu";
constexpr char kDomain[] = "engine.test";
constexpr char kProject[] = "5b1e9d7c3a2f408e6d1c9b57";
constexpr char kOpenId[] = "8c2f6a1e9d4b7035c1e8f2a6";
constexpr char kLockedId[] = "3e7a1c9f5b2d804e6a3c1f97";
constexpr char kOfficeId[] = "a6d4f1c8e2b9705d3f6a1c4e";
constexpr char kAdminId[] = "d9f2b6e1a4c8073f5e2d9b1a";
constexpr char kDatabaseId[] = "1c8e4a7f2d6b903e5c1a8f4d";
constexpr char kUnknownId[] = "7f3b9e1d5c2a864f0b7e3d19";
constexpr char kToken[] = "scraper-token-9e4c1a7f";
constexpr char kPassword[] = "correct horse";

const std::string kProxy = std::string(HOODY_BUILD_DIR) + "/hoody-proxy";
const std::string kHoodyc = std::string(HOODY_BUILD_DIR) + "/hoodyc";

std::string host(const std::string& id, const std::string& service = "http") {
  return id + "-" + kProject + "-" + service + "-1." + kNode + ".containers." + kDomain;
}

std::string sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// The policy of every test. `office_open` is the change that reloads swap in
// and out: without it the office container responds 403 to loopback
// clients, with it 200.
std::string policyText(const std::string& password_hash, bool office_open) {
  std::string office = office_open ? "default allow http" : "default deny";
  return R"(realm acme {
  project web id )" + std::string(kProject) + R"( {
    permissions {
      default deny
      group loopback {
        ip 127.0.0.0/8
        allow http methods GET, HEAD paths "/public"
      }
      group scraper {
        bearer sha256:")" + sha256Hex(kToken) + R"("
        allow http methods GET, HEAD
      }
    }
    container open-api id )" + kOpenId + R"( {
      permissions {
        default allow http
      }
    }
    container locked id )" + kLockedId + R"(
    container office id )" + kOfficeId + R"( {
      permissions {
        )" + office + R"(
        group office {
          ip 203.0.113.0/24
          allow http
        }
      }
    }
    container admin id )" + kAdminId + R"( {
      permissions {
        default deny
        group admins {
          password {
            user "deploy" hash ")" + password_hash + R"("
          }
          allow http
        }
      }
    }
    container billing-db id )" + kDatabaseId + R"( {
      state maintenance
    }
  }
}
)";
}

std::string inventoryText(uint16_t echo_port) {
  json containers = json::object();
  for (const char* id : {kOpenId, kLockedId, kOfficeId, kAdminId, kDatabaseId}) {
    containers[id] = {{"upstream", "127.0.0.1"}, {"services", {{"http", echo_port}}}};
  }
  return json{{"node", kNode}, {"domain", kDomain}, {"containers", containers}}.dump(2);
}

// One request of the allow/deny matrix and the status the policy gives it.
struct Case {
  std::string name;
  std::string host;
  std::string path;
  std::vector<std::string> curl_args;
  int status;
};

std::vector<Case> matrix() {
  std::string bearer = std::string("Authorization: Bearer ") + kToken;
  return {
      {"default allow", host(kOpenId), "/", {}, 200},
      {"default allow POST", host(kOpenId), "/", {"-X", "POST"}, 200},
      {"service not allowed", host(kOpenId, "terminal"), "/", {}, 403},
      {"ip group path", host(kLockedId), "/public/a", {}, 200},
      {"ip group after normalization", host(kLockedId), "/x/../public", {}, 200},
      {"bearer needed", host(kLockedId), "/private", {}, 401},
      {"bearer needed after normalization", host(kLockedId), "/public/../private", {}, 401},
      {"bearer given", host(kLockedId), "/private", {"-H", bearer}, 200},
      {"wrong bearer", host(kLockedId), "/private", {"-H", "Authorization: Bearer nope"}, 401},
      {"method not granted", host(kLockedId), "/private", {"-X", "POST", "-H", bearer}, 403},
      {"ip group method", host(kLockedId), "/public", {"-X", "DELETE"}, 403},
      {"ip group elsewhere", host(kOfficeId), "/", {}, 403},
      {"password needed", host(kAdminId), "/", {}, 401},
      {"password given", host(kAdminId), "/", {"-u", std::string("deploy:") + kPassword}, 200},
      {"wrong password", host(kAdminId), "/", {"-u", "deploy:wrong"}, 401},
      {"maintenance", host(kDatabaseId), "/", {}, 503},
      {"unknown container", host(kUnknownId), "/", {}, 404},
      {"not a container host", host(kOpenId), "/", {"-H", "Host: www.engine.test"}, 404},
  };
}

struct HttpStatus {
  int status = 0;
  std::string group;  ///< X-Hoody-Group the upstream saw, for 200.
  std::string error;
};

class ProxyEngineTest : public ::testing::Test {
 protected:
  struct Proxy {
    pid_t pid = -1;
    uint16_t port = 0;
    std::string log;
  };

  static void SetUpTestSuite() {
    if (!haveProgram("curl") || !haveProgram("python3")) {
      skip_reason_ = "curl or python3 is missing";
      return;
    }
    dir_ = makeTempDir("hoody-engine");
    ASSERT_FALSE(dir_.empty());
    echo_pid_ = spawnProcess({"python3", std::string(HOODY_SOURCE_DIR) +
                                             "/examples/upstream/echo_upstream.py",
                              "--listen", "127.0.0.1:0", "--name", "echo", "--port-file",
                              dir_ + "/echo.port"},
                             dir_ + "/echo.log");
    ASSERT_TRUE(waitForFile(dir_ + "/echo.port", 15)) << readFileText(dir_ + "/echo.log");
    uint16_t echo_port = portOf(readFileText(dir_ + "/echo.port"));
    ASSERT_NE(echo_port, 0);

    Result<std::string> hash = auth::hashPassword(kPassword);
    ASSERT_TRUE(hash.has_value()) << hash.error().message;
    writeFileText(dir_ + "/inventory.json", inventoryText(echo_port));
    for (bool office_open : {false, true}) {
      std::string name = office_open ? "v2" : "v1";
      writeFileText(dir_ + "/" + name + ".hoody", policyText(*hash, office_open));
      CommandResult r = runCommand({kHoodyc, "compile", dir_ + "/" + name + ".hoody",
                                    "--inventory", dir_ + "/inventory.json", "-o",
                                    dir_ + "/" + name},
                                   120);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    jit_ = startProxy(dir_ + "/v1", "jit");
    ASSERT_NE(jit_.port, 0) << readFileText(jit_.log);
    interp_ = startProxy(dir_ + "/v1", "interp", {"--interp"});
    ASSERT_NE(interp_.port, 0) << readFileText(interp_.log);
  }

  static void TearDownTestSuite() {
    // Proxies of tests that stopped at a failed ASSERT are still running.
    for (pid_t pid : started_) {
      if (processRunning(pid)) stopProcess(pid);
    }
    started_.clear();
    jit_ = {};
    interp_ = {};
    stopProcess(echo_pid_, SIGTERM, 5);
    echo_pid_ = -1;
    removeTree(dir_);
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(processRunning(jit_.pid)) << readFileText(jit_.log);
    ASSERT_TRUE(processRunning(interp_.pid)) << readFileText(interp_.log);
  }

  static uint16_t portOf(const std::string& line) {
    size_t colon = line.rfind(':');
    if (colon == std::string::npos) return 0;
    return static_cast<uint16_t>(std::atoi(line.c_str() + colon + 1));
  }

  static Proxy startProxy(const std::string& bundle, const std::string& name,
                          const std::vector<std::string>& extra = {}) {
    Proxy proxy;
    proxy.log = dir_ + "/" + name + ".log";
    std::string port_file = dir_ + "/" + name + ".port";
    std::vector<std::string> argv = {kProxy,          "--bundle",     bundle,
                                     "--state-dir",   dir_ + "/state", "--listen",
                                     "127.0.0.1:0",   "--port-file",  port_file,
                                     "--access-log",  dir_ + "/" + name + "-access.log",
                                     "--workers",     "2",            "--log-level",
                                     "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proxy.pid = spawnProcess(argv, proxy.log);
    started_.push_back(proxy.pid);
    // Waits for the port file, but not for a proxy that already exited.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitForFile(port_file, 0.1)) {
        proxy.port = portOf(readFileText(port_file));
        break;
      }
      if (!processRunning(proxy.pid)) break;
    }
    return proxy;
  }

  static HttpStatus curl(uint16_t port, const std::string& host_name, const std::string& path,
                         const std::vector<std::string>& extra, bool h2) {
    static int counter = 0;
    std::string body_file = dir_ + "/curl-" + std::to_string(++counter) + ".body";
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "10", "--path-as-is",
                                     "--cacert", dir_ + "/state/ca.pem", "-o", body_file, "-w",
                                     "%{http_code}", h2 ? "--http2" : "--http1.1", "--resolve",
                                     host_name + ":" + std::to_string(port) + ":127.0.0.1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://" + host_name + ":" + std::to_string(port) + path);
    CommandResult r = runCommand(argv, 20);
    HttpStatus result;
    result.status = std::atoi(r.out.c_str());
    result.error = r.err;
    if (result.status == 200) {
      json echo = json::parse(readFileText(body_file), nullptr, false);
      if (echo.is_object() && echo.contains("headers")) {
        for (const json& pair : echo["headers"]) {
          if (strcasecmp(pair[0].get<std::string>().c_str(), "X-Hoody-Group") == 0) {
            result.group = pair[1].get<std::string>();
          }
        }
      }
    }
    return result;
  }

  // Runs every case of the matrix against `port` and checks its status.
  static void expectMatrix(uint16_t port, const std::string& log, bool h2) {
    for (const Case& c : matrix()) {
      SCOPED_TRACE(c.name);
      HttpStatus r = curl(port, c.host, c.path, c.curl_args, h2);
      EXPECT_EQ(r.status, c.status) << r.error << readFileText(log);
    }
  }

  // Waits until `text` occurs `count` times in `path`; false after `timeout_s`.
  static bool waitForLog(const std::string& path, const std::string& text, size_t count,
                         double timeout_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      if (occurrences(readFileText(path), text) >= count) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  static size_t occurrences(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size())) {
      ++n;
    }
    return n;
  }

  // Copies the bundle directory `from` to `to`, replacing `to`.
  static void copyBundle(const std::string& from, const std::string& to) {
    removeTree(to);
    CommandResult r = runCommand({"cp", "-r", from, to}, 20);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Flips one byte in the middle of `path`.
  static void corruptFile(const std::string& path) {
    std::string bytes = readFileText(path);
    ASSERT_FALSE(bytes.empty()) << path;
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
    writeFileText(path, bytes);
  }

  static std::string dir_;
  static std::string skip_reason_;
  static pid_t echo_pid_;
  static std::vector<pid_t> started_;
  static Proxy jit_;
  static Proxy interp_;
};

std::string ProxyEngineTest::dir_;
std::string ProxyEngineTest::skip_reason_;
pid_t ProxyEngineTest::echo_pid_ = -1;
std::vector<pid_t> ProxyEngineTest::started_;
ProxyEngineTest::Proxy ProxyEngineTest::jit_;
ProxyEngineTest::Proxy ProxyEngineTest::interp_;

TEST_F(ProxyEngineTest, StartupLogsTheEngine) {
  std::string jit_log = readFileText(jit_.log);
  EXPECT_NE(jit_log.find("decision engine: jit (bitcode from the bundle"), std::string::npos)
      << jit_log;
  EXPECT_EQ(jit_log.find("has no decision.bc"), std::string::npos) << jit_log;
  std::string interp_log = readFileText(interp_.log);
  EXPECT_NE(interp_log.find("decision engine: interpreter (--interp)"), std::string::npos)
      << interp_log;
  EXPECT_EQ(interp_log.find("decision engine: jit"), std::string::npos) << interp_log;
}

TEST_F(ProxyEngineTest, JitProxyPassesTheMatrix) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    expectMatrix(jit_.port, jit_.log, h2);
  }
}

TEST_F(ProxyEngineTest, InterpreterGivesIdenticalAnswers) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    for (const Case& c : matrix()) {
      SCOPED_TRACE(c.name);
      HttpStatus jit = curl(jit_.port, c.host, c.path, c.curl_args, h2);
      HttpStatus interp = curl(interp_.port, c.host, c.path, c.curl_args, h2);
      EXPECT_EQ(jit.status, interp.status) << jit.error << interp.error;
      EXPECT_EQ(jit.group, interp.group);
      EXPECT_EQ(interp.status, c.status) << interp.error;
    }
  }
  HttpStatus bearer = curl(interp_.port, host(kLockedId), "/private",
                           {"-H", std::string("Authorization: Bearer ") + kToken}, false);
  EXPECT_EQ(bearer.group, "scraper");
}

TEST_F(ProxyEngineTest, CorruptBitcodeIsRejectedAtStartup) {
  std::string bundle = dir_ + "/corrupt";
  copyBundle(dir_ + "/v1", bundle);
  corruptFile(bundle + "/decision.bc");
  CommandResult r = runCommand({kProxy, "--bundle", bundle, "--state-dir", dir_ + "/state",
                                "--listen", "127.0.0.1:0"},
                               60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(bundle + "/decision.bc` does not match the hash in the manifest"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("listening"), std::string::npos) << r.out;

  // --interp does not read decision.bc, so the same bundle starts with it.
  Proxy interp = startProxy(bundle, "corrupt-interp", {"--interp"});
  ASSERT_NE(interp.port, 0) << readFileText(interp.log);
  EXPECT_EQ(curl(interp.port, host(kOfficeId), "/", {}, false).status, 403);
  EXPECT_EQ(WEXITSTATUS(stopProcess(interp.pid)), 0);
}

TEST_F(ProxyEngineTest, BitcodeOfAnotherPolicyIsRejectedAtStartup) {
  // v2's bitcode in v1's bundle, with a manifest that vouches for it: the
  // hashes pass, the policy digest inside the bitcode does not.
  std::string bundle = dir_ + "/mixed";
  copyBundle(dir_ + "/v1", bundle);
  std::string foreign = readFileText(dir_ + "/v2/decision.bc");
  writeFileText(bundle + "/decision.bc", foreign);
  json manifest = json::parse(readFileText(bundle + "/manifest.json"));
  manifest["artifacts"]["decision.bc"]["sha256"] = sha256Hex(foreign);
  manifest["artifacts"]["decision.bc"]["size"] = foreign.size();
  writeFileText(bundle + "/manifest.json", manifest.dump(2));

  CommandResult r = runCommand({kProxy, "--bundle", bundle, "--state-dir", dir_ + "/state",
                                "--listen", "127.0.0.1:0"},
                               60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("the bitcode was generated from another policy than the decision IR"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("recompile the bundle"), std::string::npos) << r.err;
}

TEST_F(ProxyEngineTest, CorruptBitcodeOnReloadKeepsOldPolicy) {
  std::string bundle = dir_ + "/reload-corrupt";
  copyBundle(dir_ + "/v1", bundle);
  Proxy proxy = startProxy(bundle, "reload-corrupt");
  ASSERT_NE(proxy.port, 0) << readFileText(proxy.log);
  EXPECT_EQ(curl(proxy.port, host(kOfficeId), "/", {}, false).status, 403);

  // The new policy opens the office container, but its bitcode is damaged.
  for (const char* file : {"decision.ir", "decision.bc", "manifest.json"}) {
    writeFileText(bundle + "/" + file, readFileText(dir_ + "/v2/" + file));
  }
  corruptFile(bundle + "/decision.bc");
  kill(proxy.pid, SIGHUP);
  ASSERT_TRUE(waitForLog(proxy.log, "reload failed", 1, 30)) << readFileText(proxy.log);
  EXPECT_NE(readFileText(proxy.log).find("does not match the hash in the manifest"),
            std::string::npos);
  EXPECT_TRUE(processRunning(proxy.pid));
  EXPECT_EQ(curl(proxy.port, host(kOfficeId), "/", {}, false).status, 403);
  EXPECT_EQ(curl(proxy.port, host(kOpenId), "/", {}, true).status, 200);

  // Repaired, the same bundle loads.
  writeFileText(bundle + "/decision.bc", readFileText(dir_ + "/v2/decision.bc"));
  kill(proxy.pid, SIGHUP);
  ASSERT_TRUE(waitForLog(proxy.log, "reloaded bundle", 1, 30)) << readFileText(proxy.log);
  EXPECT_NE(readFileText(proxy.log).find("decision engine: jit (bitcode from the bundle"),
            std::string::npos);
  EXPECT_EQ(curl(proxy.port, host(kOfficeId), "/", {}, false).status, 200);

  int exit_status = stopProcess(proxy.pid);
  ASSERT_NE(exit_status, -1);
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
}

TEST_F(ProxyEngineTest, BundleWithoutBitcodeFallsBackToCodegen) {
  // An older hoodyc wrote no decision.bc: the IR alone, as writeBundle does
  // without artifacts.
  Result<ir::Policy> policy = bundle::loadBundle(dir_ + "/v1");
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  std::string bundle = dir_ + "/no-bitcode";
  ASSERT_TRUE(bundle::writeBundle(bundle, *policy, {}).has_value());
  Proxy proxy = startProxy(bundle, "no-bitcode");
  ASSERT_NE(proxy.port, 0) << readFileText(proxy.log);
  std::string log = readFileText(proxy.log);
  EXPECT_NE(log.find("has no decision.bc (an older hoodyc wrote it)"), std::string::npos) << log;
  EXPECT_NE(log.find("decision engine: jit (generated from the decision IR"), std::string::npos)
      << log;
  expectMatrix(proxy.port, proxy.log, false);
  EXPECT_EQ(WEXITSTATUS(stopProcess(proxy.pid)), 0);
}

// Runs a function when the scope ends, also when an ASSERT returns early.
class ScopeExit {
 public:
  explicit ScopeExit(std::function<void()> f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  std::function<void()> f_;
};

// Sends requests for the office container over keep-alive HTTP/1.1
// connections, opening a new one every few requests, and counts statuses.
class OfficeLoad {
 public:
  OfficeLoad(uint16_t port, std::string ca) : port_(port), ca_(std::move(ca)) {}

  void run(const std::atomic<bool>& stop, double max_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(max_s);
    std::string name = host(kOfficeId);
    std::string request = "GET /load HTTP/1.1\r\nHost: " + name + "\r\n\r\n";
    while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
      RawTlsClient client;
      if (!client.connect(port_, name, "http/1.1", ca_, 5)) {
        failures.push_back("connect failed");
        continue;
      }
      for (int i = 0; i < kRequestsPerConnection && !stop.load(); ++i) {
        if (!client.send(request)) {
          failures.push_back("send failed");
          break;
        }
        int status = readStatus(client);
        if (status == 0) {
          failures.push_back("no complete response");
          break;
        }
        ++statuses[status];
        last_status.store(status);
      }
    }
  }

  std::map<int, int> statuses;
  std::vector<std::string> failures;
  std::atomic<int> last_status{0};

 private:
  static constexpr int kRequestsPerConnection = 20;

  // Reads one response with a Content-Length body; returns its status or 0.
  static int readStatus(RawTlsClient& client) {
    std::string in;
    size_t head_end = std::string::npos;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      std::string more = client.readSome();
      if (more.empty()) return 0;
      in += more;
    }
    if (in.rfind("HTTP/1.1 ", 0) != 0 || in.size() < 12) return 0;
    int status = std::atoi(in.c_str() + 9);
    std::string head = in.substr(0, head_end);
    for (char& c : head) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    size_t at = head.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    size_t length = static_cast<size_t>(std::atoll(head.c_str() + at + 17));
    while (in.size() < head_end + 4 + length) {
      std::string more = client.readSome();
      if (more.empty()) return 0;
      in += more;
    }
    return in.size() == head_end + 4 + length ? status : 0;
  }

  uint16_t port_;
  std::string ca_;
};

TEST_F(ProxyEngineTest, ReloadUnderLoadAnswersOldOrNew) {
  // The proxy reads its bundle through a symbolic link, which each step
  // points at the other version in one rename.
  std::string live = dir_ + "/live";
  ASSERT_EQ(symlink((dir_ + "/v1").c_str(), live.c_str()), 0);
  Proxy proxy = startProxy(live, "load");
  ASSERT_NE(proxy.port, 0) << readFileText(proxy.log);

  OfficeLoad load(proxy.port, dir_ + "/state/ca.pem");
  std::atomic<bool> stop{false};
  std::thread client([&] { load.run(stop, 60); });
  ScopeExit join_client([&] {
    stop = true;
    if (client.joinable()) client.join();
  });

  constexpr int kMinReloads = 4;
  constexpr int kMaxReloads = 40;
  auto started = std::chrono::steady_clock::now();
  int reloads = 0;
  while (reloads < kMaxReloads &&
         (reloads < kMinReloads || std::chrono::steady_clock::now() - started < std::chrono::seconds(2))) {
    bool open = reloads % 2 == 0;
    std::string next = dir_ + (open ? "/v2" : "/v1");
    std::string link = live + ".next";
    unlink(link.c_str());
    ASSERT_EQ(symlink(next.c_str(), link.c_str()), 0);
    ASSERT_EQ(rename(link.c_str(), live.c_str()), 0);
    kill(proxy.pid, SIGHUP);
    ++reloads;
    ASSERT_TRUE(waitForLog(proxy.log, "reloaded bundle", static_cast<size_t>(reloads), 30))
        << readFileText(proxy.log);
    // The client gets the new status before the next swap.
    int expected = open ? 200 : 403;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (load.last_status.load() != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(load.last_status.load(), expected) << "reload " << reloads;
  }
  stop = true;
  client.join();

  EXPECT_TRUE(load.failures.empty()) << load.failures.size() << " failures, first: "
                                     << (load.failures.empty() ? "" : load.failures[0]);
  int total = 0;
  for (const auto& [status, count] : load.statuses) {
    EXPECT_TRUE(status == 200 || status == 403) << status << " x" << count;
    total += count;
  }
  EXPECT_GT(load.statuses[200], 0);
  EXPECT_GT(load.statuses[403], 0);
  EXPECT_GE(total, 2 * reloads);
  RecordProperty("reloads", reloads);
  RecordProperty("requests", total);
  std::string log = readFileText(proxy.log);
  EXPECT_EQ(log.find("reload failed"), std::string::npos) << log;
  EXPECT_EQ(occurrences(log, "decision engine: jit (bitcode from the bundle"),
            static_cast<size_t>(reloads) + 1);
  int exit_status = stopProcess(proxy.pid);
  ASSERT_NE(exit_status, -1);
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
}

}  // namespace
}  // namespace hoody::e2e
