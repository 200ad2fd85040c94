// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of hoody-proxy: the real binary, real upstream processes
// (examples/upstream/echo_upstream.py) and real clients (curl, nghttp, and an
// OpenSSL client for raw bytes), all on loopback.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/abi/bundle.h"
#include "runtime/abi/decision_ir.h"
#include "runtime/auth/auth.h"
#include "tests/e2e/e2e_support.h"

namespace hoody::e2e {
namespace {

using nlohmann::json;

constexpr char kNode[] = "node-us";
constexpr char kDomain[] = "example.test";
constexpr char kProject[] = "6a1f3c9e0b7d4e2f8a5c1d03";
constexpr char kOpenId[] = "0f3e2d1c4b5a69788796a5b4";
constexpr char kIpId[] = "9c8b7a6f5e4d3c2b1a0f9e8d";
constexpr char kBearerId[] = "3b9d2e7f1c6a4d8e0f5b2c91";
constexpr char kPasswordId[] = "7e2c9a4f0d1b6e3a8c5f2d47";
constexpr char kJwtId[] = "a4c81e6f3d2b9075e1c4f8a2";
constexpr char kMaintenanceId[] = "5d0f7b3e9a2c6e1f4b8d0a63";
constexpr char kDocsId[] = "c2e5a9f1b7d3084e6a2c9f5b";
constexpr char kDownId[] = "e9b4f2c7a1d5036b8e4f1c7d";
constexpr char kAddedId[] = "1f6c3a8e5b2d9f0c7a4e1b86";
constexpr char kSlowId[] = "b7e1d4a9c2f6085e3d1a7c4b";
constexpr char kCookieId[] = "d2a8f5c1e9b7064a3f8c2e5d";
constexpr char kBearerToken[] = "monitoring-token-5f1d9c0e";
constexpr char kPassword[] = "p:a:ss";
constexpr char kSlowPassword[] = "slow-and-steady";
constexpr char kIssuer[] = "https://idp.example.test/";

std::string host(const std::string& id, const std::string& service = "http", int instance = 1) {
  return id + "-" + kProject + "-" + service + "-" + std::to_string(instance) + "." + kNode +
         ".containers." + kDomain;
}

ir::Id96 parseId(const std::string& hex) {
  ir::Id96 id{};
  for (size_t i = 0; i < id.size(); ++i) {
    id[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return id;
}

std::string base64Url(std::string_view data) {
  std::string out;
  out.resize(4 * ((data.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// Signs `claims` as an ES256 JWT with the PEM private key in `key_file`.
std::string signEs256(const std::string& key_file, const json& claims) {
  std::string header = base64Url(R"({"alg":"ES256","typ":"JWT"})");
  std::string payload = base64Url(claims.dump());
  std::string signing_input = header + "." + payload;
  FILE* f = fopen(key_file.c_str(), "r");
  if (f == nullptr) return "";
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  if (key == nullptr) return "";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sig_len = 0;
  std::string der;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) == 1) {
    der.resize(sig_len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) == 1) {
      der.resize(sig_len);
    } else {
      der.clear();
    }
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  // JWS wants R || S, 32 bytes each, not DER.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return "";
  unsigned char raw[64];
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
  ECDSA_SIG_free(sig);
  return signing_input + "." +
         base64Url(std::string_view(reinterpret_cast<const char*>(raw), sizeof(raw)));
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

ir::Container makeContainer(const std::string& name, const std::string& id, uint32_t block,
                            uint16_t http_port) {
  ir::Container c;
  c.name = name;
  c.project = "web";
  c.id = parseId(id);
  c.project_id = parseId(kProject);
  c.block = block;
  c.upstream.address = "127.0.0.1";
  if (http_port != 0) c.upstream.ports.push_back({ir::Service::Http, 1, http_port});
  return c;
}

ir::Grant grantHttp(ir::MethodSet methods = ir::kAllMethods,
                    std::vector<std::string> prefixes = {}) {
  ir::Grant g;
  g.services = ir::bit(ir::Service::Http);
  g.methods = methods;
  g.path_prefixes = std::move(prefixes);
  return g;
}

ir::IpSet loopbackV4() {
  ir::IpSet set;
  set.v4.push_back({0x7f000000u, 0x7fffffffu});
  return set;
}

ir::IpSet everyAddress() {
  ir::IpSet set;
  set.v4.push_back({0, 0xffffffffu});
  set.v6.push_back({ir::U128{0, 0}, ir::U128{~0ull, ~0ull}});
  return set;
}

// The policy every test starts from. Each container has its own block so
// each authentication kind can be tested alone from loopback clients.
ir::Policy makePolicy(uint16_t echo_port, uint16_t down_port, const std::string& jwt_pub_pem,
                      const std::string& password_hash, const std::string& slow_hash,
                      uint16_t cookie_port) {
  ir::Policy policy;
  policy.node = kNode;
  policy.domain = kDomain;
  ir::Realm realm;
  realm.name = "acme";

  // 0: open, default allow http and terminal (terminal has no port: 404).
  ir::PermissionBlock open;
  open.default_allow = ir::bit(ir::Service::Http) | ir::bit(ir::Service::Terminal);
  open.origin = "container public-api";
  realm.blocks.push_back(open);

  // 1: IPv4 loopback only.
  ir::PermissionBlock ip;
  ip.origin = "container ip-only";
  ir::Group loopback;
  loopback.name = "loopback";
  loopback.has_ip = true;
  loopback.ip = loopbackV4();
  loopback.grants.push_back(grantHttp());
  ip.groups.push_back(loopback);
  realm.blocks.push_back(ip);

  // 2: bearer token, read-only methods.
  ir::PermissionBlock bearer;
  bearer.origin = "container bearer-api";
  ir::Group monitoring;
  monitoring.name = "monitoring";
  monitoring.credential = ir::CredentialKind::Bearer;
  monitoring.bearer_sha256.push_back(auth::sha256(kBearerToken));
  monitoring.grants.push_back(
      grantHttp(static_cast<ir::MethodSet>(ir::bit(ir::Method::Get) | ir::bit(ir::Method::Head))));
  bearer.groups.push_back(monitoring);
  realm.blocks.push_back(bearer);

  // 3: Basic password, credentials forwarded.
  ir::PermissionBlock password;
  password.origin = "container admin-ui";
  ir::Group admins;
  admins.name = "admins";
  admins.credential = ir::CredentialKind::Password;
  admins.passwords.push_back({"deploy", password_hash});
  admins.grants.push_back(grantHttp());
  admins.forward_credentials = true;
  password.groups.push_back(admins);
  realm.blocks.push_back(password);

  // 4: JWT ES256.
  ir::PermissionBlock jwt;
  jwt.origin = "container jwt-api";
  ir::Group operators;
  operators.name = "operators";
  operators.credential = ir::CredentialKind::Jwt;
  ir::JwtSpec spec;
  spec.algorithms = {"ES256"};
  spec.issuer = kIssuer;
  spec.audiences = {"ops"};
  spec.key_pem = jwt_pub_pem;
  spec.leeway_seconds = 30;
  operators.jwt = spec;
  operators.grants.push_back(grantHttp());
  jwt.groups.push_back(operators);
  realm.blocks.push_back(jwt);

  // 5: docs: /docs public to everyone, everything else needs the bearer.
  ir::PermissionBlock docs;
  docs.origin = "container docs";
  ir::Group world;
  world.name = "world";
  world.has_ip = true;
  world.ip = everyAddress();
  world.grants.push_back(grantHttp(ir::kAllMethods, {"/docs"}));
  docs.groups.push_back(world);
  ir::Group docs_admins = monitoring;
  docs_admins.name = "docs-admins";
  docs_admins.grants = {grantHttp()};
  docs.groups.push_back(docs_admins);
  realm.blocks.push_back(docs);

  // 6: Basic password with a hash that takes about a second to verify.
  ir::PermissionBlock slow;
  slow.origin = "container slow-auth";
  ir::Group slow_admins;
  slow_admins.name = "slow-admins";
  slow_admins.credential = ir::CredentialKind::Password;
  slow_admins.passwords.push_back({"deploy", slow_hash});
  slow_admins.grants.push_back(grantHttp());
  slow.groups.push_back(slow_admins);
  realm.blocks.push_back(slow);

  realm.containers.push_back(makeContainer("public-api", kOpenId, 0, echo_port));
  realm.containers.push_back(makeContainer("ip-only", kIpId, 1, echo_port));
  realm.containers.push_back(makeContainer("bearer-api", kBearerId, 2, echo_port));
  realm.containers.push_back(makeContainer("admin-ui", kPasswordId, 3, echo_port));
  realm.containers.push_back(makeContainer("jwt-api", kJwtId, 4, echo_port));
  ir::Container maintenance = makeContainer("billing-db", kMaintenanceId, 0, echo_port);
  maintenance.maintenance = true;
  realm.containers.push_back(maintenance);
  realm.containers.push_back(makeContainer("docs", kDocsId, 5, echo_port));
  realm.containers.push_back(makeContainer("down", kDownId, 0, down_port));
  realm.containers.push_back(makeContainer("slow-auth", kSlowId, 6, echo_port));
  realm.containers.push_back(makeContainer("cookie-jar", kCookieId, 0, cookie_port));
  policy.realms.push_back(realm);
  return policy;
}

struct HttpResult {
  int status = 0;
  std::string headers;  ///< Raw response head(s) as curl wrote them.
  std::string body;
  std::string stderr_text;

  json bodyJson() const { return json::parse(body, nullptr, false); }
  /// Values of response header `name` (case-insensitive).
  std::vector<std::string> header(const std::string& name) const {
    std::vector<std::string> values;
    std::istringstream in(headers);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string n = line.substr(0, colon);
      if (strcasecmp(n.c_str(), name.c_str()) != 0) continue;
      size_t start = line.find_first_not_of(' ', colon + 1);
      values.push_back(start == std::string::npos ? "" : line.substr(start));
    }
    return values;
  }
};

// Returns the values of request header `name` the echo upstream received.
std::vector<std::string> upstreamHeader(const json& echo, const std::string& name) {
  std::vector<std::string> values;
  if (!echo.contains("headers")) return values;
  for (const json& pair : echo["headers"]) {
    std::string n = pair[0].get<std::string>();
    if (strcasecmp(n.c_str(), name.c_str()) == 0) values.push_back(pair[1].get<std::string>());
  }
  return values;
}

class ProxyE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!haveProgram("curl") || !haveProgram("nghttp") || !haveProgram("python3") ||
        !haveProgram("openssl")) {
      skip_reason_ = "curl, nghttp, python3 or openssl is missing";
      return;
    }
    dir_ = makeTempDir("hoody-e2e");
    ASSERT_FALSE(dir_.empty());
    echo_port_ = startEcho("echo", dir_ + "/echo.port");
    ASSERT_NE(echo_port_, 0) << readFileText(dir_ + "/echo.log");
    down_port_ = unusedPort();

    CommandResult gen = runCommand({"openssl", "ecparam", "-name", "prime256v1", "-genkey",
                                    "-noout", "-out", dir_ + "/jwt-key.pem"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    CommandResult pub = runCommand(
        {"openssl", "ec", "-in", dir_ + "/jwt-key.pem", "-pubout", "-out", dir_ + "/jwt-pub.pem"});
    ASSERT_EQ(pub.exit_code, 0) << pub.err;
    Result<std::string> hash = auth::hashPassword(kPassword);
    ASSERT_TRUE(hash.has_value()) << hash.error().message;
    password_hash_ = *hash;
    // argon2id with 256 MiB and 2 passes: slow enough that a verification
    // on the event loop would show (about 0.5 s on an idle 2-core VM), and
    // within the limits the verifier accepts.
    ASSERT_GE(sodium_init(), 0);
    char slow[crypto_pwhash_STRBYTES];
    ASSERT_EQ(crypto_pwhash_str_alg(slow, kSlowPassword, strlen(kSlowPassword), 2,
                                    size_t{256} << 20, crypto_pwhash_ALG_ARGON2ID13),
              0);
    slow_hash_ = slow;

    cookie_upstream_ = std::make_unique<FixedResponseUpstream>(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
        "Set-Cookie: sid=1; Domain=node-us.containers.example.test; Path=/; HttpOnly\r\n"
        "Set-Cookie: theme=dark;domain=.example.test\r\n"
        "Set-Cookie: lang=en; Max-Age=60\r\n"
        "Clear-Site-Data: \"cache\", \"cookies\"\r\n"
        "Connection: close\r\n\r\nok\n");
    uint16_t cookie_port = cookie_upstream_->start();
    ASSERT_NE(cookie_port, 0);

    bundle_dir_ = dir_ + "/bundle";
    policy_ = makePolicy(echo_port_, down_port_, readFileText(dir_ + "/jwt-pub.pem"),
                         password_hash_, slow_hash_, cookie_port);
    Result<void> written = bundle::writeBundle(bundle_dir_, policy_, {});
    ASSERT_TRUE(written.has_value()) << written.error().message;

    proxy_ = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0", "[::1]:0"}, "main");
    ASSERT_GT(proxy_.pid, 0);
    ASSERT_EQ(proxy_.ports.size(), 2u) << readFileText(dir_ + "/main.log");
    port_ = proxy_.ports[0];
    port_v6_ = proxy_.ports[1];
    ca_ = dir_ + "/state/ca.pem";
  }

  static void TearDownTestSuite() {
    stopProcess(proxy_.pid);
    proxy_ = {};
    cookie_upstream_.reset();
    stopProcess(echo_pid_, SIGTERM, 5);
    echo_pid_ = -1;
    removeTree(dir_);
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(processRunning(proxy_.pid)) << readFileText(dir_ + "/main.log");
  }

  struct Proxy {
    pid_t pid = -1;
    std::vector<uint16_t> ports;
  };

  static uint16_t readPort(const std::string& line) {
    size_t colon = line.rfind(':');
    return colon == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  }

  static uint16_t startEcho(const std::string& name, const std::string& port_file) {
    echo_pid_ = spawnProcess({"python3", std::string(HOODY_SOURCE_DIR) +
                                             "/examples/upstream/echo_upstream.py",
                              "--listen", "127.0.0.1:0", "--name", name, "--port-file", port_file},
                             dir_ + "/echo.log");
    if (!waitForFile(port_file, 15)) return 0;
    return readPort(readFileText(port_file));
  }

  // A loopback port nothing listens on (bound, read, closed).
  static uint16_t unusedPort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }

  static Proxy startProxy(const std::string& bundle, const std::string& state,
                          const std::vector<std::string>& listen, const std::string& name,
                          const std::vector<std::string>& extra = {}) {
    Proxy proxy;
    std::string port_file = dir_ + "/" + name + ".ports";
    std::vector<std::string> argv = {std::string(HOODY_BUILD_DIR) + "/hoody-proxy", "--bundle",
                                     bundle, "--state-dir", state,
                                     "--access-log", dir_ + "/" + name + "-access.log",
                                     "--port-file", port_file, "--log-level", "debug"};
    if (std::find(extra.begin(), extra.end(), "--workers") == extra.end()) {
      argv.push_back("--workers");
      argv.push_back("2");
    }
    for (const std::string& l : listen) {
      argv.push_back("--listen");
      argv.push_back(l);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    proxy.pid = spawnProcess(argv, dir_ + "/" + name + ".log");
    if (!waitForFile(port_file, 20)) return proxy;
    std::istringstream in(readFileText(port_file));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) proxy.ports.push_back(readPort(line));
    }
    return proxy;
  }

  // Runs curl against `host_name` on the proxy. `connect_to` is the address
  // curl resolves the name to.
  static HttpResult curl(const std::string& host_name, const std::string& path,
                         const std::vector<std::string>& extra = {}, bool h2 = false,
                         uint16_t port = 0, const std::string& connect_to = "127.0.0.1") {
    if (port == 0) port = port_;
    static int counter = 0;
    std::string stem = dir_ + "/curl-" + std::to_string(++counter);
    std::string url_host = host_name;
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "10", "--path-as-is",
                                     "--cacert", ca_, "-o", stem + ".body", "-D",
                                     stem + ".head", "-w", "%{http_code}",
                                     h2 ? "--http2" : "--http1.1"};
    argv.push_back("--resolve");
    argv.push_back(host_name + ":" + std::to_string(port) + ":" + connect_to);
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://" + url_host + ":" + std::to_string(port) + path);
    CommandResult r = runCommand(argv, 20);
    HttpResult result;
    result.status = std::atoi(r.out.c_str());
    result.headers = readFileText(stem + ".head");
    result.body = readFileText(stem + ".body");
    result.stderr_text = r.err;
    return result;
  }

  static std::string dir_;
  static std::string bundle_dir_;
  static std::string ca_;
  static std::string skip_reason_;
  static std::string password_hash_;
  static std::string slow_hash_;
  static std::unique_ptr<FixedResponseUpstream> cookie_upstream_;
  static ir::Policy policy_;
  static Proxy proxy_;
  static pid_t echo_pid_;
  static uint16_t echo_port_;
  static uint16_t down_port_;
  static uint16_t port_;
  static uint16_t port_v6_;
};

std::string ProxyE2eTest::dir_;
std::string ProxyE2eTest::bundle_dir_;
std::string ProxyE2eTest::ca_;
std::string ProxyE2eTest::skip_reason_;
std::string ProxyE2eTest::password_hash_;
std::string ProxyE2eTest::slow_hash_;
std::unique_ptr<FixedResponseUpstream> ProxyE2eTest::cookie_upstream_;
ir::Policy ProxyE2eTest::policy_;
ProxyE2eTest::Proxy ProxyE2eTest::proxy_;
pid_t ProxyE2eTest::echo_pid_ = -1;
uint16_t ProxyE2eTest::echo_port_ = 0;
uint16_t ProxyE2eTest::down_port_ = 0;
uint16_t ProxyE2eTest::port_ = 0;
uint16_t ProxyE2eTest::port_v6_ = 0;

TEST_F(ProxyE2eTest, DefaultAllowForwardsOverBothProtocols) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/hello?x=1&y=%20", {}, h2);
    ASSERT_EQ(r.status, 200) << r.stderr_text << r.body;
    json echo = r.bodyJson();
    EXPECT_EQ(echo["path"], "/hello");
    EXPECT_EQ(echo["query"], "x=1&y=%20");
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Group"), std::vector<std::string>{"default"});
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Realm"), std::vector<std::string>{"acme"});
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Container"), std::vector<std::string>{"public-api"});
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Service"), std::vector<std::string>{"http"});
    EXPECT_EQ(upstreamHeader(echo, "X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(upstreamHeader(echo, "X-Forwarded-Proto"), std::vector<std::string>{"https"});
    EXPECT_EQ(upstreamHeader(echo, "Host"),
              std::vector<std::string>{host(kOpenId) + ":" + std::to_string(port_)});
  }
}

TEST_F(ProxyE2eTest, IpGroupMatchesIpv4LoopbackOnly) {
  HttpResult v4 = curl(host(kIpId), "/", {}, false);
  ASSERT_EQ(v4.status, 200) << v4.stderr_text;
  EXPECT_EQ(upstreamHeader(v4.bodyJson(), "X-Hoody-Group"), std::vector<std::string>{"loopback"});
  HttpResult v6 = curl(host(kIpId), "/", {}, true, port_v6_, "::1");
  EXPECT_EQ(v6.status, 403) << v6.stderr_text;
}

TEST_F(ProxyE2eTest, BearerGroupStripsAuthorization) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult none = curl(host(kBearerId), "/metrics", {}, h2);
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.header("WWW-Authenticate"), std::vector<std::string>{"Bearer realm=\"acme\""});

