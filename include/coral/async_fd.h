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
// awaited (or RegisterOnThisWorker is called), and a readiness event queues the waiting task on
// the worker that observed it, where any worker may steal it. Waiting never pins a thread. Closing
// an fd never wakes a task that waits on another fd that reuses its number: events are routed by
// registration, not by fd number.
//
// Two tasks may wait on one AsyncFd at the same time (say, a reader and a writer). Closing,
// destroying or moving an AsyncFd while a task waits on it is a misuse and aborts (a task inside
// an await on it counts as waiting from the start, also while it yields its worker for the
// cooperative budget). So is any use
// of a closed, moved-from or default AsyncFd but valid(), fd() (-1), Close() (a no-op) and
// Release() (-1).
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
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/check.h"
#include "coral/internal/io_waiter.h"
#include "coral/internal/scheduling.h"
#include "coral/task.h"

namespace coral {

class AsyncFd;

namespace internal {
class ReadinessAwaiter;
class ReadinessWait;
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

// Awaits readiness of one direction of an AsyncFd.
class [[nodiscard]] ReadinessAwaiter : private CancellableWait {
 public:
  ReadinessAwaiter(AsyncFd* fd, Interest interest);
  ReadinessAwaiter(const ReadinessAwaiter&) = delete;
  ReadinessAwaiter& operator=(const ReadinessAwaiter&) = delete;
  ~ReadinessAwaiter();

  bool await_ready();
  bool await_suspend(std::coroutine_handle<> self);
  absl::StatusOr<Readiness> await_resume();

  // For an awaitable that waits more than once (IoAwaiter) and sets the task's resume point
  // itself. Suspend is await_suspend without the resume point: it links the wait, or returns
  // false if the wait ended at once (ready, or cancelled); await_resume then ends it either way
  // (and, called again before Restart, reports the same failure). Restart, after a successful
  // await_resume, readies the awaiter for the next await_ready.
  bool Suspend(TaskHeader* task);
  void Restart();
  bool waiting() const { return waiter_.owner_waiting; }
  AsyncFd* fd() const { return fd_; }
  // The fd's count of tasks in a budget yield inside an await on it (coral/internal/budget.h).
  BudgetYielders* budget_yielders() const;

 private:
  static void OnCancel(CancellationNode* node);
  IoRegistration* registration() const;

  AsyncFd* const fd_;
  IoWaiter waiter_;
};

// AsyncFd::Readable's and Writable's awaitable: a readiness wait that spends the task's budget
// when the fd is ready at once (coral/internal/budget.h). IoAwaiter's own waits do not: its call
// spends it.
class ReadinessWait final : public ReadinessAwaiter {
 public:
  using ReadinessAwaiter::ReadinessAwaiter;

  bool await_ready() { return SpendBudget() && ReadinessAwaiter::await_ready(); }
  bool await_suspend(std::coroutine_handle<> self) {
    if (budget_.YieldIfSpent(this, self, budget_yielders())) return true;
    return ReadinessAwaiter::await_suspend(self);
  }

 private:
  BudgetRetry<ReadinessWait> budget_;
};

// The absl::Status for a failed system call: the errno's canonical code, and its text.
absl::Status ErrnoStatus(int error, const char* operation);

template <typename Call>
class IoAwaiter;

// AsyncFd::Io's call: a caller's operation with what IoAwaiter needs to know about it. coral's
// own calls (stream_socket.h) know it from their type and keep it out of the awaiting frame.
template <typename Op>
class CustomCall {
 public:
  CustomCall(Op op, Interest interest, const char* name, size_t stream_request)
      : op_(std::move(op)), interest_(interest), name_(name), stream_request_(stream_request) {}

  ssize_t operator()(int /*fd*/) { return op_(); }
  Interest interest() const { return interest_; }
  const char* name() const { return name_; }
  size_t stream_request() const { return stream_request_; }

 private:
  Op op_;
  Interest interest_;
  const char* name_;
  size_t stream_request_;
};

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
  internal::ReadinessWait Readable() { return {this, Interest::kRead}; }
  internal::ReadinessWait Writable() { return {this, Interest::kWrite}; }

