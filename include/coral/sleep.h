// Copyright 2026 The coral Authors.
//
// Timers: SleepFor, SleepUntil and Timeout.
//
//   co_await coral::SleepFor(absl::Milliseconds(10));
//   absl::StatusOr<int> r = co_await coral::Timeout(absl::Seconds(1), Compute());
//
// A sleep lasts at least its duration. Timers live in the reactor of the worker on which the
// sleep began; on an idle runtime they fire within about a millisecond of their deadline
// (epoll_pwait2's nanosecond timeout, plus the kernel's timer slack of 50 us). A worker busy
// running tasks checks its timers every 61 tasks, so one long-running task on that worker delays
// them (as it delays everything queued there).
//
// `co_await SleepFor(d)` yields an absl::Status: OK once the time has passed, CancelledError if
// the task's token was cancelled first. Must be awaited inside a coral task (aborts otherwise).
//
// Cancellation: a cancelled token ends the sleep at once (the timer is disarmed and never fires);
// a sleep that begins under a cancelled token does not wait at all. A task aborted while sleeping
// is torn down at once, its timer disarmed. Timeout runs its task under a child token with a
// deadline, so the task's own waits end with CancelledError when the deadline passes.

#ifndef CORAL_SLEEP_H_
#define CORAL_SLEEP_H_

#include <coroutine>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/timer_entry.h"
#include "coral/join_handle.h"
#include "coral/task.h"

namespace coral {

namespace internal {

class SleepAwaiter : private CancellableWait {
 public:
  explicit SleepAwaiter(absl::Time deadline) { entry_.deadline = deadline; }
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter();

  bool await_ready() const { return SpendBudget() && entry_.deadline <= absl::Now(); }
  bool await_suspend(std::coroutine_handle<> self);
  absl::Status await_resume() noexcept;

 private:
  static void OnCancel(CancellationNode* node);

  TimerEntry entry_;
  bool armed_ = false;
  BudgetRetry<SleepAwaiter> budget_;
};

}  // namespace internal

namespace internal {
// Function objects rather than functions: argument-dependent lookup would otherwise also find
// absl::SleepFor(absl::Duration), which blocks the thread, and the call would be ambiguous.
struct SleepForFn {
  SleepAwaiter operator()(absl::Duration duration) const {
    return SleepAwaiter(absl::Now() + duration);
  }
};
struct SleepUntilFn {
  SleepAwaiter operator()(absl::Time deadline) const { return SleepAwaiter(deadline); }
};
}  // namespace internal

// co_await SleepFor(d): suspends the current task for at least `d`.
inline constexpr internal::SleepForFn SleepFor;

// co_await SleepUntil(t): suspends the current task until `t` has passed.
inline constexpr internal::SleepUntilFn SleepUntil;

// Runs `task` under a child of the current token that is cancelled when `duration` has passed,
// and returns its result as a JoinResult (join_handle.h: an absl::StatusOr<T> task's result comes
// back as it is); or absl::DeadlineExceededError if the deadline passed before the task finished
// (its waits then ended with CancelledError, and it has returned). The task runs in
// place: Timeout returns only once it has. Exceptions thrown by the task are rethrown.
template <typename T>
Task<JoinResult<T>> Timeout(absl::Duration duration, Task<T> task) {
  CancellationSource deadline =
      CancellationSource::WithDeadline(absl::Now() + duration, CurrentCancellationToken());
  std::optional<JoinResult<T>> result;
  {
    internal::ScopedTaskCancellation scope(internal::StateOf(deadline.token()));
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      result.emplace(absl::OkStatus());
    } else {
      result.emplace(co_await std::move(task));
    }
  }
  if (deadline.IsCancelled() && !CurrentCancellationToken().IsCancelled()) {
    co_return absl::DeadlineExceededError("coral::Timeout: the deadline passed");
  }
  co_return *std::move(result);
}

namespace internal {
template <typename Awaitable>
Task<decltype(std::declval<Awaitable&>().await_resume())> AwaitInTask(Awaitable awaitable) {
  co_return co_await std::move(awaitable);
}
}  // namespace internal

// Timeout for an awaitable that is not a Task (StreamSocket::Read, say): awaited inside one.
template <typename Awaitable>
  requires requires(Awaitable& awaitable) { awaitable.await_resume(); }
auto Timeout(absl::Duration duration, Awaitable awaitable) {
  return Timeout(duration, internal::AwaitInTask(std::move(awaitable)));
}

}  // namespace coral

#endif  // CORAL_SLEEP_H_