    HttpResult wrong = curl(host(kBearerId), "/metrics",
                            {"-H", "Authorization: Bearer not-the-token"}, h2);
    EXPECT_EQ(wrong.status, 401);

    HttpResult good = curl(host(kBearerId), "/metrics",
                           {"-H", std::string("Authorization: Bearer ") + kBearerToken}, h2);
    ASSERT_EQ(good.status, 200) << good.body;
    json echo = good.bodyJson();
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Group"), std::vector<std::string>{"monitoring"});
    EXPECT_TRUE(upstreamHeader(echo, "Authorization").empty());

    // The group grants GET and HEAD only; no credential group grants POST.
    HttpResult post = curl(host(kBearerId), "/metrics",
                           {"-X", "POST", "-H", std::string("Authorization: Bearer ") + kBearerToken},
                           h2);
    EXPECT_EQ(post.status, 403);
  }
}

TEST_F(ProxyE2eTest, PasswordGroupForwardsCredentialsWhenConfigured) {
  HttpResult none = curl(host(kPasswordId), "/", {}, false);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("WWW-Authenticate"),
            std::vector<std::string>{"Basic realm=\"acme\", charset=\"UTF-8\""});

  HttpResult truncated = curl(host(kPasswordId), "/", {"-u", "deploy:p"}, false);
  EXPECT_EQ(truncated.status, 401);

  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult good = curl(host(kPasswordId), "/", {"-u", std::string("deploy:") + kPassword}, h2);
    ASSERT_EQ(good.status, 200) << good.body;
    json echo = good.bodyJson();
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Group"), std::vector<std::string>{"admins"});
    EXPECT_EQ(upstreamHeader(echo, "Authorization"), std::vector<std::string>{"<present>"});
  }
}

