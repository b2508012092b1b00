// Copyright 2026 The coral Authors.
//
// echo_server [--pooled] PORT: the echo server of ../shared/peers/WORKLOADS.md on coral. Listens on
// 127.0.0.1:PORT (SO_REUSEADDR) on a 2-worker runtime; every connection gets TCP_NODELAY and one
// task (examples/echo_service.h). --pooled serves without a per-connection buffer (C100k).

#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "coral/runtime.h"
#include "coral/tcp.h"
#include "examples/echo_service.h"

ABSL_FLAG(bool, pooled, false, "wait for readability without holding a per-connection buffer");
ABSL_FLAG(int, workers, 2, "worker threads");

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  uint32_t port;
  if (args.size() != 2 || !absl::SimpleAtoi(args[1], &port) || port > 65535) {
    std::fprintf(stderr, "usage: %s [--pooled] PORT\n", argv[0]);
    return 2;
  }
  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(static_cast<uint16_t>(port)));
  if (!listener.ok()) {
    std::fprintf(stderr, "echo_server: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  coral::Runtime runtime({.num_workers = absl::GetFlag(FLAGS_workers)});
  runtime.BlockOn(coral::examples::RunEchoServer(
      *std::move(listener), absl::GetFlag(FLAGS_pooled) ? coral::examples::EchoMode::kPooled
                                                        : coral::examples::EchoMode::kBuffered));
  return 0;
}
