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
// Must be awaited inside a coral task (aborts otherwise).
//
// Cancellation: a task aborted while sleeping is torn down at once; its timer is disarmed and
// never fires. Timeout aborts the task it runs when the deadline passes, and waits for it to be
// torn down before returning.

#ifndef CORAL_SLEEP_H_
#define CORAL_SLEEP_H_

#include <coroutine>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/internal/timer_entry.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/task.h"

namespace coral {

namespace internal {

class SleepAwaiter {
 public:
  explicit SleepAwaiter(absl::Time deadline) { entry_.deadline = deadline; }
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter();

  bool await_ready() const { return entry_.deadline <= absl::Now(); }
  void await_suspend(std::coroutine_handle<> self);
  void await_resume() noexcept { armed_ = false; }

 private:
  TimerEntry entry_;
  bool armed_ = false;
};

// Aborts `task` when the deadline passes, unless disarmed first.
class DeadlineAlarm {
 public:
  DeadlineAlarm(TaskHeader* task, absl::Time deadline);
  DeadlineAlarm(const DeadlineAlarm&) = delete;
  DeadlineAlarm& operator=(const DeadlineAlarm&) = delete;
  ~DeadlineAlarm() { Disarm(); }

  // Returns true if the alarm fired (or is firing) before being disarmed.
  bool Disarm();

 private:
  TimerEntry entry_;
  bool armed_ = true;
  bool fired_ = false;
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

// Runs `task` as a child task and returns its result, or absl::DeadlineExceededError if it has not
// finished after `duration` (the child is then aborted and torn down before Timeout returns).
// Exceptions thrown by the task are rethrown.
template <typename T>
Task<JoinResult<T>> Timeout(absl::Duration duration, Task<T> task) {
  JoinHandle<T> child = Spawn([](Task<T> t) -> Task<T> { co_return co_await std::move(t); },
                              std::move(task));
  internal::DeadlineAlarm alarm(child.task_header(), absl::Now() + duration);
  JoinResult<T> result = co_await std::move(child);
  if (alarm.Disarm() && !result.ok() && absl::IsCancelled(result.status())) {
    co_return absl::DeadlineExceededError("coral::Timeout: the deadline passed");
  }
  co_return result;
}

}  // namespace coral

#endif  // CORAL_SLEEP_H_
