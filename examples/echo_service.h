// Copyright 2026 The coral Authors.
//
// The echo service of the examples: one task per connection that reads up to 4096 bytes and
// writes them back until end of stream or an error (the contract of
// ../shared/peers/WORKLOADS.md), in two variants.

#ifndef CORAL_EXAMPLES_ECHO_SERVICE_H_
#define CORAL_EXAMPLES_ECHO_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "coral/task.h"
#include "coral/tcp.h"

namespace coral::examples {

enum class EchoMode {
  // Each connection owns a 4096-byte buffer for its whole life.
  kBuffered,
  // The C100k pattern: a connection waits for readability holding no buffer, reads into its
  // worker's buffer, and writes back at once; only bytes the socket cannot take right away are
  // copied into a buffer of its own. An idle connection costs its task and its registration.
  kPooled,
};

// What a server has served so far; readable from any thread.
struct EchoServerStats {
  std::atomic<int64_t> accepted{0};
  std::atomic<int> open{0};  // Connections being served now.
  std::atomic<int> peak{0};  // The most open at once.
};

// Accepts connections forever, serving each in its own task. `stats`, if given, must outlive the
// server's tasks.
Task<void> RunEchoServer(TcpListener listener, EchoMode mode, EchoServerStats* stats = nullptr);

}  // namespace coral::examples

#endif  // CORAL_EXAMPLES_ECHO_SERVICE_H_