TEST_F(ProxyE2eTest, JwtGroupChecksSignatureClaimsAndExpiry) {
  int64_t now = static_cast<int64_t>(time(nullptr));
  std::string key = dir_ + "/jwt-key.pem";
  std::string valid =
      signEs256(key, {{"iss", kIssuer}, {"aud", "ops"}, {"sub", "u1"}, {"exp", now + 600}});
  std::string expired =
      signEs256(key, {{"iss", kIssuer}, {"aud", "ops"}, {"sub", "u1"}, {"exp", now - 3600}});
  std::string wrong_audience =
      signEs256(key, {{"iss", kIssuer}, {"aud", "files"}, {"sub", "u1"}, {"exp", now + 600}});
  std::string audience_case =
      signEs256(key, {{"iss", kIssuer}, {"aud", "Ops"}, {"sub", "u1"}, {"exp", now + 600}});
  std::string audience_list = signEs256(
      key, {{"iss", kIssuer}, {"aud", json::array({"files", "ops"})}, {"sub", "u1"}, {"exp", now + 600}});
  std::string other_issuer = signEs256(
      key, {{"iss", "https://other.example/"}, {"aud", "ops"}, {"sub", "u1"}, {"exp", now + 600}});
  ASSERT_FALSE(valid.empty());
  std::string unsigned_token = base64Url(R"({"alg":"none","typ":"JWT"})") + "." +
                               base64Url(json{{"iss", kIssuer}, {"aud", "ops"}, {"exp", now + 600}}
                                             .dump()) +
                               ".";
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult ok = curl(host(kJwtId), "/", {"-H", "Authorization: Bearer " + valid}, h2);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(upstreamHeader(ok.bodyJson(), "X-Hoody-Group"), std::vector<std::string>{"operators"});
    EXPECT_TRUE(upstreamHeader(ok.bodyJson(), "Authorization").empty());
    EXPECT_EQ(curl(host(kJwtId), "/", {"-H", "Authorization: Bearer " + expired}, h2).status, 401);
    EXPECT_EQ(curl(host(kJwtId), "/", {"-H", "Authorization: Bearer " + unsigned_token}, h2).status,
              401);
    EXPECT_EQ(curl(host(kJwtId), "/", {"-H", "Authorization: Bearer " + wrong_audience}, h2).status,
              401);
    EXPECT_EQ(curl(host(kJwtId), "/", {"-H", "Authorization: Bearer " + audience_case}, h2).status,
              401);
    EXPECT_EQ(curl(host(kJwtId), "/", {"-H", "Authorization: Bearer " + other_issuer}, h2).status,
              401);
    EXPECT_EQ(curl(host(kJwtId), "/", {"-H", "Authorization: Bearer " + audience_list}, h2).status,
              200);
  }
}

TEST_F(ProxyE2eTest, MaintenanceAnswers503) {
  HttpResult r = curl(host(kMaintenanceId), "/", {}, true);
  EXPECT_EQ(r.status, 503);
}

TEST_F(ProxyE2eTest, UnknownHostAndWrongIdAreIdentical) {
  std::string wrong_container = std::string("0f3e2d1c4b5a69788796a5b5") + "-" + kProject +
                                "-http-1." + kNode + ".containers." + kDomain;
  std::string wrong_project = std::string(kOpenId) + "-6a1f3c9e0b7d4e2f8a5c1d04-http-1." + kNode +
                              ".containers." + kDomain;
  std::string elsewhere = "www.example.test";
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult a = curl(wrong_container, "/", {}, h2);
    HttpResult b = curl(wrong_project, "/", {}, h2);
    // Not a container host at all: connect with the wrong-ID name in SNI so
    // only the Host field differs.
    HttpResult c = curl(wrong_container, "/", {"-H", "Host: " + elsewhere}, h2);
    EXPECT_EQ(a.status, 404);
    EXPECT_EQ(b.status, 404);
    EXPECT_EQ(c.status, 404);
    EXPECT_EQ(a.headers, b.headers);
    EXPECT_EQ(a.headers, c.headers);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.body, c.body);
  }
}

TEST_F(ProxyE2eTest, SniAndHostNamingDifferentContainersIs421) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/", {"-H", "Host: " + host(kBearerId)}, h2);
    EXPECT_EQ(r.status, 421);
    // Another service of the same container may share the connection
    // (terminal is not deployed: 404, not 421).
    HttpResult same = curl(host(kOpenId), "/", {"-H", "Host: " + host(kOpenId, "terminal")}, h2);
    EXPECT_EQ(same.status, 404);
  }
}

TEST_F(ProxyE2eTest, UppercaseHostWithTrailingDotIsCanonical) {
  std::string upper = host(kOpenId);
  for (char& c : upper) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/", {"-H", "Host: " + upper + "."}, h2);
    EXPECT_EQ(r.status, 200) << r.body;
    HttpResult bearer = curl(host(kBearerId), "/", {"-H", "Host: " + host(kBearerId) + "."}, h2);
    EXPECT_EQ(bearer.status, 401);
    HttpResult two_dots = curl(host(kOpenId), "/", {"-H", "Host: " + host(kOpenId) + ".."}, h2);
    EXPECT_EQ(two_dots.status, 400);
  }
}

TEST_F(ProxyE2eTest, ClientHoodyHeadersNeverReachUpstream) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/",
                        {"-H", "X-Hoody-Group: admins", "-H", "X-Hoody-Realm: other",
                         "-H", "x-hoody-anything: 1", "-H", "X-Forwarded-For: 203.0.113.9"},
                        h2);
    ASSERT_EQ(r.status, 200);
    json echo = r.bodyJson();
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Group"), std::vector<std::string>{"default"});
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Realm"), std::vector<std::string>{"acme"});
    EXPECT_TRUE(upstreamHeader(echo, "X-Hoody-Anything").empty());
    EXPECT_EQ(upstreamHeader(echo, "X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"});
  }
}

