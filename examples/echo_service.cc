// Copyright 2026 The coral Authors.

#include "examples/echo_service.h"

#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include "coral/runtime.h"

namespace coral::examples {
namespace {

constexpr size_t kBufferSize = 4096;

// Counts a connection as open for the life of its task.
class OpenConnection {
 public:
  explicit OpenConnection(EchoServerStats* stats) : stats_(stats) {
    if (stats_ == nullptr) return;
    stats_->accepted.fetch_add(1);
    const int open = stats_->open.fetch_add(1) + 1;
    int peak = stats_->peak.load();
    while (open > peak && !stats_->peak.compare_exchange_weak(peak, open)) {
    }
  }
  OpenConnection(OpenConnection&& other) noexcept : stats_(std::exchange(other.stats_, nullptr)) {}
  OpenConnection& operator=(OpenConnection&&) = delete;
  ~OpenConnection() {
    if (stats_ != nullptr) stats_->open.fetch_sub(1);
  }

 private:
  EchoServerStats* stats_;
};

Task<void> ServeBuffered(TcpStream stream, OpenConnection /*counted while this runs*/) {
  std::array<char, kBufferSize> buffer;
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buffer));
    if (!n.ok() || *n == 0) co_return;
    if (!(co_await stream.WriteAll(absl::string_view(buffer.data(), *n))).ok()) co_return;
  }
}

// The worker-local buffer of the pooled mode. Used only between a read and the write that
// follows it with no suspension in between, so a task that migrates never sees another's bytes.
// Reached through a function the compiler may not inline: a coroutine that resumes on another
// thread must not reuse a thread-local address computed before it suspended.
[[gnu::noinline]] std::array<char, kBufferSize>& WorkerBuffer() {
  thread_local std::array<char, kBufferSize> buffer;
  return buffer;
}

Task<void> ServePooled(TcpStream stream, OpenConnection /*counted while this runs*/) {
  for (;;) {
    if (!(co_await stream.WaitReadable()).ok()) co_return;
    std::array<char, kBufferSize>& buffer = WorkerBuffer();
    absl::StatusOr<size_t> n = stream.TryRead(absl::MakeSpan(buffer));
    if (absl::IsUnavailable(n.status())) continue;  // Spurious readiness: wait again.
    if (!n.ok() || *n == 0) co_return;
    absl::StatusOr<size_t> written = stream.TryWrite(absl::string_view(buffer.data(), *n));
    if (!written.ok()) co_return;
    if (*written < *n) {
      // The socket is full: keep the rest in a buffer of our own across the wait.
      const std::string rest(buffer.data() + *written, *n - *written);
      if (!(co_await stream.WriteAll(rest)).ok()) co_return;
    }
  }
}

}  // namespace

Task<void> RunEchoServer(TcpListener listener, EchoMode mode, EchoServerStats* stats) {
  for (;;) {
    absl::StatusOr<TcpStream> stream = co_await listener.Accept();
    if (!stream.ok()) {
      std::fprintf(stderr, "echo: accept: %s\n", stream.status().ToString().c_str());
      continue;
    }
    (void)stream->SetNoDelay(true);
    if (mode == EchoMode::kPooled) {
      Spawn(ServePooled, *std::move(stream), OpenConnection(stats)).Detach();
    } else {
      Spawn(ServeBuffered, *std::move(stream), OpenConnection(stats)).Detach();
    }
  }
}

}  // namespace coral::examples
