// Copyright 2026 The coral Authors.
//
// coral::AsyncFd: an owned, non-blocking file descriptor whose readiness coral tasks can await.
// Wrap any pollable fd (socket, pipe, eventfd, inotify, signalfd, timerfd) to use it from tasks:
//
//   absl::StatusOr<coral::AsyncFd> fd = coral::AsyncFd::Create(pipe_read_end);
//   absl::StatusOr<size_t> n =
//       co_await fd->ReadSome([&] { return ::read(fd->fd(), buf, len); });
//
// Readiness is edge-triggered. The fd joins the epoll set of the worker on which it is first
// awaited, and a readiness event queues the waiting task on that worker, where any worker may
// steal it. Waiting never pins a thread. Closing an fd never wakes a task that waits on another fd
// that reuses its number: events are routed by registration, not by fd number.
//
// Two tasks may wait on one AsyncFd at the same time (say, a reader and a writer). Closing (or
// destroying) an AsyncFd while a task waits on it is a misuse and aborts.
//
// Cancellation: when the waiting task's token is cancelled, the wait ends at once with
// absl::CancelledError (and a wait that would begin under a cancelled token does not start); the
// fd and its readiness are untouched, so no data is lost. A task aborted while waiting is torn
// down at once; its wait is deregistered. After runtime shutdown, waits complete with
// absl::CancelledError.

#ifndef CORAL_ASYNC_FD_H_
#define CORAL_ASYNC_FD_H_

#include <sys/types.h>

#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/io_waiter.h"
#include "coral/task.h"

namespace coral {

namespace internal {
class ReadinessAwaiter;
}  // namespace internal

enum class Interest { kRead, kWrite };

// What a readiness wait observed.
class Readiness {
 public:
  // Data (or end of stream) can be read / data can be written without blocking.
  bool readable() const { return bits() & internal::readiness::kReadable; }
  bool writable() const { return bits() & internal::readiness::kWritable; }
  // The peer shut down its writing side (reads will see end of stream).
  bool read_closed() const { return bits() & internal::readiness::kReadClosed; }
  // Both directions closed, or an error is pending on the fd.
  bool hang_up() const { return bits() & internal::readiness::kHangUp; }
  bool error() const { return bits() & internal::readiness::kError; }

 private:
  friend class AsyncFd;
  friend class internal::ReadinessAwaiter;
  explicit Readiness(uint64_t snapshot) : snapshot_(snapshot) {}
  uint32_t bits() const { return static_cast<uint32_t>(snapshot_ & 0xffff); }

  uint64_t snapshot_;
};

namespace internal {

// Awaits readiness of one direction of a registered fd.
class ReadinessAwaiter {
 public:
  ReadinessAwaiter(IoRegistration* registration, int fd, Interest interest);
  ReadinessAwaiter(const ReadinessAwaiter&) = delete;
  ReadinessAwaiter& operator=(const ReadinessAwaiter&) = delete;
  ~ReadinessAwaiter();

  bool await_ready();
  bool await_suspend(std::coroutine_handle<> self);
  absl::StatusOr<Readiness> await_resume();

 private:
  static void OnCancel(void* context);

  IoRegistration* const registration_;
  const int fd_;
  IoWaiter waiter_;
  CancellableWait cancel_;
  absl::Status status_;
  bool waiting_ = false;
};

// The absl::Status for a failed system call: the errno's canonical code, and its text.
absl::Status ErrnoStatus(int error, const char* operation);

}  // namespace internal

class AsyncFd {
 public:
  // Takes ownership of `fd` and makes it non-blocking. On failure `fd` is closed.
  static absl::StatusOr<AsyncFd> Create(int fd);

  AsyncFd() = default;
  AsyncFd(AsyncFd&& other) noexcept;
  AsyncFd& operator=(AsyncFd&& other) noexcept;
  AsyncFd(const AsyncFd&) = delete;
  AsyncFd& operator=(const AsyncFd&) = delete;
  ~AsyncFd() { Close(); }

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // co_await Readable() / Writable(): completes with the observed Readiness once the fd is ready
  // for that direction (or closed, or in error).
  internal::ReadinessAwaiter Readable() { return {registration_, fd_, Interest::kRead}; }
  internal::ReadinessAwaiter Writable() { return {registration_, fd_, Interest::kWrite}; }

  // The readiness recorded so far (without waiting). Take it before a non-blocking operation, and
  // pass it to ClearReady if the operation fails with EAGAIN.
  Readiness CurrentReadiness() const;

  // After an operation failed with EAGAIN: forgets the readiness that `observed` reported for
  // `interest`, so the next wait suspends until a new event. A no-op if an event arrived since
  // `observed` was taken (that event is not lost).
  void ClearReady(Readiness observed, Interest interest);

  // Runs `op` (a non-blocking system call returning a byte count, or -1 with errno; taken by
  // value) until it succeeds or fails with an error other than EAGAIN/EINTR, waiting for
  // `interest` in between. `operation` names the call in error messages. For a stream socket,
  // pass the byte count the call asked for as `stream_request`: a shorter transfer means the
  // socket buffer was drained (or filled), so the readiness is cleared at once, saving the system
  // call that would only have returned EAGAIN. Leave it 0 for anything else (a datagram, a pipe
  // shared with others).
  template <typename Op>
  Task<absl::StatusOr<size_t>> Io(Interest interest, Op op, const char* operation,
                                  size_t stream_request = 0) {
    for (;;) {
      const Readiness seen = CurrentReadiness();
      if (ShouldAttempt(seen, interest)) {
        const ssize_t n = op();
        if (n >= 0) {
          if (n > 0 && static_cast<size_t>(n) < stream_request) ClearReady(seen, interest);
          co_return static_cast<size_t>(n);
        }
        const int error = errno;
        if (error == EINTR) continue;
        if (error != EAGAIN && error != EWOULDBLOCK) {
          co_return internal::ErrnoStatus(error, operation);
        }
        ClearReady(seen, interest);
      }
      absl::StatusOr<Readiness> ready =
          co_await internal::ReadinessAwaiter(registration_, fd_, interest);
      if (!ready.ok()) co_return ready.status();
    }
  }
  template <typename Op>
  Task<absl::StatusOr<size_t>> ReadSome(Op op) {
    return Io(Interest::kRead, std::move(op), "read");
  }
  template <typename Op>
  Task<absl::StatusOr<size_t>> WriteSome(Op op) {
    return Io(Interest::kWrite, std::move(op), "write");
  }

  // Deregisters and closes the fd. Idempotent.
  void Close();
  // Deregisters the fd and returns it, still open, to the caller.
  int Release();

 private:
  explicit AsyncFd(int fd);
  // Whether an operation for `interest` is worth attempting: the fd is ready for it, or not yet
  // registered (its readiness is unknown until the first wait).
  bool ShouldAttempt(Readiness seen, Interest interest) const;

  int fd_ = -1;
  internal::IoRegistration* registration_ = nullptr;
};

}  // namespace coral

#endif  // CORAL_ASYNC_FD_H_