  // The readiness recorded so far (without waiting). Take it before a non-blocking operation, and
  // pass it to ClearReady if the operation fails with EAGAIN.
  Readiness CurrentReadiness() const;

  // After an operation failed with EAGAIN: forgets the readiness that `observed` reported for
  // `interest`, so the next wait suspends until a new event. A no-op if an event arrived since
  // `observed` was taken (that event is not lost).
  void ClearReady(Readiness observed, Interest interest);

  // co_await Io(...): absl::StatusOr<size_t>. Runs `op` (a non-blocking system call returning a
  // byte count, or -1 with errno; taken by value) until it succeeds or fails with an error other
  // than EAGAIN/EINTR, waiting for `interest` in between. `operation` names the call in error
  // messages. For a stream socket, pass the byte count the call asked for as `stream_request`: a
  // shorter transfer means the socket buffer was drained (or filled), so the readiness is
  // cleared at once, saving the system call that would only have returned EAGAIN. Leave it 0 for
  // anything else (a datagram, a pipe shared with others). The awaitable keeps its state in the
  // awaiting frame: no coroutine frame is allocated, however long it waits.
  template <typename Op>
  internal::IoAwaiter<internal::CustomCall<Op>> Io(Interest interest, Op op, const char* operation,
                                                   size_t stream_request = 0) {
    return {this, internal::CustomCall<Op>(std::move(op), interest, operation, stream_request)};
  }
  template <typename Op>
  internal::IoAwaiter<internal::CustomCall<Op>> ReadSome(Op op) {
    return Io(Interest::kRead, std::move(op), "read");
  }
  template <typename Op>
  internal::IoAwaiter<internal::CustomCall<Op>> WriteSome(Op op) {
    return Io(Interest::kWrite, std::move(op), "write");
  }

  // Registers the fd with the calling worker's reactor now, instead of at its first wait (a
  // no-op if it is registered already). Must run on a coral worker. Accept does this for every
  // connection it returns (see "Concepts" in runtime/scheduler.cc).
  absl::Status RegisterOnThisWorker();

  // Deregisters and closes the fd. Idempotent.
  void Close();
  // Deregisters the fd and returns it, still open, to the caller.
  int Release();

 private:
  explicit AsyncFd(int fd);
  // Whether an operation for `interest` is worth attempting: the fd is ready for it, or not yet
  // registered (its readiness is unknown until the first wait).
  bool ShouldAttempt(Readiness seen, Interest interest) const;

  template <typename Call>
  friend class internal::IoAwaiter;
  friend class internal::ReadinessAwaiter;

  int fd_ = -1;
  internal::IoRegistration* registration_ = nullptr;
};

namespace internal {

// AsyncFd::Io's awaitable, also behind StreamSocket's Read and Write. It tries the call in
// await_ready; if it must wait, the task resumes into this awaiter (a Resumer), which retries the
// call on the resuming worker and either resumes the awaiting coroutine with the outcome or waits
// again (readiness that proved stale), so the awaiting coroutine sees exactly one suspension and
// one result. A Call is invocable as ssize_t(int fd) (a byte count, or -1 with errno) and tells
// its interest(), name() (for error messages) and stream_request() (see AsyncFd::Io).
//
// Cancellation: as AsyncFd's readiness waits (the header comment): a wait whose token is
// cancelled ends the operation with absl::CancelledError, nothing transferred; an operation that
// transferred bytes before the cancellation was observed reports them.
template <typename Call>
class [[nodiscard]] IoAwaiter final : private Resumer {
 public:
  IoAwaiter(AsyncFd* fd, Call call) : wait_(fd, call.interest()), call_(std::move(call)) {}
  // Movable until awaited (so that it can be handed to a Task, as Timeout does).
  IoAwaiter(IoAwaiter&& other) noexcept
      : wait_(other.wait_.fd(), other.call_.interest()), call_(std::move(other.call_)) {
    CORAL_CHECK(!other.wait_.waiting(), "an AsyncFd I/O awaitable moved while awaited");
  }
  IoAwaiter& operator=(IoAwaiter&&) = delete;