TEST_F(ProxyE2eTest, UnderscoreSpellingsNeverReachUpstream) {
  // CGI and WSGI map `_` and `-` to the same variable, so these would pose
  // as the proxy's own fields.
  std::vector<std::string> spoofed = {"X-Hoody_Group",     "X_Hoody_Realm", "x_hoody_container",
                                      "X-Forwarded_For",   "X_Forwarded_Proto",
                                      "X-Forwarded_Host",  "X-Real_IP",     "X-Real-IP"};
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    std::vector<std::string> extra;
    for (const std::string& name : spoofed) {
      extra.push_back("-H");
      extra.push_back(name + ": spoofed-value");
    }
    extra.push_back("-H");
    extra.push_back("X_Request_Id: kept-value");
    HttpResult r = curl(host(kOpenId), "/", extra, h2);
    ASSERT_EQ(r.status, 200) << r.stderr_text;
    EXPECT_EQ(r.body.find("spoofed-value"), std::string::npos) << r.body;
    json echo = r.bodyJson();
    EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Group"), std::vector<std::string>{"default"});
    EXPECT_EQ(upstreamHeader(echo, "X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(upstreamHeader(echo, "X_Request_Id"), std::vector<std::string>{"kept-value"});
  }
}

TEST_F(ProxyE2eTest, StreamedRequestBodyArrivesIntact) {
  std::string body(3 * 1024 * 1024 + 7, '\0');
  ASSERT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(body.data()), static_cast<int>(body.size())),
            1);
  std::string file = dir_ + "/upload.bin";
  writeFileText(file, body);
  std::string expected = sha256Hex(body);
  struct Case {
    bool h2;
    bool chunked;
  };
  for (Case c : {Case{false, false}, Case{false, true}, Case{true, false}, Case{true, true}}) {
    SCOPED_TRACE(std::string(c.h2 ? "h2" : "h1") + (c.chunked ? " chunked" : " length"));
    std::vector<std::string> extra = {"-X", "POST", "--data-binary", "@" + file};
    if (c.chunked) {
      extra.push_back("-H");
      extra.push_back(c.h2 ? "Content-Length:" : "Transfer-Encoding: chunked");
    }
    HttpResult r = curl(host(kOpenId), "/upload", extra, c.h2);
    ASSERT_EQ(r.status, 200) << r.stderr_text;
    json echo = r.bodyJson();
    EXPECT_EQ(echo["body_length"], body.size());
    EXPECT_EQ(echo["body_sha256"], expected);
  }
}

TEST_F(ProxyE2eTest, ExpectContinueGetsInterimResponse) {
  // curl waits up to --expect100-timeout for 100 Continue before it sends
  // the body, so without the interim response curl hits --max-time first.
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/upload",
                        {"-X", "POST", "--data-binary", "twelve bytes", "-H",
                         "Expect: 100-continue", "--expect100-timeout", "30"},
                        h2);
    EXPECT_EQ(r.status, 200) << r.stderr_text;
    EXPECT_EQ(r.bodyJson()["body_length"], 12);
    EXPECT_TRUE(upstreamHeader(r.bodyJson(), "Expect").empty());
  }
}

TEST_F(ProxyE2eTest, RejectionDuringUploadReachesClient) {
  // The proxy rejects the POST (403: the bearer group grants GET and HEAD
  // only) before the body arrives and closes the connection. The client must
  // still read the 403 rather than a connection reset.
  std::string body(4 * 1024 * 1024, 'x');
  std::string file = dir_ + "/reject-upload.bin";
  writeFileText(file, body);
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    for (int i = 0; i < 3; ++i) {
      HttpResult r = curl(host(kBearerId), "/upload",
                          {"-X", "POST", "-H", "Expect:", "--data-binary", "@" + file}, h2);
      EXPECT_EQ(r.status, 403) << r.stderr_text;
    }
  }
}

TEST_F(ProxyE2eTest, StreamedResponseArrivesInOrder) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/stream?chunks=40&delay_ms=2", {}, h2);
    ASSERT_EQ(r.status, 200);
    std::istringstream in(r.body);
    std::string line;
    int expected = 0;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      ASSERT_TRUE(j.is_object()) << line;
      EXPECT_EQ(j["chunk"], expected);
      ++expected;
    }
    EXPECT_EQ(expected, 40);
  }
}

TEST_F(ProxyE2eTest, KeepAliveReusesTheConnection) {
  std::string url = "https://" + host(kOpenId) + ":" + std::to_string(port_);
  CommandResult r = runCommand({"curl", "-sS", "--max-time", "10", "--http1.1", "--cacert", ca_,
                                "--resolve",
                                host(kOpenId) + ":" + std::to_string(port_) + ":127.0.0.1", "-o",
                                "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w",
                                "%{http_code} %{num_connects}\n", url + "/a", url + "/b",
                                url + "/c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 1\n200 0\n200 0\n");
}

TEST_F(ProxyE2eTest, PipelinedRequestsAnswerInOrder) {
  RawTlsClient client;
  ASSERT_TRUE(client.connect(port_, host(kOpenId), "http/1.1", ca_));
  std::string h = host(kOpenId);
  ASSERT_TRUE(client.send("GET /first HTTP/1.1\r\nHost: " + h + "\r\n\r\nGET /second HTTP/1.1\r\nHost: " +
                          h + "\r\nConnection: close\r\n\r\n"));
  std::string all = client.readAll();
  size_t first = all.find("\"path\": \"/first\"");
  size_t second = all.find("\"path\": \"/second\"");
  ASSERT_NE(first, std::string::npos) << all;
  ASSERT_NE(second, std::string::npos) << all;
  EXPECT_LT(first, second);
}

TEST_F(ProxyE2eTest, SmugglingFramingIsRejected) {
  std::string h = host(kOpenId);
  std::string smuggled = "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: " + h + "\r\n\r\n";
  std::vector<std::string> requests = {
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: " + std::to_string(smuggled.size()) +
          "\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled,
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: +5\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent-Length: 5, 5\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
      "GET / HTTP/1.1\nHost: " + h + "\n\n",
      "GET / HTTP/1.1\r\nHost: " + h + "\r\nHost: " + h + "\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
  };
  for (const std::string& request : requests) {
    SCOPED_TRACE(request);
    RawTlsClient client;
    ASSERT_TRUE(client.connect(port_, h, "http/1.1", ca_));
    ASSERT_TRUE(client.send(request));
    std::string response = client.readAll();
    EXPECT_EQ(response.rfind("HTTP/1.1 400 ", 0), 0u) << response;
    // Exactly one response, then the connection is closed.
    EXPECT_EQ(response.find("HTTP/1.1", 1), std::string::npos) << response;
    EXPECT_NE(response.find("Connection: close"), std::string::npos);
  }
}

TEST_F(ProxyE2eTest, PathIsNormalizedBeforeTheDecision) {
  struct Case {
    std::string path;
    int status;
    std::string upstream_path;  ///< Expected path at the upstream when 200.
  };
  std::vector<Case> cases = {
      {"/docs/guide", 200, "/docs/guide"},
      {"/docs//guide/./", 200, "/docs/guide/"},
      {"/%64ocs/x", 200, "/docs/x"},
      {"/docs/%252e%252e/admin", 200, "/docs/%252e%252e/admin"},
      {"/docs/../admin", 401, ""},
      {"/docs/%2e%2e/admin", 401, ""},
      {"/docs/.%2E/admin", 401, ""},
      {"/docs/a/../../admin", 401, ""},
      {"/docs%2Fx", 400, ""},
      {"/docs%5cx", 400, ""},
      {"/docs%00", 400, ""},
      {"/docs%3B", 400, ""},
      {"/docs%3F", 400, ""},
      {"/docs%23", 400, ""},
      {"/docs/%c0%ae%c0%ae/admin", 400, ""},
      {"/docs/%zz", 400, ""},
  };
  for (bool h2 : {false, true}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(h2 ? "h2 " : "h1 ") + c.path);
      HttpResult r = curl(host(kDocsId), c.path, {}, h2);
      EXPECT_EQ(r.status, c.status) << r.body;
      if (c.status == 200) {
        EXPECT_EQ(r.bodyJson()["path"], c.upstream_path);
      }
    }
  }
}

TEST_F(ProxyE2eTest, UndeployedInstanceIs404LikeUnknownHost) {
  std::string unknown = std::string("0f3e2d1c4b5a69788796a5b5") + "-" + kProject + "-http-1." +
                        kNode + ".containers." + kDomain;
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult reference = curl(unknown, "/", {}, h2);
    ASSERT_EQ(reference.status, 404);
    for (const std::string& name : {host(kOpenId, "http", 2), host(kOpenId, "http", 999999),
                                    host(kOpenId, "terminal")}) {
      SCOPED_TRACE(name);
      HttpResult r = curl(name, "/", {}, h2);
      EXPECT_EQ(r.status, 404);
      EXPECT_EQ(r.headers, reference.headers);
      EXPECT_EQ(r.body, reference.body);
    }
  }
}

TEST_F(ProxyE2eTest, DeadUpstreamIs502) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult down = curl(host(kDownId), "/", {}, h2);
    EXPECT_EQ(down.status, 502);
  }
}

TEST_F(ProxyE2eTest, UpstreamCannotReachOtherContainersCookies) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kCookieId), "/", {}, h2);
    ASSERT_EQ(r.status, 200) << r.stderr_text;
    EXPECT_EQ(r.body, "ok\n");
    EXPECT_EQ(r.header("Set-Cookie"),
              (std::vector<std::string>{"sid=1; Path=/; HttpOnly", "theme=dark",
                                        "lang=en; Max-Age=60"}));
    EXPECT_EQ(r.header("Clear-Site-Data"), std::vector<std::string>{"\"cache\""});
  }
}

TEST_F(ProxyE2eTest, NghttpClientIsServed) {
  CommandResult r = runCommand({"nghttp", "-t", "10", "-H", ":authority: " + host(kOpenId),
                                "https://127.0.0.1:" + std::to_string(port_) + "/from-nghttp"},
                               20);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json echo = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(echo.is_object()) << r.out;
  EXPECT_EQ(echo["path"], "/from-nghttp");
}

