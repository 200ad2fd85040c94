// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the hoodyc command line: exit codes, the JSON shapes of
// `explain` and `urls` that scripts depend on, policy tests, and the helper
// commands, all run as a user would run them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "runtime/auth/auth.h"
#include "runtime/jit/decision_abi.h"
#include "tests/e2e/e2e_support.h"

namespace hoody::e2e {
namespace {

using nlohmann::json;

const std::string kHoodyc = std::string(HOODY_BUILD_DIR) + "/hoodyc";
const std::string kSource = HOODY_SOURCE_DIR;
const std::string kProduction = kSource + "/policies/production.hoody";
const std::string kSecrets = kSource + "/examples/secrets/";

CommandResult hoodyc(std::vector<std::string> args) {
  args.insert(args.begin(), kHoodyc);
  return runCommand(args, 60);
}

// Runs a shell pipeline, for commands that read stdin.
CommandResult shell(const std::string& script) { return runCommand({"bash", "-c", script}, 60); }

// Returns the host name of one service of a production container.
std::string hostOf(const std::string& container, const std::string& service) {
  CommandResult r = hoodyc({"urls", kProduction, "--node", "node-us", "--domain", "example.net",
                            "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& row : json::parse(r.out)) {
    if (row["container"] == container && row["service"] == service) {
      std::string url = row["url"];
      return url.substr(8, url.size() - 9);  // strip "https://" and the final "/"
    }
  }
  ADD_FAILURE() << container << "." << service << " not in urls";
  return "";
}

json explainJson(std::vector<std::string> args, int* exit_code = nullptr) {
  args.insert(args.begin(), {"explain", kProduction});
  args.push_back("--json");
  CommandResult r = hoodyc(args);
  if (exit_code) *exit_code = r.exit_code;
  EXPECT_NE(r.exit_code, 2) << r.err;
  return json::parse(r.out, nullptr, false);
}

std::string mintJwt(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"python3", kSource + "/examples/mint_jwt.py", "--key",
                                   kSecrets + "operators.key.pem"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  CommandResult r = runCommand(argv, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

class HoodycTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveProgram("python3") || !haveProgram("openssl")) GTEST_SKIP() << "python3 or openssl missing";
    dir_ = makeTempDir("hoodyc-cli");
  }
  void TearDown() override {
    if (!dir_.empty()) removeTree(dir_);
  }
  std::string dir_;
};

TEST_F(HoodycTest, CheckExitCodes) {
  EXPECT_EQ(hoodyc({"check", kSource + "/policies/open.hoody", kSource + "/policies/team.hoody",
                    kProduction})
                .exit_code,
            0);
  std::string bad = dir_ + "/bad.hoody";
  writeFileText(bad, "realm r {\n  project p id 0f3e2d1c4b5a69788796a5b4 {\n"
                     "    permissions { group g { ip 192.0.2.0/33; allow terminal } }\n  }\n}\n");
  CommandResult r = hoodyc({"check", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":3:32: error[invalid-cidr]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("= help:"), std::string::npos) << r.err;
  EXPECT_EQ(hoodyc({"check", dir_ + "/missing.hoody"}).exit_code, 2);
  EXPECT_EQ(hoodyc({"check"}).exit_code, 2);
  EXPECT_EQ(hoodyc({"frobnicate"}).exit_code, 2);
}

TEST_F(HoodycTest, CheckJsonListsDiagnostics) {
  std::string bad = dir_ + "/bad.hoody";
  writeFileText(bad, "realm r { project p id 0f3e2d1c4b5a69788796a5b4 { container c id 123 } }\n");
  CommandResult r = hoodyc({"check", "--json", bad});
  EXPECT_EQ(r.exit_code, 1);
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_NE(r.out.find("invalid-id"), std::string::npos) << r.out;
}

TEST_F(HoodycTest, ExplainJsonHasStableFields) {
  int code = -1;
  json j = explainJson({"--host", hostOf("public-api", "http"), "--client", "198.51.100.7"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(j["decision"], "allow");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["group"], "world");
  EXPECT_EQ(j["container"], "public-api");
  EXPECT_EQ(j["service"], "http");
  EXPECT_TRUE(j["reason"].is_string());
}

TEST_F(HoodycTest, ExplainDeniedExitsOneWithChallenge) {
  int code = -1;
  json j = explainJson({"--host", hostOf("public-api", "terminal"), "--client", "198.51.100.7"},
                       &code);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(j["decision"], "deny");
  EXPECT_EQ(j["status"], 401);
  EXPECT_TRUE(j["group"].is_null());
  EXPECT_EQ(j["www_authenticate"], "Bearer realm=\"acme\"");
}

TEST_F(HoodycTest, ExplainVerifiesRealJwts) {
  std::string host = hostOf("public-api", "terminal");
  std::string iss = readFileText(kSecrets + "operators.issuer");
  std::string aud = readFileText(kSecrets + "operators.audience");
  std::string claims = "hoody_realm=\"acme\"";
  struct Case {
    std::string name;
    std::string token;
    int status;
  };
  std::vector<Case> cases = {
      {"valid", mintJwt({"--iss", iss, "--aud", aud, "--claim", claims}), 200},
      {"expired", mintJwt({"--iss", iss, "--aud", aud, "--claim", claims, "--ttl", "-600"}), 401},
      {"wrong audience", mintJwt({"--iss", iss, "--aud", "files", "--claim", claims}), 401},
      {"wrong issuer", mintJwt({"--iss", "https://evil.example", "--aud", aud, "--claim", claims}),
       401},
      {"alg none", runCommand({"python3", kSource + "/examples/mint_jwt.py", "--alg", "none",
                               "--iss", iss, "--aud", aud})
                       .out,
       401},
  };
  for (auto& c : cases) {
    while (!c.token.empty() && c.token.back() == '\n') c.token.pop_back();
    json j = explainJson({"--host", host, "--client", "198.51.100.7", "--jwt", c.token});
    EXPECT_EQ(j["status"], c.status) << c.name << ": " << j.dump();
    if (c.name == "wrong audience") {
      EXPECT_NE(j["reason"].get<std::string>().find("bad-audience"), std::string::npos)
          << j["reason"];
    }
  }
}

TEST_F(HoodycTest, ExplainNormalizesHostLikeTheProxy) {
  std::string host = hostOf("billing-worker", "terminal");
  std::string upper = host;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  json canonical = explainJson({"--host", host, "--client", "203.0.113.9"});
  json dotted = explainJson({"--host", upper + ".:443", "--client", "::ffff:203.0.113.9"});
  EXPECT_EQ(canonical["status"], 200);
  EXPECT_EQ(dotted["status"], 200);
  EXPECT_EQ(dotted["group"], "devops");
  EXPECT_EQ(explainJson({"--host", host + "..", "--client", "203.0.113.9"})["status"], 400);
}

TEST_F(HoodycTest, ExplainDecidesOnNormalizedPath) {
  std::string host = hostOf("billing-worker", "terminal");
  EXPECT_EQ(explainJson({"--host", host, "--client", "203.0.113.9", "--path", "/a/%2e%2e/b"})
                ["status"],
            200);
  for (const char* path : {"/..%2fadmin", "/a;b", "/%c0%ae%c0%ae/x", "/a%00"}) {
    EXPECT_EQ(explainJson({"--host", host, "--client", "203.0.113.9", "--path", path})["status"],
              400)
        << path;
  }
}

TEST_F(HoodycTest, ExplainSniMismatchIs421) {
  std::string worker = hostOf("billing-worker", "terminal");
  std::string api = hostOf("public-api", "terminal");
  EXPECT_EQ(explainJson({"--host", worker, "--client", "203.0.113.9", "--sni", api})["status"],
            421);
  // Another service of the same container is the same container.
  EXPECT_EQ(explainJson({"--host", worker, "--client", "203.0.113.9", "--sni",
                         hostOf("billing-worker", "files")})["status"],
            200);
}

TEST_F(HoodycTest, BasicPasswordWithColons) {
  CommandResult hash = shell("printf 'p:a:ss\\n' | " + kHoodyc + " hash-password --stdin");
  ASSERT_EQ(hash.exit_code, 0) << hash.err;
  std::string phc = hash.out.substr(0, hash.out.find('\n'));
  EXPECT_TRUE(auth::verifyPasswordHash(phc, "p:a:ss"));
  std::string policy = dir_ + "/basic.hoody";
  writeFileText(policy,
                "realm r {\n  project p id 6a1f3c9e0b7d4e2f8a5c1d03 {\n    permissions {\n"
                "      default deny\n      group deployers {\n        password { user \"deploy\" "
                "hash \"" + phc + "\" }\n        allow http\n      }\n    }\n"
                "    container a id 0f3e2d1c4b5a69788796a5b4\n  }\n}\n");
  std::string host =
      "0f3e2d1c4b5a69788796a5b4-6a1f3c9e0b7d4e2f8a5c1d03-http-1.node-us.containers.example";
  auto status = [&](const std::string& basic) {
    CommandResult r = hoodyc({"explain", policy, "--host", host, "--client", "192.0.2.1",
                              "--basic", basic, "--json"});
    return json::parse(r.out, nullptr, false).value("status", 0);
  };
  EXPECT_EQ(status("deploy:p:a:ss"), 200);
  EXPECT_EQ(status("deploy:p"), 401);
  EXPECT_EQ(status("deploy:p:a:ss:"), 401);
  EXPECT_EQ(status("ops:p:a:ss"), 401);
}

TEST_F(HoodycTest, UrlsJsonShape) {
  CommandResult r = hoodyc({"urls", kProduction, "--node", "node-us", "--domain", "example.net",
                            "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rows = json::parse(r.out);
  ASSERT_TRUE(rows.is_array());
  ASSERT_FALSE(rows.empty());
  std::regex url(R"(https://[0-9a-f]{24}-[0-9a-f]{24}-[a-z]+-[1-9][0-9]*\.node-us\.containers\.example\.net/)");
  for (const auto& row : rows) {
    std::set<std::string> keys;
    for (const auto& [key, value] : row.items()) keys.insert(key);
    EXPECT_EQ(keys, (std::set<std::string>{"realm", "project", "container", "service", "url"}));
    EXPECT_TRUE(std::regex_match(row["url"].get<std::string>(), url)) << row["url"];
  }
}

TEST_F(HoodycTest, CompileNeedsEveryContainerInInventory) {
  std::string inventory = dir_ + "/inventory.json";
  writeFileText(inventory, R"({"node": "n", "domain": "example.net", "containers": {}})");
  CommandResult r = hoodyc({"compile", kProduction, "--inventory", inventory, "-o", dir_ + "/b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("public-api"), std::string::npos) << r.err;
  EXPECT_EQ(hoodyc({"compile", kProduction, "-o", dir_ + "/b"}).exit_code, 2);
}

TEST_F(HoodycTest, PolicyTestsPass) {
  CommandResult r = hoodyc({"test", kProduction});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" passed, 0 failed"), std::string::npos) << r.out;
}

TEST_F(HoodycTest, FailingPolicyTestExitsOne) {
  std::string policy = dir_ + "/t.hoody";
  writeFileText(policy,
                "realm r {\n  project p id 6a1f3c9e0b7d4e2f8a5c1d03 {\n"
                "    permissions { default deny }\n"
                "    container a id 0f3e2d1c4b5a69788796a5b4\n"
                "    test \"wrong on purpose\" { request a.http from 192.0.2.1 expect 200 }\n"
                "  }\n}\n");
  CommandResult r = hoodyc({"test", policy});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expected 200, got 403"), std::string::npos) << r.out;
}

TEST_F(HoodycTest, NewIdsAreDistinctLowercaseHex) {
  CommandResult r = hoodyc({"new-id", "-n", "50"});
  ASSERT_EQ(r.exit_code, 0);
  std::set<std::string> ids;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(std::regex_match(line, std::regex("[0-9a-f]{24}"))) << line;
    ids.insert(line);
  }
  EXPECT_EQ(ids.size(), 50u);
}

TEST_F(HoodycTest, HashTokenPrintsSha256Digest) {
  CommandResult r = shell("printf 'abc\\n' | " + kHoodyc + " hash-token");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "sha256:\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\n");
  CommandResult generated = hoodyc({"hash-token", "--generate"});
  ASSERT_EQ(generated.exit_code, 0);
  EXPECT_NE(generated.out.find("token: "), std::string::npos);
  EXPECT_NE(generated.out.find("digest: sha256:\""), std::string::npos);
}

// Runs `explain --json` over production.hoody with one engine.
CommandResult explainWith(const std::string& engine, std::vector<std::string> args) {
  args.insert(args.begin(), {"explain", kProduction, "--json", "--engine", engine});
  return hoodyc(args);
}

TEST_F(HoodycTest, ExplainEnginesAgree) {
  std::string api_http = hostOf("public-api", "http");
  std::string api_terminal = hostOf("public-api", "terminal");
  std::string worker_http = hostOf("billing-worker", "http");
  std::string worker_terminal = hostOf("billing-worker", "terminal");
  std::string db_http = hostOf("billing-db", "http");
  std::string unknown_host = "000000000000000000000001-84d73d5ea5d6987b2d568dc5-http-1.node-us."
                             "containers.example.net";
  std::string iss = readFileText(kSecrets + "operators.issuer");
  std::string aud = readFileText(kSecrets + "operators.audience");
  std::string claims = "hoody_realm=\"acme\"";
  std::string jwt = mintJwt({"--iss", iss, "--aud", aud, "--claim", claims});
  std::string expired = mintJwt({"--iss", iss, "--aud", aud, "--claim", claims, "--ttl", "-600"});
  std::string token = readFileText(kSecrets + "monitoring.token");
  while (!token.empty() && token.back() == '\n') token.pop_back();

  struct Case {
    std::string name;
    std::vector<std::string> args;
    int status;
  };
  std::vector<Case> cases = {
      {"allow", {"--host", api_http, "--client", "198.51.100.7"}, 200},
      {"401", {"--host", api_terminal, "--client", "198.51.100.7"}, 401},
      {"403", {"--host", worker_terminal, "--client", "198.51.100.7"}, 403},
      {"404", {"--host", unknown_host, "--client", "198.51.100.7"}, 404},
      {"503", {"--host", db_http, "--client", "203.0.113.9"}, 503},
      {"421", {"--host", worker_terminal, "--client", "203.0.113.9", "--sni", api_terminal}, 421},
      {"400 path", {"--host", worker_terminal, "--client", "203.0.113.9", "--path", "/..%2fadmin"},
       400},
      {"mapped client", {"--host", worker_terminal, "--client", "::ffff:203.0.113.9"}, 200},
      {"ipv6 client", {"--host", worker_terminal, "--client", "2001:db8::7"}, 403},
      {"real jwt", {"--host", api_terminal, "--client", "198.51.100.7", "--jwt", jwt}, 200},
      {"expired jwt", {"--host", api_terminal, "--client", "198.51.100.7", "--jwt", expired}, 401},
      {"bearer GET", {"--host", worker_http, "--client", "192.0.2.1", "--bearer", token}, 200},
      {"bearer POST",
       {"--host", worker_http, "--client", "192.0.2.1", "--bearer", token, "--method", "POST"},
       403},
      {"wrong bearer", {"--host", worker_http, "--client", "192.0.2.1", "--bearer", "x"}, 401},
  };

  for (const Case& c : cases) {
    CommandResult interp = explainWith("interp", c.args);
    CommandResult jit = explainWith("jit", c.args);
    EXPECT_NE(interp.exit_code, 2) << c.name << ": " << interp.err;
    EXPECT_EQ(interp.exit_code, jit.exit_code) << c.name << ": " << jit.err;
    json interp_json = json::parse(interp.out, nullptr, false);
    json jit_json = json::parse(jit.out, nullptr, false);
    ASSERT_FALSE(jit_json.is_discarded()) << c.name << ": " << jit.out << jit.err;
    EXPECT_EQ(interp_json["status"], c.status) << c.name << ": " << interp.out;
    EXPECT_EQ(interp_json, jit_json)
        << c.name << "\ninterp: " << interp.out << "\njit: " << jit.out;
  }
}

TEST_F(HoodycTest, ExplainDefaultEngineIsInterpreter) {
  std::vector<std::string> args = {"--host", hostOf("public-api", "terminal"), "--client",
                                   "198.51.100.7"};
  CommandResult interp = explainWith("interp", args);
  args.insert(args.begin(), {"explain", kProduction, "--json"});
  CommandResult plain = hoodyc(args);
  EXPECT_EQ(plain.exit_code, 1) << plain.err;
  EXPECT_EQ(plain.out, interp.out);
}

TEST_F(HoodycTest, ExplainRejectsUnknownEngine) {
  CommandResult r = explainWith("wasm", {"--host", hostOf("public-api", "http"), "--client",
                                         "198.51.100.7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--engine"), std::string::npos) << r.err;
}

std::string hexOf(const auth::Digest& digest) {
  static const char* kHex = "0123456789abcdef";
  std::string text;
  for (uint8_t byte : digest) {
    text.push_back(kHex[byte >> 4]);
    text.push_back(kHex[byte & 15]);
  }
  return text;
}

TEST_F(HoodycTest, CompileWritesDecisionBitcode) {
  std::string inventory = dir_ + "/inventory.json";
  writeFileText(inventory, R"({"node": "node-us", "domain": "example.net", "containers": {
      "c48fa81cdd0862e168925a3f": {"upstream": "127.0.0.1", "services": {"http": 18080}},
      "067d7a63849ebd315e560330": {"upstream": "127.0.0.1", "services": {"http": 18081}},
      "9cdb35488a4fa7c01b8cece0": {"upstream": "127.0.0.1", "services": {"http": 18082}}}})");
  std::string bundle = dir_ + "/bundle";
  CommandResult r = hoodyc({"compile", kProduction, "--inventory", inventory, "-o", bundle});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::string bitcode = readFileText(bundle + "/decision.bc");
  ASSERT_GE(bitcode.size(), 4u);
  EXPECT_EQ(bitcode.substr(0, 4), std::string("BC\xc0\xde", 4));
  json manifest = json::parse(readFileText(bundle + "/manifest.json"), nullptr, false);
  ASSERT_FALSE(manifest.is_discarded());
  const json& entry = manifest["artifacts"]["decision.bc"];
  ASSERT_TRUE(entry.is_object()) << manifest.dump(2);
  EXPECT_EQ(entry["sha256"], hexOf(auth::sha256(bitcode)));
  EXPECT_EQ(entry["size"], bitcode.size());
  EXPECT_EQ(entry["decision_abi_version"], std::to_string(jit::kDecisionAbiVersion));
  // The bitcode targets the host that compiled it, which --version names.
  ASSERT_TRUE(entry["target_triple"].is_string()) << entry.dump();
  std::string triple = entry["target_triple"];
  EXPECT_FALSE(triple.empty());
  CommandResult version = hoodyc({"--version"});
  EXPECT_NE(version.out.find("host " + triple + ")"), std::string::npos)
      << version.out << " vs " << triple;
}

}  // namespace
}  // namespace hoody::e2e
