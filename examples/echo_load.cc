// Copyright 2026 The coral Authors.

#include "examples/echo_load.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/semaphore.h"
#include "coral/tcp.h"

namespace coral::examples {
namespace {

// What the connections share: the connection budget and, once every connection has made its
// first round trip, the measured window (Unix nanoseconds; "never" until then).
struct LoadState {
  explicit LoadState(int connect_concurrency) : connecting(connect_concurrency) {}

  Semaphore connecting;  // A permit per connection being set up.
  std::atomic<int> established{0};
  std::atomic<int64_t> measure_from_ns{INT64_MAX};
  std::atomic<int64_t> stop_at_ns{INT64_MAX};
};

struct ConnectionResult {
  int64_t round_trips = 0;
  std::vector<int64_t> latencies_ns;  // Of the measured round trips.
};

// The message of round trip `sequence` on connection `index`: both numbers, then filler.
void FillMessage(std::string& message, int index, int64_t sequence) {
  std::fill(message.begin(), message.end(), static_cast<char>('a' + sequence % 26));
  std::memcpy(message.data(), &index, sizeof(index));
  std::memcpy(message.data() + sizeof(index), &sequence, sizeof(sequence));
}

Task<absl::StatusOr<ConnectionResult>> DriveConnection(SocketAddress server, int index,
                                                       EchoLoadOptions options,
                                                       std::shared_ptr<LoadState> state) {
  absl::StatusOr<Semaphore::Permit> permit = co_await state->connecting.Acquire();
  if (!permit.ok()) co_return permit.status();
  absl::StatusOr<TcpStream> stream = co_await TcpStream::Connect(server, absl::Seconds(30));
  permit->Release();
  if (!stream.ok()) co_return stream.status();
  (void)stream->SetNoDelay(true);
  ConnectionResult result;
  std::string message(options.message_size, '\0');
  std::string echo(options.message_size, '\0');
  for (int64_t sequence = 0;; ++sequence) {
    const int64_t sent = absl::GetCurrentTimeNanos();
    if (sent >= state->stop_at_ns.load()) break;
    FillMessage(message, index, sequence);
    absl::Status status = co_await stream->WriteAll(message);
    if (status.ok()) status = co_await stream->ReadExact(absl::MakeSpan(echo));
    if (!status.ok()) co_return status;
    if (echo != message) {
      co_return absl::DataLossError(absl::StrCat("connection ", index, ": wrong echo"));
    }
    const int64_t received = absl::GetCurrentTimeNanos();
    // A connection is up once the server has echoed on it (the kernel completes a connect before
    // the server accepts it). When the last one is up: warm up, then measure.
    if (sequence == 0 && state->established.fetch_add(1) + 1 == options.connections) {
      const absl::Time measure_from = absl::Now() + options.warmup;
      state->stop_at_ns.store(absl::ToUnixNanos(measure_from + options.duration));
      state->measure_from_ns.store(absl::ToUnixNanos(measure_from));
    }
    if (sent >= state->measure_from_ns.load() && received <= state->stop_at_ns.load()) {
      ++result.round_trips;
      result.latencies_ns.push_back(received - sent);
    }
  }
  co_return result;
}

absl::Duration Percentile(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return absl::ZeroDuration();
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(fraction * sorted.size()));
  return absl::Nanoseconds(sorted[index]);
}

}  // namespace

Task<absl::StatusOr<EchoLoadReport>> RunEchoLoad(SocketAddress server, EchoLoadOptions options) {
  auto state = std::make_shared<LoadState>(options.connect_concurrency);
  std::vector<JoinHandle<absl::StatusOr<ConnectionResult>>> connections;
  for (int i = 0; i < options.connections; ++i) {
    connections.push_back(Spawn(DriveConnection, server, i, options, state));
  }
  EchoLoadReport report;
  std::vector<int64_t> latencies;
  for (auto& connection : connections) {
    absl::StatusOr<ConnectionResult> result = co_await std::move(connection);
    if (!result.ok()) co_return result.status();
    report.round_trips += result->round_trips;
    latencies.insert(latencies.end(), result->latencies_ns.begin(), result->latencies_ns.end());
  }
  std::sort(latencies.begin(), latencies.end());
  report.round_trips_per_second =
      static_cast<double>(report.round_trips) / absl::ToDoubleSeconds(options.duration);
  report.p50 = Percentile(latencies, 0.50);
  report.p99 = Percentile(latencies, 0.99);
  report.p999 = Percentile(latencies, 0.999);
  co_return report;
}

absl::Status RaiseOpenFileLimit(int64_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::InternalError("getrlimit failed");
  if (limit.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(limit.rlim_cur) >= needed) {
    return absl::OkStatus();
  }
  if (limit.rlim_max != RLIM_INFINITY && static_cast<int64_t>(limit.rlim_max) < needed) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this needs ", needed, " open files per process, but the hard limit (RLIMIT_NOFILE) is ",
        limit.rlim_max, ": raise it (as root: ulimit -Hn ", needed,
        ", or LimitNOFILE= / nofile in limits.conf) or use fewer connections"));
  }
  limit.rlim_cur = static_cast<rlim_t>(needed);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::InternalError("setrlimit failed");
  return absl::OkStatus();
}

}  // namespace coral::examples