// Frames for the rapid-reset test: HEADERS (GET / with END_STREAM) then
// RST_STREAM(CANCEL), hand-encoded with HPACK static table entries.
std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>((payload.size() >> 16) & 0xff));
  f.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
  f.push_back(static_cast<char>(payload.size() & 0xff));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((stream >> shift) & 0xff));
  return f + payload;
}

TEST_F(ProxyE2eTest, RapidResetEndsTheConnectionWithGoaway) {
  std::string authority = host(kOpenId);
  ASSERT_LT(authority.size(), 127u);
  // :method GET, :scheme https, :path /, :authority literal (name index 1).
  std::string block = "\x82\x87\x84";
  block.push_back('\x01');
  block.push_back(static_cast<char>(authority.size()));
  block += authority;

  RawTlsClient client;
  ASSERT_TRUE(client.connect(port_, authority, "h2", ca_));
  std::string out = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(0x4, 0, 0, "");
  ASSERT_TRUE(client.send(out));
  const std::string cancel("\x00\x00\x00\x08", 4);
  uint32_t stream = 1;
  bool goaway = false;
  uint32_t error_code = 0;
  std::string in;
  // 3000 resets in a burst exceed the bucket of 1000.
  for (int batch = 0; batch < 30 && !goaway; ++batch) {
    std::string burst;
    for (int i = 0; i < 100; ++i, stream += 2) {
      burst += frame(0x1, 0x5, stream, block);
      burst += frame(0x3, 0, stream, cancel);
    }
    if (!client.send(burst)) break;
  }
  // Read frames until GOAWAY or close.
  for (int reads = 0; reads < 2000 && !goaway; ++reads) {
    std::string chunk = client.readSome();
    if (chunk.empty()) break;
    in += chunk;
    size_t pos = 0;
    while (in.size() - pos >= 9) {
      size_t len = (static_cast<uint8_t>(in[pos]) << 16) | (static_cast<uint8_t>(in[pos + 1]) << 8) |
                   static_cast<uint8_t>(in[pos + 2]);
      if (in.size() - pos < 9 + len) break;
      if (static_cast<uint8_t>(in[pos + 3]) == 0x7 && len >= 8) {
        goaway = true;
        for (int k = 0; k < 4; ++k) {
          error_code = (error_code << 8) | static_cast<uint8_t>(in[pos + 9 + 4 + k]);
        }
        break;
      }
      pos += 9 + len;
    }
    in.erase(0, pos);
  }
  ASSERT_TRUE(goaway);
  EXPECT_EQ(error_code, 0xbu);  // ENHANCE_YOUR_CALM
  std::string log;
  for (int i = 0; i < 50 && log.find("RST_STREAM rate") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = readFileText(dir_ + "/main.log");
  }
  EXPECT_NE(log.find("exceeded the RST_STREAM rate"), std::string::npos);
}

// Reads frames until one of `type` on `stream` arrives; returns its payload,
// or nullopt when the connection ends first.
std::optional<std::string> readFrame(RawTlsClient& client, uint8_t type, uint32_t stream) {
  std::string in;
  for (int reads = 0; reads < 2000; ++reads) {
    size_t pos = 0;
    while (in.size() - pos >= 9) {
      size_t len = (static_cast<uint8_t>(in[pos]) << 16) |
                   (static_cast<uint8_t>(in[pos + 1]) << 8) | static_cast<uint8_t>(in[pos + 2]);
      if (in.size() - pos < 9 + len) break;
      uint32_t id = 0;
      for (int k = 0; k < 4; ++k) id = (id << 8) | static_cast<uint8_t>(in[pos + 5 + k]);
      id &= 0x7fffffffu;
      if (static_cast<uint8_t>(in[pos + 3]) == type && id == stream) {
        return in.substr(pos + 9, len);
      }
      pos += 9 + len;
    }
    in.erase(0, pos);
    std::string chunk = client.readSome();
    if (chunk.empty()) return std::nullopt;
    in += chunk;
  }
  return std::nullopt;
}

TEST_F(ProxyE2eTest, HpackBombGets431) {
  std::string authority = host(kOpenId);
  // One literal field with incremental indexing that nearly fills the 4096
  // byte dynamic table, then 20 one-byte references to it (index 62): about
  // 80 KiB decoded from about 4 KiB on the wire.
  std::string block = "\x82\x87\x84";
  block.push_back('\x01');
  block.push_back(static_cast<char>(authority.size()));
  block += authority;
  block.push_back('\x40');
  block.push_back('\x06');
  block += "x-bomb";
  size_t value_size = 4000;
  block.push_back('\x7f');  // Length 127 + varint remainder.
  size_t rest = value_size - 127;
  while (rest >= 128) {
    block.push_back(static_cast<char>((rest & 0x7f) | 0x80));
    rest >>= 7;
  }
  block.push_back(static_cast<char>(rest));
  block += std::string(value_size, 'a');
  block += std::string(20, '\xbe');

  RawTlsClient client;
  ASSERT_TRUE(client.connect(port_, authority, "h2", ca_));
  ASSERT_TRUE(client.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(0x4, 0, 0, "") +
                          frame(0x1, 0x5, 1, block)));
  std::optional<std::string> headers = readFrame(client, 0x1, 1);
  ASSERT_TRUE(headers.has_value());
  // :status 431 is not in the static table: literal, name index 8, raw "431".
  EXPECT_NE(headers->find("\x48\x03" "431"), std::string::npos);

  // The connection stays usable for a normal request.
  std::string small = "\x82\x87\x84";
  small.push_back('\x01');
  small.push_back(static_cast<char>(authority.size()));
  small += authority;
  ASSERT_TRUE(client.send(frame(0x1, 0x5, 3, small)));
  std::optional<std::string> ok = readFrame(client, 0x1, 3);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(static_cast<uint8_t>((*ok)[0]), 0x88u);  // :status 200, static index 8.
}

TEST_F(ProxyE2eTest, AccessLogHasNoSecrets) {
  HttpResult r = curl(host(kBearerId), "/logged?secret-query=1",
                      {"-H", std::string("Authorization: Bearer ") + kBearerToken, "-H",
                       "Cookie: session=cookie-value-77"},
                      false);
  ASSERT_EQ(r.status, 200);
  // Stop nothing: the log is written when the request completes.
  std::string log;
  for (int i = 0; i < 50; ++i) {
    log = readFileText(dir_ + "/main-access.log");
    if (log.find("/logged") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(log.find(kBearerToken), std::string::npos);
  EXPECT_EQ(log.find("cookie-value-77"), std::string::npos);
  EXPECT_EQ(log.find("secret-query"), std::string::npos);
  std::istringstream in(log);
  std::string line;
  bool found = false;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    if (j["path"] != "/logged") continue;
    found = true;
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(j["decision"], "allow");
    EXPECT_EQ(j["group"], "monitoring");
    EXPECT_EQ(j["container"], "bearer-api");
    EXPECT_EQ(j["realm"], "acme");
    EXPECT_EQ(j["service"], "http");
    EXPECT_EQ(j["client"], "127.0.0.1");
    EXPECT_EQ(j["protocol"], "h1");
    EXPECT_TRUE(j["upstream_ms"].is_number());
  }
  EXPECT_TRUE(found) << log;
}

TEST_F(ProxyE2eTest, HeadResponseHasLengthButNoBody) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/bytes?n=1234", {"-I"}, h2);
    EXPECT_EQ(r.status, 200) << r.stderr_text;
    EXPECT_EQ(r.header("Content-Length"), std::vector<std::string>{"1234"});
    // With -I curl writes the head to the output file as well; nothing else
    // may follow it.
    EXPECT_EQ(r.body, r.headers);
  }
}

TEST_F(ProxyE2eTest, LargeDownloadToSlowClientIsIntact) {
  // The client reads at 8 MB/s while the upstream writes as fast as it can,
  // so the proxy has to pause the upstream instead of buffering everything.
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/bytes?n=12000000", {"--limit-rate", "8M"}, h2);
    ASSERT_EQ(r.status, 200) << r.stderr_text;
    EXPECT_EQ(r.body.size(), 12000000u);
    std::vector<std::string> sha = r.header("X-Body-Sha256");
    ASSERT_EQ(sha.size(), 1u);
    EXPECT_EQ(sha256Hex(r.body), sha[0]);
  }
}

TEST_F(ProxyE2eTest, ParallelHttp2StreamsShareOneConnection) {
  std::string base = "https://" + host(kOpenId) + ":" + std::to_string(port_);
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "--http2", "--parallel",
                                   "--parallel-max", "20", "--cacert", ca_, "--resolve",
                                   host(kOpenId) + ":" + std::to_string(port_) + ":127.0.0.1",
                                   "-w", "%{http_code} %{http_version}\n"};
  for (int i = 0; i < 20; ++i) {
    argv.push_back("-o");
    argv.push_back("/dev/null");
    argv.push_back(base + "/slow?delay_ms=200&i=" + std::to_string(i));
  }
  CommandResult r = runCommand(argv, 30);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  int ok = 0;
  while (std::getline(in, line)) {
    EXPECT_EQ(line, "200 2");
    ++ok;
  }
  EXPECT_EQ(ok, 20);
}

