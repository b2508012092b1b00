// Copyright 2026 The coral Authors.
//
// echo_demo: the README's main job. Starts coral's echo server on a 2-worker runtime, drives it
// with 1,000 concurrent connections from coral's own load generator (a separate 1-worker runtime
// in the same process), and prints throughput and latency.
//
//   bazel/bazelw run //examples:echo_demo -- --connections=1000 --seconds=5 [--pooled]

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "coral/runtime.h"
#include "coral/tcp.h"
#include "examples/echo_load.h"
#include "examples/echo_service.h"

ABSL_FLAG(int, connections, 1000, "concurrent client connections");
ABSL_FLAG(int, seconds, 5, "measured seconds (after 1 s of warm-up)");
ABSL_FLAG(bool, pooled, false, "serve without per-connection buffers (the C100k pattern)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t fd_limit = coral::examples::RaiseOpenFileLimit();
  const int connections = absl::GetFlag(FLAGS_connections);
  if (2 * connections + 64 > fd_limit) {
    std::fprintf(stderr, "echo_demo: %d connections need %d descriptors; the limit is %lld\n",
                 connections, 2 * connections + 64, static_cast<long long>(fd_limit));
    return 2;
  }
  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(0));
  if (!listener.ok()) {
    std::fprintf(stderr, "echo_demo: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  const coral::SocketAddress address = *listener->LocalAddress();
  const bool pooled = absl::GetFlag(FLAGS_pooled);

  coral::Runtime server({.num_workers = 2});
  server
      .Spawn(coral::examples::RunEchoServer, *std::move(listener),
             pooled ? coral::examples::EchoMode::kPooled : coral::examples::EchoMode::kBuffered)
      .Detach();
  std::printf("coral echo server (%s) on %s, 2 workers; %d client connections for %d s...\n",
              pooled ? "pooled buffers" : "a buffer per connection", address.ToString().c_str(),
              connections, absl::GetFlag(FLAGS_seconds));
  std::fflush(stdout);

  coral::Runtime clients({.num_workers = 1});
  coral::examples::EchoLoadOptions options;
  options.connections = connections;
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  absl::StatusOr<coral::examples::EchoLoadReport> report =
      clients.BlockOn(coral::examples::RunEchoLoad(address, options));
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
