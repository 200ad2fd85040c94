// SPDX-License-Identifier: Apache-2.0
// hoody-proxy: the HTTPS proxy that enforces a compiled policy bundle.
//
// Signals: SIGHUP reloads the bundle (a bundle that fails to load leaves the
// current one serving); SIGTERM and SIGINT stop accepting, let requests in
// flight finish and exit 0.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "runtime/proxy/server.h"

namespace {

using hoody::proxy::ProxyConfig;
using hoody::proxy::Server;

// Writes the bound addresses, one per line, through a temporary file so a
// reader never sees a partial list.
bool writePortFile(const std::string& path, const std::vector<hoody::net::Endpoint>& endpoints) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    for (const hoody::net::Endpoint& e : endpoints) out << e.str() << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int runServer(ProxyConfig config, const std::string& port_file) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // Blocked before any thread starts, so only sigwait below receives them.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  hoody::Result<std::unique_ptr<Server>> server = Server::create(std::move(config));
  if (!server) {
    spdlog::error("{}", server.error().message);
    return 1;
  }
  std::printf("hoody-proxy: CA certificate: %s (trust this to reach containers)\n",
              (*server)->caCertificatePath().c_str());
  for (const hoody::net::Endpoint& e : (*server)->boundEndpoints()) {
    std::printf("hoody-proxy: listening on %s\n", e.str().c_str());
  }
  std::fflush(stdout);
  (*server)->start();
  if (!port_file.empty() && !writePortFile(port_file, (*server)->boundEndpoints())) {
    spdlog::error("cannot write the port file `{}`: {}", port_file, strerror(errno));
    (*server)->stop();
    return 1;
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading the bundle");
      hoody::Result<void> r = (*server)->reload();
      if (!r) spdlog::error("reload failed, the current policy keeps serving: {}", r.error().message);
      continue;
    }
    spdlog::info("{}: stopping; requests in flight may finish", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    (*server)->stop();
    spdlog::info("stopped");
    return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hoody-proxy: HTTPS proxy that enforces a compiled hoody policy bundle"};
  ProxyConfig config;
  std::vector<std::string> listen;
  std::string port_file;
  std::string log_level = "info";
  config.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  app.add_option("--bundle", config.bundle_dir, "bundle directory written by `hoodyc compile`")
      ->required();
  app.add_option("--listen", listen,
                 "address to listen on, repeatable: 127.0.0.1:8443, [::1]:8443, or [::]:8443 "
                 "for both IPv4 and IPv6; port 0 picks a free port")
      ->required();
  app.add_option("--state-dir", config.state_dir,
                 "directory for the local CA and the server certificate (created if missing)")
      ->required();
  app.add_option("--workers", config.workers, "worker threads (default: number of cores)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--access-log", config.access_log, "access log file, or - for standard output")
      ->capture_default_str();
  app.add_option("--log-level", log_level,
                 "trace, debug, info, warn, error or off; trace also logs why each request "
                 "was allowed or denied")
      ->capture_default_str();
  app.add_flag("--interp", config.use_interpreter,
               "decide with the reference interpreter instead of the JIT-compiled decision "
               "functions (for debugging; slower, ignores the bundle's decision.bc)");
  app.add_option("--port-file", port_file,
                 "write the bound addresses (one per line, with real ports) to this file once "
                 "listening");
  app.add_option("--idle-timeout", config.idle_timeout_s,
                 "seconds an idle client connection stays open")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--request-head-timeout", config.request_head_timeout_s,
                 "seconds a client has to send a whole request head (then 408 on HTTP/1.1, "
                 "GOAWAY on HTTP/2)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--request-body-timeout", config.request_body_timeout_s,
                 "seconds a forwarded request body may make no progress (then 408)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--upstream-connect-timeout", config.upstream_connect_timeout_s,
                 "seconds to wait for an upstream connect (then 504)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--upstream-timeout", config.upstream_response_timeout_s,
                 "seconds an upstream may make no progress on a request (then 504)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--password-threads", config.password_threads,
                 "threads that decide requests with Basic credentials, so password hashes "
                 "do not stall the workers")
      ->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--password-queue", config.password_queue,
                 "requests with Basic credentials that may wait for those threads; more get "
                 "503 with Retry-After")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--max-connections", config.max_connections_per_worker,
                 "client connections per worker; more are closed at accept")
      ->capture_default_str();
  app.add_option("--shutdown-grace", config.shutdown_grace_s,
                 "seconds requests in flight get to finish after SIGTERM")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  // Usage errors exit 2, as in hoodyc; CLI11's own codes (105, 106, ...) vary
  // by error kind and mean nothing to a service manager.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto logger = spdlog::stderr_color_mt("hoody-proxy");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::level::level_enum level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    std::fprintf(stderr, "hoody-proxy: invalid --log-level `%s`; use trace, debug, info, warn, "
                         "error or off\n", log_level.c_str());
    return 2;
  }
  spdlog::set_level(level);

  for (const std::string& text : listen) {
    hoody::Result<hoody::net::Endpoint> endpoint = hoody::net::parseEndpoint(text);
    if (!endpoint) {
      std::fprintf(stderr, "hoody-proxy: %s\n", endpoint.error().message.c_str());
      return 2;
    }
    config.listen.push_back(*endpoint);
  }
  return runServer(std::move(config), port_file);
}
