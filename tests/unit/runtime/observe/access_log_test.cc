// SPDX-License-Identifier: Apache-2.0
// Tests of access log formatting and writing.
#include "runtime/observe/access_log.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hoody::observe {
namespace {

TEST(AccessLogTest, FormatsTimestampAsRfc3339Utc) {
  EXPECT_EQ(formatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatTimestamp(1796402640123), "2026-12-04T16:44:00.123Z");
}

TEST(AccessLogTest, FormatsOneJsonLine) {
  AccessRecord r;
  r.start_unix_ms = 1796402640123;
  r.conn_id = 7;
  r.stream_id = 3;
  r.protocol = "h2";
  r.realm = "acme";
  r.container = "public-api";
  r.service = "http";
  r.client = "192.0.2.10";
  r.method = "GET";
  r.path = "/a";
  r.decision = "allow";
  r.group = "default";
  r.status = 200;
  r.bytes_in = 1;
  r.bytes_out = 2;
  r.duration_ms = 1.23456;
  r.upstream_ms = 0.5;
  std::string line = formatAccessRecord(r);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-12-04T16:44:00.123Z");
  EXPECT_EQ(j["conn"], 7);
  EXPECT_EQ(j["stream"], 3);
  EXPECT_EQ(j["protocol"], "h2");
  EXPECT_EQ(j["realm"], "acme");
  EXPECT_EQ(j["container"], "public-api");
  EXPECT_EQ(j["client"], "192.0.2.10");
  EXPECT_EQ(j["path"], "/a");
  EXPECT_EQ(j["status"], 200);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 1.235);
  EXPECT_DOUBLE_EQ(j["upstream_ms"].get<double>(), 0.5);
  EXPECT_FALSE(j.contains("error"));
}

TEST(AccessLogTest, WritesNullForEmptyFields) {
  AccessRecord r;
  r.decision = "error";
  r.error = "invalid-path";
  r.path = "/\xff";
  nlohmann::json j = nlohmann::json::parse(formatAccessRecord(r));
  EXPECT_TRUE(j["realm"].is_null());
  EXPECT_TRUE(j["group"].is_null());
  EXPECT_TRUE(j["upstream_ms"].is_null());
  EXPECT_EQ(j["error"], "invalid-path");
  EXPECT_TRUE(j["path"].is_string());
}

TEST(AccessLogTest, ConcurrentWritersNeverInterleave) {
  char pattern[] = "/tmp/hoody-log-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string path = std::string(pattern) + "/access.log";
  Result<std::shared_ptr<AccessLog>> log = AccessLog::open(path);
  ASSERT_TRUE(log.has_value()) << log.error().message;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      AccessRecord r;
      r.path = "/" + std::string(2000, static_cast<char>('a' + t));
      r.decision = "allow";
      for (int i = 0; i < 200; ++i) (*log)->write(r);
    });
  }
  for (auto& th : threads) th.join();
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "line " << lines;
    ++lines;
  }
  EXPECT_EQ(lines, 800);
  EXPECT_EQ((*log)->failedWrites(), 0u);
  std::string cmd = std::string("rm -rf '") + pattern + "'";
  ASSERT_EQ(system(cmd.c_str()), 0);
}

TEST(AccessLogTest, OpenFailsWithClearError) {
  Result<std::shared_ptr<AccessLog>> log = AccessLog::open("/nonexistent-dir/x/access.log");
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code, "io-error");
  EXPECT_NE(log.error().message.find("/nonexistent-dir/x/access.log"), std::string::npos);
}

}  // namespace
}  // namespace hoody::observe