  // The budget (coral/internal/budget.h) is checked before the call: a task that must yield
  // has transferred nothing, and makes the call on its next turn.
  bool await_ready() { return SpendBudget() && Attempt(); }
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    if (YieldIfBudgetSpent(this)) {
      outcome_ = kBudgetYield;
      budget_yield_.Enter(wait_.budget_yielders());
      return true;
    }
    TaskHeader* task = CurrentTask();
    CORAL_CHECK(task != nullptr, "AsyncFd I/O awaited outside a coral task");
    task->set_resumer(this);
    return WaitUntilDone();
  }
  absl::StatusOr<size_t> await_resume() {
    if (outcome_ >= 0) return static_cast<size_t>(outcome_);
    if (outcome_ == kWaitFailed) return wait_.await_resume().status();
    return ErrnoStatus(static_cast<int>(-outcome_), call_.name());
  }

 private:
  // outcome_ when the readiness wait failed (cancelled, shut down, not registrable); the wait
  // still holds why.
  static constexpr ssize_t kWaitFailed = std::numeric_limits<ssize_t>::min();
  // outcome_ while the task yields for its budget, before the call was made.
  static constexpr ssize_t kBudgetYield = kWaitFailed + 1;

  // Runs the call while the fd looks ready. True when it finished (outcome_ holds the count or
  // the error); false when it must wait for readiness.
  bool Attempt() {
    AsyncFd* const fd = wait_.fd();
    const Interest interest = call_.interest();
    for (;;) {
      const Readiness seen = fd->CurrentReadiness();
      if (!fd->ShouldAttempt(seen, interest)) return false;
      const ssize_t n = call_(fd->fd());
      if (n >= 0) {
        if (n > 0 && static_cast<size_t>(n) < call_.stream_request()) {
          fd->ClearReady(seen, interest);
        }
        outcome_ = n;
        return true;
      }
      const int error = errno;
      if (error == EINTR) continue;
      if (error != EAGAIN && error != EWOULDBLOCK) {
        outcome_ = -error;
        return true;
      }
      fd->ClearReady(seen, interest);
      return false;
    }
  }

  // Waits for readiness and retries until the call finishes. True if the task (the current one:
  // this runs in await_suspend or Resume) is now suspended; false once outcome_ is set.
  bool WaitUntilDone() {
    for (;;) {
      if (!wait_.await_ready() && wait_.Suspend(CurrentTask())) return true;
      if (!EndWait() || Attempt()) return false;
    }
  }

  // Ends a readiness wait; false (with outcome_ set) if it failed or was cancelled.
  bool EndWait() {
    if (!wait_.await_resume().ok()) {
      outcome_ = kWaitFailed;
      return false;
    }
    wait_.Restart();
    return true;
  }

  // Woken: retry, and resume the awaiting coroutine unless the task waits again. Touches nothing
  // of this awaiter after resuming the coroutine, which destroys it.
  void Resume() override {
    if (outcome_ == kBudgetYield) {
      budget_yield_.Leave();
      outcome_ = 0;
      if (await_ready() || !WaitUntilDone()) awaiting_.resume();
      return;
    }
    if (EndWait() && !Attempt() && WaitUntilDone()) return;
    awaiting_.resume();
  }

  ReadinessAwaiter wait_;  // Reused for each wait the operation needs.
  Call call_;
  std::coroutine_handle<> awaiting_;
  // A byte count, -errno of a failed call, or kWaitFailed. Set by Attempt or EndWait before
  // await_resume.
  ssize_t outcome_ = 0;
  // Counts the task among the fd's waiters while outcome_ is kBudgetYield (or until a teardown
  // destroys the awaiter then).
  BudgetYield budget_yield_;
};

}  // namespace internal

}  // namespace coral

#endif  // CORAL_ASYNC_FD_H_
