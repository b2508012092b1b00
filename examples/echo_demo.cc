// Copyright 2026 The coral Authors.
//
// echo_demo: the README's main job, and C10k on one machine. Starts coral's echo server on a
// 2-worker runtime and drives it with concurrent connections from coral's own load generator,
// which runs in a child process (this program run again in its load role), so that server and
// clients each have a process's worth of file descriptors: 10,000 connections need 10,000 on each
// side. Prints throughput, latency and how many connections the server held at once.
//
//   bazel/bazelw run //examples:echo_demo                                      # 1,000 connections
//   bazel/bazelw run //examples:echo_demo -- --connections=10000 --seconds=5 [--pooled]
//
// Each process raises its soft RLIMIT_NOFILE to what its share needs (connections + 64) and
// refuses to start, naming the limit, if the hard limit is lower.

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "coral/runtime.h"
#include "coral/tcp.h"
#include "examples/echo_load.h"
#include "examples/echo_service.h"
#include "examples/subprocess.h"

ABSL_FLAG(int, connections, 1000, "concurrent client connections");
ABSL_FLAG(int, seconds, 5, "measured seconds (after 1 s of warm-up)");
ABSL_FLAG(bool, pooled, false, "serve without per-connection buffers (the C100k pattern)");
ABSL_FLAG(int, load_port, 0,
          "internal: run as the load generator against 127.0.0.1:PORT (the child process)");

namespace {

// Descriptors a process needs beyond one per connection (listener, epoll, eventfds, stdio).
constexpr int kSpareDescriptors = 64;

// The child: the load generator, on a 1-worker runtime. Prints the load's report.
int RunLoad(int port) {
  coral::Runtime clients({.num_workers = 1});
  coral::examples::EchoLoadOptions options;
  options.connections = absl::GetFlag(FLAGS_connections);
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  absl::StatusOr<coral::examples::EchoLoadReport> report =
      clients.BlockOn(coral::examples::RunEchoLoad(coral::SocketAddress::Loopback(port), options));
  if (!report.ok()) {
    std::fprintf(stderr, "echo_demo: load failed: %s\n", report.status().ToString().c_str());
    return 3;
  }
  std::printf("%lld round trips of 64 bytes: %.0f round trips/s\n",
              static_cast<long long>(report->round_trips), report->round_trips_per_second);
  std::printf("latency: p50 %.0f us, p99 %.0f us, p999 %.0f us\n",
              absl::ToDoubleMicroseconds(report->p50), absl::ToDoubleMicroseconds(report->p99),
              absl::ToDoubleMicroseconds(report->p999));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int connections = absl::GetFlag(FLAGS_connections);
  if (absl::Status limit = coral::examples::RaiseOpenFileLimit(connections + kSpareDescriptors);
      !limit.ok()) {
    std::fprintf(stderr, "echo_demo%s: %d connections: %s\n",
                 absl::GetFlag(FLAGS_load_port) != 0 ? " (load generator)" : "", connections,
                 std::string(limit.message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_load_port) != 0) return RunLoad(absl::GetFlag(FLAGS_load_port));

  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(0));
  if (!listener.ok()) {
    std::fprintf(stderr, "echo_demo: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  const coral::SocketAddress address = *listener->LocalAddress();
  const bool pooled = absl::GetFlag(FLAGS_pooled);

  coral::examples::EchoServerStats stats;  // Outlives the server's tasks.
  coral::Runtime server({.num_workers = 2});
  server
      .Spawn(coral::examples::RunEchoServer, *std::move(listener),
             pooled ? coral::examples::EchoMode::kPooled : coral::examples::EchoMode::kBuffered,
             &stats)
      .Detach();
  std::printf("coral echo server (%s) on %s, 2 workers; %d client connections for %d s...\n",
              pooled ? "pooled buffers" : "a buffer per connection", address.ToString().c_str(),
              connections, absl::GetFlag(FLAGS_seconds));
  std::fflush(stdout);

  // The load generator: this program again, in its load role, printing to our stdout.
  absl::StatusOr<coral::examples::Subprocess> load = coral::examples::Subprocess::Start(
      coral::examples::Subprocess::SelfPath(),
      {absl::StrCat("--load_port=", address.port()), absl::StrCat("--connections=", connections),
       absl::StrCat("--seconds=", absl::GetFlag(FLAGS_seconds))},
      {.capture_stdout = false});
  if (!load.ok()) {
    std::fprintf(stderr, "echo_demo: starting the load generator: %s\n",
                 load.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<coral::examples::Subprocess::Exit> exit = load->Wait();
  if (!exit.ok() || !exit->exited_ok()) {
    std::fprintf(stderr, "echo_demo: the load generator failed (%s)\n",
                 exit.ok() ? exit->Describe().c_str() : exit.status().ToString().c_str());
    return 3;
  }
  std::printf("server: %d connections open at once at the peak, %lld accepted\n", stats.peak.load(),
              static_cast<long long>(stats.accepted.load()));
  return 0;
}