TEST_F(ProxyE2eTest, SlowUpstreamGets504) {
  Proxy proxy = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0"}, "timeout",
                           {"--upstream-timeout", "0.5"});
  ASSERT_EQ(proxy.ports.size(), 1u);
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    HttpResult r = curl(host(kOpenId), "/slow?delay_ms=2000", {}, h2, proxy.ports[0]);
    EXPECT_EQ(r.status, 504);
    HttpResult fast = curl(host(kOpenId), "/slow?delay_ms=10", {}, h2, proxy.ports[0]);
    EXPECT_EQ(fast.status, 200);
  }
  EXPECT_EQ(WEXITSTATUS(stopProcess(proxy.pid)), 0);
}

TEST_F(ProxyE2eTest, SlowRequestHeadGets408) {
  Proxy proxy = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0"}, "head-timeout",
                           {"--request-head-timeout", "0.5"});
  ASSERT_EQ(proxy.ports.size(), 1u);
  RawTlsClient client;
  ASSERT_TRUE(client.connect(proxy.ports[0], host(kOpenId), "http/1.1", ca_));
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: " + host(kOpenId) + "\r\n"));
  std::string response = client.readAll();
  EXPECT_EQ(response.rfind("HTTP/1.1 408 ", 0), 0u) << response;
  EXPECT_EQ(WEXITSTATUS(stopProcess(proxy.pid)), 0);
}

TEST_F(ProxyE2eTest, SigtermLetsRequestsInFlightFinish) {
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    std::string name = h2 ? "graceful-h2" : "graceful-h1";
    Proxy proxy = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0"}, name);
    ASSERT_EQ(proxy.ports.size(), 1u);
    uint16_t port = proxy.ports[0];
    std::string out = dir_ + "/" + name + "-curl.out";
    pid_t client = spawnProcess(
        {"curl", "-sS", "--max-time", "10", h2 ? "--http2" : "--http1.1", "--cacert", ca_,
         "--resolve", host(kOpenId) + ":" + std::to_string(port) + ":127.0.0.1", "-o",
         "/dev/null", "-w", "%{http_code}",
         "https://" + host(kOpenId) + ":" + std::to_string(port) + "/slow?delay_ms=2000"},
        out);
    ASSERT_GT(client, 0);
    // Long enough for the request to reach the upstream, well before it ends.
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    int status = stopProcess(proxy.pid, SIGTERM, 10);
    ASSERT_NE(status, -1);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    int client_status = stopProcess(client, 0, 10);  // Signal 0 only waits.
    EXPECT_EQ(WEXITSTATUS(client_status), 0);
    EXPECT_EQ(readFileText(out), "200");
  }
}

TEST_F(ProxyE2eTest, StartFailsClearlyWithoutBundle) {
  std::string missing = dir_ + "/no-such-bundle";
  CommandResult r = runCommand({std::string(HOODY_BUILD_DIR) + "/hoody-proxy", "--bundle", missing,
                                "--state-dir", dir_ + "/state", "--listen", "127.0.0.1:0"},
                               20);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;

  CommandResult bad_listen =
      runCommand({std::string(HOODY_BUILD_DIR) + "/hoody-proxy", "--bundle", bundle_dir_,
                  "--state-dir", dir_ + "/state", "--listen", "localhost:80"},
                 20);
  EXPECT_EQ(bad_listen.exit_code, 2);
  EXPECT_NE(bad_listen.err.find("localhost:80"), std::string::npos) << bad_listen.err;

  // Every usage error exits 2, whatever CLI11 calls it.
  EXPECT_EQ(runCommand({std::string(HOODY_BUILD_DIR) + "/hoody-proxy", "--bundle", bundle_dir_,
                        "--listen", "127.0.0.1:0"},
                       20)
                .exit_code,
            2);
  EXPECT_EQ(runCommand({std::string(HOODY_BUILD_DIR) + "/hoody-proxy", "--bundle", bundle_dir_,
                        "--state-dir", dir_ + "/state", "--listen", "127.0.0.1:0", "--workers",
                        "0"},
                       20)
                .exit_code,
            2);
}

TEST_F(ProxyE2eTest, SecondProxyOnTheSamePortFails) {
  // SO_REUSEPORT would let a second process share the port and serve part of
  // the traffic with another bundle; it must refuse to start instead.
  std::string listen = "127.0.0.1:" + std::to_string(proxy_.ports[0]);
  CommandResult r = runCommand({std::string(HOODY_BUILD_DIR) + "/hoody-proxy", "--bundle",
                                bundle_dir_, "--state-dir", dir_ + "/state2", "--listen", listen},
                               20);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("already in use"), std::string::npos) << r.err;
  EXPECT_EQ(curl(host(kIpId), "/", {}, false).status, 200);
}

