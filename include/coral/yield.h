// Copyright 2026 The coral Authors.
//
// coral::Yield(): gives the worker to other runnable tasks.
//
//   for (...) { Step(); co_await coral::Yield(); }
//
// The current task goes to the back of its worker's run queue (never the LIFO slot), so every task
// already queued there runs before it continues; it may continue on another worker if one steals
// it. Must be awaited inside a coral task (aborts otherwise).
//
// Awaits that are always ready yield on their own: every coral awaitable that could complete
// without suspending (a channel with values, a free mutex, a socket with data, a finished
// JoinHandle, ...) first spends one unit of the task's budget, 128 per turn, and once it is spent
// the await yields as Yield does and performs its operation when the task runs again. So a task
// cannot starve its worker's other tasks through coral's awaits; only a stretch of code without
// awaits needs Yield (or SpawnBlocking).
//
// Cancellation: Yield never waits, so it does not observe the token; a task aborted while
// yielded is torn down instead of continuing.

#ifndef CORAL_YIELD_H_
#define CORAL_YIELD_H_

#include <coroutine>

namespace coral {

namespace internal {
struct [[nodiscard]] YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> self) noexcept;
  void await_resume() const noexcept {}
};
}  // namespace internal

inline internal::YieldAwaiter Yield() noexcept { return {}; }

}  // namespace coral

#endif  // CORAL_YIELD_H_
