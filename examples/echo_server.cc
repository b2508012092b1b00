// Copyright 2026 The coral Authors.
//
// echo_server [--pooled] PORT: the echo server of ../shared/peers/WORKLOADS.md on coral. Listens on
// 127.0.0.1:PORT (SO_REUSEADDR) on a 2-worker runtime; every connection gets TCP_NODELAY and one
// task that reads up to 4096 bytes and writes them back, until end of stream or an error.
//
// --pooled: the C100k pattern. A connection task holds no buffer while it waits: it waits for
// readability, reads into its worker's buffer, and writes back at once; only bytes the socket
// cannot take right away are copied into a buffer of the connection's own. An idle connection
// then costs its task frame and its registration, well under 1 KiB.

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "coral/coral.h"
#include "coral/tcp.h"

ABSL_FLAG(bool, pooled, false, "wait for readability without holding a per-connection buffer");
ABSL_FLAG(int, workers, 2, "worker threads");

namespace {

constexpr size_t kBufferSize = 4096;

coral::Task<void> ServeBuffered(coral::TcpStream stream) {
  std::array<char, kBufferSize> buffer;
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buffer));
    if (!n.ok() || *n == 0) co_return;
    if (!(co_await stream.WriteAll(absl::string_view(buffer.data(), *n))).ok()) co_return;
  }
}

// The worker-local buffer of the pooled mode. Used only between a read and the write that
// follows it with no suspension in between, so a task that migrates never sees another's bytes.
thread_local std::array<char, kBufferSize> worker_buffer;

coral::Task<void> ServePooled(coral::TcpStream stream) {
  for (;;) {
    if (!(co_await stream.WaitReadable()).ok()) co_return;
    absl::StatusOr<size_t> n = stream.TryRead(absl::MakeSpan(worker_buffer));
    if (absl::IsUnavailable(n.status())) continue;  // Spurious readiness: wait again.
    if (!n.ok() || *n == 0) co_return;
    absl::StatusOr<size_t> written = stream.TryWrite(absl::string_view(worker_buffer.data(), *n));
    if (!written.ok()) co_return;
    if (*written < *n) {
      // The socket is full: keep the rest in a buffer of our own across the wait.
      const std::string rest(worker_buffer.data() + *written, *n - *written);
      if (!(co_await stream.WriteAll(rest)).ok()) co_return;
    }
  }
}

coral::Task<void> AcceptLoop(coral::TcpListener listener, bool pooled) {
  for (;;) {
    absl::StatusOr<coral::TcpStream> stream = co_await listener.Accept();
    if (!stream.ok()) {
      std::fprintf(stderr, "echo_server: accept: %s\n", stream.status().ToString().c_str());
      continue;
    }
    (void)stream->SetNoDelay(true);
    if (pooled) {
      coral::Spawn(ServePooled, *std::move(stream)).Detach();
    } else {
      coral::Spawn(ServeBuffered, *std::move(stream)).Detach();
    }
  }
}

}  // namespace

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
  runtime.BlockOn(AcceptLoop(*std::move(listener), absl::GetFlag(FLAGS_pooled)));
  return 0;
}