TEST_F(ProxyE2eTest, DualStackListenerSeesIpv4Clients) {
  Proxy dual = startProxy(bundle_dir_, dir_ + "/state", {"[::]:0"}, "dual");
  ASSERT_EQ(dual.ports.size(), 1u) << readFileText(dir_ + "/dual.log");
  HttpResult r = curl(host(kIpId), "/", {}, false, dual.ports[0], "127.0.0.1");
  EXPECT_EQ(r.status, 200) << readFileText(dir_ + "/dual.log");
  EXPECT_EQ(upstreamHeader(r.bodyJson(), "X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(WEXITSTATUS(stopProcess(dual.pid)), 0);
}

TEST_F(ProxyE2eTest, SighupReloadsAndKeepsServingOnBrokenBundle) {
  std::string reload_bundle = dir_ + "/reload-bundle";
  ASSERT_TRUE(bundle::writeBundle(reload_bundle, policy_, {}).has_value());
  Proxy proxy = startProxy(reload_bundle, dir_ + "/state", {"127.0.0.1:0"}, "reload");
  ASSERT_EQ(proxy.ports.size(), 1u);
  uint16_t port = proxy.ports[0];
  EXPECT_EQ(curl(host(kAddedId), "/", {}, false, port).status, 404);

  // A new container appears after SIGHUP.
  ir::Policy next = policy_;
  next.realms[0].containers.push_back(makeContainer("added", kAddedId, 0, echo_port_));
  ASSERT_TRUE(bundle::writeBundle(reload_bundle, next, {}).has_value());
  kill(proxy.pid, SIGHUP);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    status = curl(host(kAddedId), "/", {}, false, port).status;
    if (status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200);

  // A corrupt bundle is rejected and the last good policy keeps serving.
  writeFileText(reload_bundle + "/decision.ir", "not a decision IR");
  kill(proxy.pid, SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(processRunning(proxy.pid));
  EXPECT_EQ(curl(host(kAddedId), "/", {}, true, port).status, 200);
  std::string log = readFileText(dir_ + "/reload.log");
  EXPECT_NE(log.find("reload failed"), std::string::npos) << log;

  int exit_status = stopProcess(proxy.pid);
  ASSERT_NE(exit_status, -1);
  EXPECT_TRUE(WIFEXITED(exit_status));
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
}


// --- Timeouts ---------------------------------------------------------------

// Appends an HPACK string literal (no Huffman coding) with a 7-bit length.
void appendHpackString(std::string* out, const std::string& text) {
  size_t n = text.size();
  if (n < 127) {
    out->push_back(static_cast<char>(n));
  } else {
    out->push_back('\x7f');
    n -= 127;
    while (n >= 128) {
      out->push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    out->push_back(static_cast<char>(n));
  }
  *out += text;
}

// An HPACK block for `method` (GET or POST) on `path` at `authority`, plus
// `fields` as literals without indexing.
std::string requestBlock(const std::string& method, const std::string& authority,
                         const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& fields = {}) {
  std::string block;
  block.push_back(method == "POST" ? '\x83' : '\x82');
  block.push_back('\x87');  // :scheme https
  block.push_back('\x04');  // :path, literal value
  appendHpackString(&block, path);
  block.push_back('\x01');  // :authority, literal value
  appendHpackString(&block, authority);
  for (const auto& [name, value] : fields) {
    block.push_back('\x00');
    appendHpackString(&block, name);
    appendHpackString(&block, value);
  }
  return block;
}

constexpr char kH2Preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr uint8_t kFlagEndStream = 0x1;
constexpr uint8_t kFlagEndHeaders = 0x4;

uint32_t readUint32(const std::string& data, size_t pos) {
  uint32_t v = 0;
  for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<uint8_t>(data[pos + k]);
  return v;
}

// Reads HTTP/2 frames from a raw client and keeps the bytes that follow a
// returned frame for the next call.
class FrameReader {
 public:
  explicit FrameReader(RawTlsClient& client) : client_(client) {}

  /// Reads until a frame of `type` on `stream` arrives and returns its
  /// payload; nullopt when the connection ends or stays quiet for 10 s.
  std::optional<std::string> waitFor(uint8_t type, uint32_t stream) {
    for (int reads = 0; reads < 2000; ++reads) {
      while (in_.size() >= 9) {
        size_t len = (static_cast<uint8_t>(in_[0]) << 16) | (static_cast<uint8_t>(in_[1]) << 8) |
                     static_cast<uint8_t>(in_[2]);
        if (in_.size() < 9 + len) break;
        uint8_t frame_type = static_cast<uint8_t>(in_[3]);
        uint32_t id = readUint32(in_, 5) & 0x7fffffffu;
        std::string payload = in_.substr(9, len);
        in_.erase(0, 9 + len);
        if (frame_type == type && id == stream) return payload;
      }
      std::string chunk = client_.readSome();
      if (chunk.empty()) return std::nullopt;
      in_ += chunk;
    }
    return std::nullopt;
  }

 private:
  RawTlsClient& client_;
  std::string in_;
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Waits up to `timeout_s` for the connection to close, reading and dropping
// whatever arrives. Returns the seconds it took, or a negative value.
double secondsUntilClosed(RawTlsClient& client, double timeout_s) {
  auto start = std::chrono::steady_clock::now();
  std::string ignored;
  while (secondsSince(start) < timeout_s) {
    if (client.readWithin(0.2, &ignored) == RawTlsClient::ReadStatus::Closed) {
      return secondsSince(start);
    }
    ignored.clear();
  }
  return -1;
}

class ProxyTimeoutTest : public ProxyE2eTest {
 protected:
  void SetUp() override {
    ProxyE2eTest::SetUp();
    if (IsSkipped()) return;
    if (timeout_proxy_.pid <= 0) {
      timeout_proxy_ = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0"}, "timeouts",
                                  {"--idle-timeout", "1.5", "--request-head-timeout", "0.5",
                                   "--request-body-timeout", "0.5"});
    }
    ASSERT_EQ(timeout_proxy_.ports.size(), 1u) << readFileText(dir_ + "/timeouts.log");
    ASSERT_TRUE(processRunning(timeout_proxy_.pid)) << readFileText(dir_ + "/timeouts.log");
    port_t_ = timeout_proxy_.ports[0];
  }

  static void TearDownTestSuite() {
    if (timeout_proxy_.pid > 0) stopProcess(timeout_proxy_.pid);
    timeout_proxy_ = {};
    ProxyE2eTest::TearDownTestSuite();
  }

  // Connects with ALPN h2 and sends the preface and an empty SETTINGS.
  bool connectH2(RawTlsClient& client, const std::string& sni) {
    return client.connect(port_t_, sni, "h2", ca_) &&
           client.send(std::string(kH2Preface) + frame(0x4, 0, 0, ""));
  }

  static Proxy timeout_proxy_;
  uint16_t port_t_ = 0;
};

ProxyE2eTest::Proxy ProxyTimeoutTest::timeout_proxy_;

TEST_F(ProxyTimeoutTest, Http2OpenHeaderBlockGetsGoaway) {
  std::string authority = host(kOpenId);
  RawTlsClient client;
  ASSERT_TRUE(connectH2(client, authority));
  // HEADERS without END_HEADERS, and no CONTINUATION ever follows.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send(frame(0x1, kFlagEndStream, 1, requestBlock("GET", authority, "/"))));
  FrameReader frames(client);
  std::optional<std::string> goaway = frames.waitFor(0x7, 0);
  ASSERT_TRUE(goaway.has_value());
  ASSERT_GE(goaway->size(), 8u);
  EXPECT_EQ(readUint32(*goaway, 4), 0x1u);  // PROTOCOL_ERROR
  EXPECT_LT(secondsSince(start), 5);
  EXPECT_GE(secondsUntilClosed(client, 5), 0);
}

TEST_F(ProxyTimeoutTest, Http2LocalResponseResetsUnfinishedRequest) {
  // The POST gets a local 403 (the bearer group grants GET and HEAD only)
  // while its body never comes: the stream is reset with NO_ERROR once the
  // body timeout passes, and the idle connection then closes.
  std::string authority = host(kBearerId);
  RawTlsClient client;
  ASSERT_TRUE(connectH2(client, authority));
  ASSERT_TRUE(client.send(frame(0x1, kFlagEndHeaders, 1,
                                requestBlock("POST", authority, "/upload",
                                             {{"content-length", "100000"}}))));
  FrameReader frames(client);
  std::optional<std::string> headers = frames.waitFor(0x1, 1);
  ASSERT_TRUE(headers.has_value());
  // :status 403: literal, name index 8. Huffman coding would not be shorter.
  EXPECT_NE(headers->find("\x48\x03" "403"), std::string::npos);
  std::optional<std::string> reset = frames.waitFor(0x3, 1);
  ASSERT_TRUE(reset.has_value());
  ASSERT_EQ(reset->size(), 4u);
  EXPECT_EQ(readUint32(*reset, 0), 0u);  // NO_ERROR
  double closed = secondsUntilClosed(client, 6);
  EXPECT_GE(closed, 0);
}

TEST_F(ProxyTimeoutTest, Http2PingsDoNotKeepAnIdleConnection) {
  std::string authority = host(kOpenId);
  RawTlsClient client;
  ASSERT_TRUE(connectH2(client, authority));
  ASSERT_TRUE(client.send(
      frame(0x1, kFlagEndHeaders | kFlagEndStream, 1, requestBlock("GET", authority, "/"))));
  FrameReader frames(client);
  ASSERT_TRUE(frames.waitFor(0x1, 1).has_value());
  // A PING every 0.2 s; the idle timeout is 1 s.
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  std::string ignored;
  while (!closed && secondsSince(start) < 6) {
    if (!client.send(frame(0x6, 0, 0, std::string(8, 'p')))) break;
    closed = client.readWithin(0.2, &ignored) == RawTlsClient::ReadStatus::Closed;
    ignored.clear();
  }
  EXPECT_LT(secondsSince(start), 6) << "the connection stayed open while the client sent PINGs";
}

TEST_F(ProxyTimeoutTest, Http2StalledRequestBodyGets408) {
  std::string authority = host(kOpenId);
  RawTlsClient client;
  ASSERT_TRUE(connectH2(client, authority));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send(frame(0x1, kFlagEndHeaders, 1,
                                requestBlock("POST", authority, "/upload",
                                             {{"content-length", "100"}})) +
                          frame(0x0, 0, 1, std::string(10, 'b'))));
  FrameReader frames(client);
  std::optional<std::string> headers = frames.waitFor(0x1, 1);
  ASSERT_TRUE(headers.has_value());
  EXPECT_NE(headers->find("\x48\x03" "408"), std::string::npos);
  EXPECT_LT(secondsSince(start), 5);
  std::optional<std::string> reset = frames.waitFor(0x3, 1);
  ASSERT_TRUE(reset.has_value());
  EXPECT_EQ(readUint32(*reset, 0), 0u);  // NO_ERROR
}

TEST_F(ProxyTimeoutTest, Http1StalledRequestBodyGets408) {
  RawTlsClient client;
  ASSERT_TRUE(client.connect(port_t_, host(kOpenId), "http/1.1", ca_));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: " + host(kOpenId) +
                          "\r\nContent-Length: 100\r\n\r\n" + std::string(10, 'b')));
  std::string response = client.readAll();
  EXPECT_EQ(response.rfind("HTTP/1.1 408 ", 0), 0u) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  EXPECT_LT(secondsSince(start), 5);
}

TEST_F(ProxyTimeoutTest, Http1UnfinishedBodyAfterLocalErrorIsBounded) {
  // A local 401 while the client still owes most of its body and then goes
  // quiet without reading: the close must not wait for the body.
  RawTlsClient client;
  ASSERT_TRUE(client.connect(port_t_, host(kBearerId), "http/1.1", ca_));
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: " + host(kBearerId) +
                          "\r\nContent-Length: 10000000\r\n\r\n" + std::string(1000, 'b')));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double closed = secondsUntilClosed(client, 6);
  EXPECT_GE(closed, 0);
}

TEST_F(ProxyTimeoutTest, Http1IdleKeepAliveConnectionCloses) {
  RawTlsClient client;
  ASSERT_TRUE(client.connect(port_t_, host(kOpenId), "http/1.1", ca_));
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: " + host(kOpenId) + "\r\n\r\n"));
  std::string response;
  ASSERT_EQ(client.readWithin(5, &response), RawTlsClient::ReadStatus::Data);
  EXPECT_EQ(response.rfind("HTTP/1.1 200 ", 0), 0u) << response;
  EXPECT_GE(secondsUntilClosed(client, 6), 0);
}

// --- Password decisions off the event loop ------------------------------------

// A curl started in the background; its status and headers are read once it
// exits.
struct BackgroundCurl {
  pid_t pid = -1;
  std::string stem;

  int status() const { return std::atoi(readFileText(stem + ".code").c_str()); }
  std::string headers() const { return readFileText(stem + ".head"); }
  std::string body() const { return readFileText(stem + ".body"); }
};

class ProxyPasswordPoolTest : public ProxyE2eTest {
 protected:
  static BackgroundCurl startCurl(uint16_t port, const std::string& name, const std::string& path,
                                  const std::vector<std::string>& extra, bool h2 = false) {
    static int counter = 0;
    BackgroundCurl c;
    c.stem = dir_ + "/bg-curl-" + std::to_string(++counter);
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "30", "--cacert", ca_, "-o",
                                     c.stem + ".body", "-D", c.stem + ".head", "-w",
                                     "%{http_code}", h2 ? "--http2" : "--http1.1", "--resolve",
                                     name + ":" + std::to_string(port) + ":127.0.0.1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://" + name + ":" + std::to_string(port) + path);
    // stdout (the status) goes to the log file named .code.
    c.pid = spawnProcess(argv, c.stem + ".code");
    return c;
  }

  // Seconds one verification of the slow hash takes in this process.
  static double slowHashSeconds() {
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(auth::verifyPasswordHash(slow_hash_, "wrong password"));
    return secondsSince(start);
  }

  static std::string basic(const std::string& user_password) {
    std::string out(sodium_base64_ENCODED_LEN(user_password.size(),
                                              sodium_base64_VARIANT_ORIGINAL),
                    '\0');
    sodium_bin2base64(out.data(), out.size(),
                      reinterpret_cast<const unsigned char*>(user_password.data()),
                      user_password.size(), sodium_base64_VARIANT_ORIGINAL);
    out.resize(strlen(out.c_str()));
    return "Basic " + out;
  }
};

