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
//
// A task in such a yield still awaits the object it borrowed, and will touch it again on its
// next turn. An awaitable whose object is reference-counted (a channel, a joined task) holds a
// reference across the yield. One whose object is not (a mutex, a semaphore, an event, a latch,
// a Notify, an fd's registration, a task group) passes the object's BudgetYielders instead,
// `budget_.YieldIfSpent(this, self, &object->budget_yielders_)`, and the object's destructor
// checks it where it checks its waiter list: destroying the object during the yield aborts with
// the message a waiting task causes, instead of leaving the task to retry on freed memory.

#ifndef CORAL_INTERNAL_BUDGET_H_
#define CORAL_INTERNAL_BUDGET_H_

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <utility>

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

// The tasks in a budget yield inside an await on one object that is not reference-counted (see
// above). A member of the object; its destructor treats them as waiters.
class BudgetYielders {
 public:
  BudgetYielders() = default;
  BudgetYielders(const BudgetYielders&) = delete;
  BudgetYielders& operator=(const BudgetYielders&) = delete;

  // For the destructor: no task is in a budget yield inside an await on the object.
  bool none() const noexcept { return count_.load(std::memory_order_relaxed) == 0; }

 private:
  friend class BudgetYield;

  // relaxed, in none, Enter and Leave: the count orders nothing; only the destructor reads it,
  // and compares it with zero. Enter and Leave may run on different workers (the task may be
  // stolen in between), hence an atomic. In a correct program whatever told the destroyer that
  // no task uses the object any more happens after each task's Leave (sequenced before the rest
  // of its await), so by coherence the destroyer's load sees every Leave, and each Leave happens
  // before the object's memory is freed. A destroyer that nothing orders after a yielding task
  // races it, and no ordering on this count would make the check reliable then. The misuse it
  // does catch, a destroyer that runs after the yield (on the yielder's worker, or having taken
  // work from its queue), is ordered after Enter by the task's requeue, which Enter precedes.
  std::atomic<uint32_t> count_{0};
};

// An awaitable's place in an object's BudgetYielders, from its budget yield to its task's next
// turn, or to its destruction if the task is torn down meanwhile.
class BudgetYield {
 public:
  BudgetYield() = default;
  BudgetYield(const BudgetYield&) = delete;
  BudgetYield& operator=(const BudgetYield&) = delete;
  ~BudgetYield() { Leave(); }

  // In await_suspend, once YieldIfBudgetSpent returned true (before the task is requeued).
  void Enter(BudgetYielders* yielders) noexcept {
    yielders_ = yielders;
    yielders->count_.fetch_add(1, std::memory_order_relaxed);  // relaxed: see count_.
  }
  // On the task's next turn, before the operation is retried. A no-op outside a yield.
  void Leave() noexcept {
    if (yielders_ == nullptr) return;
    // relaxed: see count_.
    std::exchange(yielders_, nullptr)->count_.fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  BudgetYielders* yielders_ = nullptr;
};

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
  // and returns true (await_suspend returns true too). `yielders`: those of the awaited object,
  // if it is not reference-counted (see above), which count the task until its next turn.
  bool YieldIfSpent(Awaiter* awaiter, std::coroutine_handle<> awaiting,
                    BudgetYielders* yielders = nullptr) noexcept {
    awaiter_ = awaiter;
    awaiting_ = awaiting;
    if (!YieldIfBudgetSpent(this)) return false;
    if (yielders != nullptr) yield_.Enter(yielders);
    return true;
  }

 private:
  // The task's next turn, with a fresh budget: the co_await protocol again, which looks at the
  // object afresh. Touches nothing of the awaiter after resuming the coroutine (which destroys
  // it) or after it suspended again.
  void Resume() override {
    yield_.Leave();
    if (awaiter_->await_ready() || !awaiter_->await_suspend(awaiting_)) awaiting_.resume();
  }

  Awaiter* awaiter_ = nullptr;
  std::coroutine_handle<> awaiting_;
  BudgetYield yield_;  // Left by Resume, or by the awaiter's destruction in a teardown.
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_BUDGET_H_
