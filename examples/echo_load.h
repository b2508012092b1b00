// Copyright 2026 The coral Authors.
//
// A closed-loop echo load generator written on coral: C connections each keep one message of
// `message_size` bytes in flight (send, read the whole echo, check it, send the next) for a
// measured period after a warm-up, and the round trips per second and latency percentiles are
// reported. The warm-up starts once the server has echoed on every connection (a connect completes
// in the kernel before the server accepts it).

#ifndef CORAL_EXAMPLES_ECHO_LOAD_H_
#define CORAL_EXAMPLES_ECHO_LOAD_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coral/socket_address.h"
#include "coral/task.h"

namespace coral::examples {

struct EchoLoadOptions {
  int connections = 1000;
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(5);
  int message_size = 64;
  // At most this many connections are being set up at once.
  int connect_concurrency = 256;
};

struct EchoLoadReport {
  int64_t round_trips = 0;  // In the measured period.
  double round_trips_per_second = 0;
  absl::Duration p50, p99, p999;
};

// Runs the load against `server`; fails if any connection fails or any echoed byte is wrong.
Task<absl::StatusOr<EchoLoadReport>> RunEchoLoad(SocketAddress server, EchoLoadOptions options);

// Makes sure this process may open `needed` files: raises the soft RLIMIT_NOFILE to `needed` if it
// is lower (a load of 10,000 connections needs more than the usual 1,024). Fails, saying which
// limit to raise, if the hard limit is lower than `needed`.
absl::Status RaiseOpenFileLimit(int64_t needed);

}  // namespace coral::examples

#endif  // CORAL_EXAMPLES_ECHO_LOAD_H_