TEST_F(ProxyPasswordPoolTest, SlowPasswordsDoNotStallOtherRequests) {
  Proxy proxy = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0"}, "password-pool",
                           {"--workers", "1", "--password-threads", "1", "--password-queue", "8"});
  ASSERT_EQ(proxy.ports.size(), 1u) << readFileText(dir_ + "/password-pool.log");
  uint16_t port = proxy.ports[0];
  double hash_s = slowHashSeconds();

  // Three wrong passwords, then a right one with a body that arrives while
  // its decision waits, over both protocols.
  std::string body(100000, 'q');
  std::string body_file = dir_ + "/pool-upload.bin";
  writeFileText(body_file, body);
  std::vector<BackgroundCurl> wrong;
  for (int i = 0; i < 3; ++i) {
    wrong.push_back(startCurl(port, host(kSlowId), "/", {"-u", "deploy:wrong-" + std::to_string(i)},
                              i % 2 == 1));
  }
  BackgroundCurl right =
      startCurl(port, host(kSlowId), "/upload",
                {"-u", std::string("deploy:") + kSlowPassword, "--data-binary", "@" + body_file},
                true);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // An anonymous request to another container gets its response at once.
  auto start = std::chrono::steady_clock::now();
  HttpResult other = curl(host(kOpenId), "/", {}, false, port);
  double other_s = secondsSince(start);
  EXPECT_EQ(other.status, 200) << other.stderr_text;
  bool still_pending = processRunning(right.pid);
  EXPECT_TRUE(still_pending) << "the password checks ended before the other request; the test "
                                "shows nothing";
  EXPECT_LT(other_s, hash_s / 2) << "one verification takes " << hash_s << " s";

  // The pending requests complete with their own decisions.
  for (BackgroundCurl& c : wrong) {
    stopProcess(c.pid, 0, 40);
    EXPECT_EQ(c.status(), 401) << c.headers();
  }
  stopProcess(right.pid, 0, 40);
  ASSERT_EQ(right.status(), 200) << right.headers();
  json echo = json::parse(right.body(), nullptr, false);
  ASSERT_TRUE(echo.is_object()) << right.body();
  EXPECT_EQ(echo["body_length"], body.size());
  EXPECT_EQ(echo["body_sha256"], sha256Hex(body));
  EXPECT_EQ(upstreamHeader(echo, "X-Hoody-Group"), std::vector<std::string>{"slow-admins"});

  // A second right password is a cache hit on the pool thread: fast.
  start = std::chrono::steady_clock::now();
  HttpResult again = curl(host(kSlowId), "/", {"-u", std::string("deploy:") + kSlowPassword}, true,
                          port);
  EXPECT_EQ(again.status, 200);
  EXPECT_LT(secondsSince(start), hash_s / 2);
  EXPECT_EQ(WEXITSTATUS(stopProcess(proxy.pid)), 0);
}

TEST_F(ProxyPasswordPoolTest, FullQueueGets503WithRetryAfter) {
  Proxy proxy = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0"}, "password-full",
                           {"--workers", "1", "--password-threads", "1", "--password-queue", "1"});
  ASSERT_EQ(proxy.ports.size(), 1u) << readFileText(dir_ + "/password-full.log");
  uint16_t port = proxy.ports[0];
  // One verification runs, one waits, the others find the queue full.
  std::vector<BackgroundCurl> curls;
  for (int i = 0; i < 5; ++i) {
    curls.push_back(
        startCurl(port, host(kSlowId), "/", {"-u", "deploy:wrong-" + std::to_string(i)}));
  }
  int unauthorized = 0;
  int overloaded = 0;
  for (BackgroundCurl& c : curls) {
    stopProcess(c.pid, 0, 40);
    int status = c.status();
    if (status == 401) ++unauthorized;
    if (status == 503) {
      ++overloaded;
      EXPECT_NE(c.headers().find("Retry-After: 1\r\n"), std::string::npos) << c.headers();
    }
    EXPECT_TRUE(status == 401 || status == 503) << status;
  }
  EXPECT_GE(unauthorized, 2);
  EXPECT_GE(overloaded, 1);
  EXPECT_EQ(WEXITSTATUS(stopProcess(proxy.pid)), 0);
}

TEST_F(ProxyPasswordPoolTest, ClientsLeavingWhileDecisionPendingAreHandled) {
  Proxy proxy = startProxy(bundle_dir_, dir_ + "/state", {"127.0.0.1:0"}, "password-gone",
                           {"--workers", "1", "--password-threads", "1"});
  ASSERT_EQ(proxy.ports.size(), 1u) << readFileText(dir_ + "/password-gone.log");
  uint16_t port = proxy.ports[0];
  double hash_s = slowHashSeconds();
  std::string authority = host(kSlowId);
  std::string wrong = basic("deploy:wrong");

  // HTTP/1.1 clients that close while their decision waits.
  for (int i = 0; i < 3; ++i) {
    RawTlsClient gone;
    ASSERT_TRUE(gone.connect(port, authority, "http/1.1", ca_));
    ASSERT_TRUE(gone.send("GET / HTTP/1.1\r\nHost: " + authority + "\r\nAuthorization: " + wrong +
                          "\r\n\r\n"));
  }

  // An HTTP/2 stream reset while its decision waits; the connection goes on.
  RawTlsClient client;
  ASSERT_TRUE(client.connect(port, authority, "h2", ca_));
  ASSERT_TRUE(client.send(std::string(kH2Preface) + frame(0x4, 0, 0, "") +
                          frame(0x1, kFlagEndHeaders | kFlagEndStream, 1,
                                requestBlock("GET", authority, "/", {{"authorization", wrong}}))));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(client.send(frame(0x3, 0, 1, std::string("\x00\x00\x00\x08", 4))));
  // No group grants terminal, so this is an inline 403 on the same
  // container.
  ASSERT_TRUE(client.send(frame(0x1, kFlagEndHeaders | kFlagEndStream, 3,
                                requestBlock("GET", host(kSlowId, "terminal"), "/"))));
  FrameReader frames(client);
  std::optional<std::string> headers = frames.waitFor(0x1, 3);
  ASSERT_TRUE(headers.has_value());
  EXPECT_NE(headers->find("\x48\x03" "403"), std::string::npos);

  // Every pending decision finishes into a gone exchange without harm.
  std::this_thread::sleep_for(std::chrono::duration<double>(3 * hash_s + 0.5));
  ASSERT_TRUE(processRunning(proxy.pid)) << readFileText(dir_ + "/password-gone.log");
  HttpResult after = curl(authority, "/", {"-u", std::string("deploy:") + kSlowPassword}, true,
                          port);
  EXPECT_EQ(after.status, 200);
  std::string log = readFileText(dir_ + "/password-gone-access.log");
  EXPECT_NE(log.find("\"stream-reset\""), std::string::npos) << log;
  EXPECT_EQ(WEXITSTATUS(stopProcess(proxy.pid)), 0);
}

// --- Local CA ---------------------------------------------------------------

TEST_F(ProxyE2eTest, UnconstrainedCaIsReplacedAndLogged) {
  std::string state = dir_ + "/old-ca-state";
  ASSERT_EQ(mkdir(state.c_str(), 0700), 0);
  // A CA without name constraints, as earlier releases made it.
  CommandResult made = runCommand(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", state + "/ca-key.pem", "-out", state + "/ca.pem", "-subj",
       "/CN=old unconstrained CA", "-days", "30"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string old_ca = readFileText(state + "/ca.pem");

  Proxy proxy = startProxy(bundle_dir_, state, {"127.0.0.1:0"}, "old-ca");
  ASSERT_EQ(proxy.ports.size(), 1u) << readFileText(dir_ + "/old-ca.log");
  EXPECT_NE(readFileText(state + "/ca.pem"), old_ca);
  std::string log = readFileText(dir_ + "/old-ca.log");
  EXPECT_NE(log.find("replaced the local CA"), std::string::npos) << log;

  CommandResult text = runCommand(
      {"openssl", "x509", "-in", state + "/ca.pem", "-noout", "-ext", "nameConstraints"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("critical"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(std::string("DNS:") + kNode + ".containers." + kDomain),
            std::string::npos)
      << text.out;
  CommandResult verified = runCommand(
      {"openssl", "verify", "-CAfile", state + "/ca.pem", state + "/server.pem"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // Clients that trust the new CA reach the proxy.
  std::string name = host(kOpenId);
  CommandResult r = runCommand(
      {"curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
       state + "/ca.pem", "--resolve", name + ":" + std::to_string(proxy.ports[0]) + ":127.0.0.1",
       "https://" + name + ":" + std::to_string(proxy.ports[0]) + "/"});
  EXPECT_EQ(r.out, "200") << r.err;
  EXPECT_EQ(WEXITSTATUS(stopProcess(proxy.pid)), 0);
}

}  // namespace
}  // namespace hoody::e2e
