// Copyright 2026 The coral Authors.
//
// Timers: SleepFor, SleepUntil and Timeout; and AdvanceTime, a paused clock's sleep (clock.h).
//
//   co_await coral::SleepFor(absl::Milliseconds(10));
//   absl::StatusOr<int> r = co_await coral::Timeout(absl::Seconds(1), Compute());
//
// A sleep lasts at least its duration, on the runtime's monotonic clock (clock.h): a step of the
// wall clock moves no timer, and in a paused runtime the clock is virtual. SleepUntil takes an
// Instant, or an absl::Time that it converts to one once, when called (clock.h). Timers live in
// the reactor of the worker on which the sleep began; on an idle runtime they fire within about a
// millisecond of their deadline
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
// deadline, so the task's own waits end with CancelledError when the deadline passes (see Timeout
// for which outcome it returns). AdvanceTime is a sleep until now + d that lets the clock move
// there while it lasts: a cancelled token ends it with CancelledError and withdraws its target as
// the task resumes. The clock stays where it stood when the cancellation took effect (it may have
// moved part of the way, deadline by deadline; a cancellation from outside the runtime may race
// with one step of an advance already under way, as any outside wake-up does), and the call
// leaves no limit behind: later, the clock moves only by auto-advance or another AdvanceTime. A
// task torn down inside AdvanceTime withdraws its target the same way; Runtime::AdvanceTime
// withdraws its own when it returns.

#ifndef CORAL_SLEEP_H_
#define CORAL_SLEEP_H_

#include <coroutine>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/cancellation_state.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "coral/internal/task_header.h"
#include "coral/internal/timer_entry.h"
#include "coral/join_handle.h"
#include "coral/task.h"

namespace coral {

namespace internal {

class [[nodiscard]] SleepAwaiter : private CancellableWait {
 public:
  explicit SleepAwaiter(Instant deadline) { entry_.deadline = deadline; }
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter();

  bool await_ready() const { return SpendBudget() && entry_.deadline <= Now(); }
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
  SleepAwaiter operator()(absl::Duration duration) const { return SleepAwaiter(Now() + duration); }
};
struct SleepUntilFn {
  SleepAwaiter operator()(Instant deadline) const { return SleepAwaiter(deadline); }
  SleepAwaiter operator()(absl::Time deadline) const {
    return SleepAwaiter(FromWallTime(deadline));
  }
};
}  // namespace internal

// co_await SleepFor(d): suspends the current task for at least `d`.
inline constexpr internal::SleepForFn SleepFor;

// co_await SleepUntil(t): suspends the current task until `t` (an Instant, or an absl::Time
// converted once) has passed.
inline constexpr internal::SleepUntilFn SleepUntil;

// Paused runtimes only (aborts otherwise), from a task: lets the clock move to Now() + d, deadline
// by deadline as auto-advance does, and completes when it has arrived there (OK), or with
// CancelledError if the task's token was cancelled first (the clock then stops where it stood;
// see Cancellation above). Other tasks keep running meanwhile.
// With auto-advance on, the same as SleepFor(d). See "Paused time" in coral/clock.h.
[[nodiscard]] Task<absl::Status> AdvanceTime(absl::Duration d);

namespace internal {

template <typename Awaitable>
Task<decltype(std::declval<Awaitable&>().await_resume())> AwaitInTask(Awaitable awaitable) {
  co_return co_await std::move(awaitable);
}

// What co_await Timeout(...) awaits: a plain object that owns the task (no coroutine of its own),
// runs it in place under a child token with a deadline, and restores the token afterwards.
template <typename T>
class [[nodiscard]] TimeoutAwaiter {
 public:
  TimeoutAwaiter(absl::Duration duration, Task<T> task)
      : duration_(duration), task_(std::move(task)) {}
  // Movable until awaited (so that it converts to a Task, below).
  TimeoutAwaiter(TimeoutAwaiter&& other) noexcept
      : duration_(other.duration_), task_(std::move(other.task_)) {
    CORAL_CHECK(other.header_ == nullptr, "a coral::Timeout moved while awaited");
  }
  TimeoutAwaiter& operator=(TimeoutAwaiter&&) = delete;
  ~TimeoutAwaiter() {
    if (header_ != nullptr) {
      // Torn down while the task runs inside: the task goes first (the scopes nested in it put the
      // token back to ours in order), then the task's own token comes back.
      { Task<T> doomed = std::move(task_); }
      header_->set_cancellation(saved_);
    }
    if (state_ != nullptr) state_->DropReference();
  }

