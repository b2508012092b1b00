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
