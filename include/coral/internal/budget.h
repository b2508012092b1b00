// Copyright 2026 The coral Authors.
//
// The cooperative budget: how many operations a task may complete without suspending before it
// must give its worker to others. Private to coral; every awaitable with a ready path uses it
// (runtime/scheduler.cc, "Cooperative budget").
//
// A task whose awaits always find their resource ready (a channel that always has values, a
// socket that always has data, a mutex that is always free) would otherwise never suspend, and a
// task queued behind it on its worker would never run. Each turn of a task (a worker starting to
// run it) grants kTaskBudget units; every awaitable that could complete at once spends one first,
// and once they are spent it suspends instead and requeues the task (as coral::Yield does). The
// operation is then tried again, from the start, when the task runs next: the budget is checked
// before the operation, so a value, permit or lock is never taken by a task that then yields.
// Off a task's turn (a thread that is not a worker, a worker between tasks) nothing is counted.
//
// The pattern, for an awaitable whose await_ready tries the operation and whose await_suspend
// tries it once more before it waits:
//
//   bool await_ready() { return SpendBudget() && TryOperation(); }
//   bool await_suspend(std::coroutine_handle<> self) {
//     if (budget_.YieldIfSpent(this, self)) return true;
//     ... the usual: try again, or register and wait ...
//   }
//
// BudgetRetry runs the awaitable's await_ready and await_suspend again on the task's next turn
// and resumes the awaiting coroutine if either completes, so the coroutine sees one suspension
// and one result.

#ifndef CORAL_INTERNAL_BUDGET_H_
#define CORAL_INTERNAL_BUDGET_H_

#include <coroutine>
#include <cstdint>

#include "coral/internal/task_header.h"

namespace coral::internal {

// Operations a task may complete without suspending in one turn (tokio's value).
inline constexpr int32_t kTaskBudget = 128;

// Spends one unit of the running task's budget. True: go ahead. False: the budget is spent, and
// the awaitable must not perform its operation now; its await_suspend then finds
// BudgetSpent() true. Outside a task's turn, always true. Defined out of line (runtime/
// scheduler.cc), like every scheduler entry point: a coroutine that migrates between threads must
// not reuse a thread-local address computed on the thread it left.
bool SpendBudget() noexcept;

// In await_suspend: true if SpendBudget returned false in this turn. Then makes `resumer` the
// current task's resume point and requeues the task behind its worker's queued tasks (Yield).
bool YieldIfBudgetSpent(Resumer* resumer) noexcept;

// Held by an awaitable (see the pattern above): the Resumer that performs its operation on the
// task's next turn.
template <typename Awaiter>
class BudgetRetry final : private Resumer {
 public:
  BudgetRetry() = default;
  BudgetRetry(const BudgetRetry&) = delete;
  BudgetRetry& operator=(const BudgetRetry&) = delete;
  // For awaitables that are movable until awaited: a fresh retry (nothing is pending before
  // await_suspend).
  BudgetRetry(BudgetRetry&&) noexcept {}

  // First thing in await_suspend: if the budget is spent, suspends the task until its next turn
  // and returns true (await_suspend returns true too).
  bool YieldIfSpent(Awaiter* awaiter, std::coroutine_handle<> awaiting) noexcept {
    awaiter_ = awaiter;
    awaiting_ = awaiting;
    return YieldIfBudgetSpent(this);
  }

 private:
  // The task's next turn, with a fresh budget: the co_await protocol again. Touches nothing of
  // the awaiter after resuming the coroutine (which destroys it) or after it suspended again.
  void Resume() override {
    if (awaiter_->await_ready() || !awaiter_->await_suspend(awaiting_)) awaiting_.resume();
  }

  Awaiter* awaiter_ = nullptr;
  std::coroutine_handle<> awaiting_;
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_BUDGET_H_