  // A Task that awaits this, for APIs that take one (WhenAll<...>(Timeout(...), ...)).
  operator Task<JoinResult<T>>() && { return AwaitInTask(std::move(*this)); }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) {
    header_ = CurrentTask();
    CORAL_CHECK(header_ != nullptr, "coral::Timeout awaited outside a coral task");
    saved_ = header_->cancellation();
    state_ = CancellationState::CreateWithTimeout(saved_, duration_, header_);
    header_->set_cancellation(state_);
    auto inner = task_.operator co_await();
    (void)inner.await_ready();  // Checks that the task can be awaited.
    return inner.await_suspend(self);
  }
  JoinResult<T> await_resume() {
    std::exchange(header_, nullptr)->set_cancellation(saved_);
    auto inner = task_.operator co_await();
    // The result is taken first: an exception the task threw is rethrown whatever the deadline did.
    if constexpr (std::is_void_v<T>) {
      inner.await_resume();
      if (DeadlineCutItShort()) return absl::DeadlineExceededError(kExceeded);
      return absl::OkStatus();
    } else {
      T value = inner.await_resume();
      if (DeadlineCutItShort()) return absl::DeadlineExceededError(kExceeded);
      return value;
    }
  }

 private:
  static constexpr const char* kExceeded = "coral::Timeout: the deadline passed";

  // The deadline fired (not the surrounding token) and one of the task's waits noticed.
  bool DeadlineCutItShort() const noexcept {
    return state_->IsCancelled() && !state_->CancelledByParent() && state_->Observed();
  }

  absl::Duration duration_;
  Task<T> task_;
  TaskHeader* header_ = nullptr;  // Set while the task runs inside.
  CancellationState* saved_ = nullptr;
  CancellationState* state_ = nullptr;  // One reference.
};

}  // namespace internal

// Runs `task` in place under a child of the current token that is cancelled when `duration` has
// passed, and returns its result as a JoinResult (join_handle.h: an absl::StatusOr<T> task's
// result comes back as it is); or absl::DeadlineExceededError if the deadline cut the task short.
// The task runs in place: Timeout returns only once it has. Exceptions thrown by the task are
// rethrown. Timeout returns a plain awaitable that owns the task (it converts to a Task<JoinResult
// <T>> where one is needed); the deadline is a timer entry on the calling worker, not a task.
//
// Which outcome wins. A task that finishes while none of its own waits has noticed the deadline
// keeps its result, even if the deadline fired meanwhile (tokio's timeout likewise polls the inner
// future first): a task that computes past its deadline and returns without waiting again returns
// its value. Once the deadline has cut one of its own waits short (or refused one that would have
// begun), the task's result is dropped and Timeout returns DeadlineExceededError. Its own waits
// are those of the task and of everything it awaits in place (Tasks, nested Timeouts and scopes),
// on any Select, sleep, I/O, lock, channel or join. A task spawned inside (Spawn, a TaskGroup
// child) inherits the deadline, but its waits are its own: the deadline cutting them short does
// not decide the Timeout's outcome; awaiting such a task's JoinHandle is a wait of the task,
// which counts if the deadline cuts it short, and a TaskGroup's Join never ends early. A join
// that the joined task's completion ends first returns that task's result and counts as nothing,
// even when the deadline has also fired: the Timeout then returns whatever the task returns (the
// joined task's CancelledError, if the inherited deadline cut it short and the task passes the
// error on). Which of the two ends the join first is up to the schedule. The tasks
// given to WhenAll and WhenAny are the awaited work itself, as if run in place (tokio's join! and
// select! inside a timeout): their own waits count too (for WhenAny, the winner's). If the
// surrounding token was cancelled instead, the task's result is returned as it is.
//
// Cancellation: the task observes the child token (the current one, and the deadline); a task
// torn down while inside (JoinHandle::Abort, runtime shutdown) destroys the task first and then
// restores the token, however Timeout, WithCancellation and Shielded are nested.
template <typename T>
internal::TimeoutAwaiter<T> Timeout(absl::Duration duration, Task<T> task) {
  return internal::TimeoutAwaiter<T>(duration, std::move(task));
}

// A Timeout as the task of a scope: WithCancellation(token, Timeout(d, task)), Shielded(...).
template <typename T>
Task<JoinResult<T>> WithCancellation(CancellationToken token, internal::TimeoutAwaiter<T> timeout) {
  return WithCancellation(std::move(token), Task<JoinResult<T>>(std::move(timeout)));
}
template <typename T>
Task<JoinResult<T>> Shielded(internal::TimeoutAwaiter<T> timeout) {
  return Shielded(Task<JoinResult<T>>(std::move(timeout)));
}

// Timeout for an awaitable that is not a Task (StreamSocket::Read, or another Timeout): awaited
// inside one.
template <typename Awaitable>
requires requires(Awaitable& awaitable) { awaitable.await_resume(); }
auto Timeout(absl::Duration duration, Awaitable awaitable) {
  return Timeout(duration, internal::AwaitInTask(std::move(awaitable)));
}

}  // namespace coral

#endif  // CORAL_SLEEP_H_
