// Copyright 2026 The coral Authors.
//
// echo_loadgen --port=P [--connections=C] [--seconds=D]: coral's own load generator for an echo
// server on 127.0.0.1:P. Keeps C connections ping-ponging 64-byte messages for D seconds (after
// a 1 s warm-up) and prints round trips per second and p50/p99/p999 latency.

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "coral/runtime.h"
#include "examples/echo_load.h"

ABSL_FLAG(int, port, 0, "echo server port on 127.0.0.1");
ABSL_FLAG(int, connections, 1000, "concurrent connections");
ABSL_FLAG(int, seconds, 5, "measured seconds");
ABSL_FLAG(int, workers, 1, "worker threads of the load generator");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int port = absl::GetFlag(FLAGS_port);
  if (port <= 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s --port=P [--connections=C] [--seconds=D]\n", argv[0]);
    return 2;
  }
  if (absl::Status limit =
          coral::examples::RaiseOpenFileLimit(absl::GetFlag(FLAGS_connections) + 64);
      !limit.ok()) {
    std::fprintf(stderr, "echo_loadgen: %s\n", limit.ToString().c_str());
    return 2;
  }
  coral::Runtime runtime({.num_workers = absl::GetFlag(FLAGS_workers)});
  coral::examples::EchoLoadOptions options;
  options.connections = absl::GetFlag(FLAGS_connections);
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  absl::StatusOr<coral::examples::EchoLoadReport> report =
      runtime.BlockOn(coral::examples::RunEchoLoad(coral::SocketAddress::Loopback(port), options));
  if (!report.ok()) {
    std::fprintf(stderr, "echo_loadgen: %s\n", report.status().ToString().c_str());
    return 3;
  }
  std::printf(
      "%d connections, %d s: %.0f round trips/s; latency p50 %.0f us, p99 %.0f us, "
      "p999 %.0f us\n",
      options.connections, absl::GetFlag(FLAGS_seconds), report->round_trips_per_second,
      absl::ToDoubleMicroseconds(report->p50), absl::ToDoubleMicroseconds(report->p99),
      absl::ToDoubleMicroseconds(report->p999));
  return 0;
}
