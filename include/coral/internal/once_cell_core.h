// Copyright 2026 The coral Authors.
//
// The type-independent half of coral::OnceCell (coral/once_cell.h): who initializes, and who
// waits. Private to coral; the protocol is in sync/once_cell.cc.

#ifndef CORAL_INTERNAL_ONCE_CELL_CORE_H_
#define CORAL_INTERNAL_ONCE_CELL_CORE_H_

#include <atomic>
#include <coroutine>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "coral/internal/budget.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/wait_queue.h"

namespace coral::internal {

class OnceCellCore;

// What co_await OnceCellCore::Acquire() tells its task.
enum class OnceTurn {
  kSet,         // The value is there.
  kInitialize,  // This task initializes; it must call Release exactly once.
  kCancelled,   // The task's token was cancelled while it waited.
};

class [[nodiscard]] OnceAcquireAwaiter final : public QueuedWait {
 public:
  explicit OnceAcquireAwaiter(OnceCellCore* core) : core_(core) {}
  ~OnceAcquireAwaiter();

  bool await_ready();
  bool await_suspend(std::coroutine_handle<> self);
  OnceTurn await_resume();

 private:
  OnceCellCore* core_;
  bool decided_ = false;
  OnceTurn turn_ = OnceTurn::kCancelled;
  BudgetRetry<OnceAcquireAwaiter> budget_;
};

class OnceCellCore {
 public:
  OnceCellCore() = default;
  OnceCellCore(const OnceCellCore&) = delete;
  OnceCellCore& operator=(const OnceCellCore&) = delete;
  ~OnceCellCore();  // Aborts while a task initializes or waits.

  // acquire: pairs with the release store in Release(true); the value written before it is seen.
  bool IsSet() const noexcept { return state_.load(std::memory_order_acquire) == kSet; }

  // Waits while another task initializes; see OnceTurn.
  OnceAcquireAwaiter Acquire() { return OnceAcquireAwaiter(this); }
  // Without waiting: true if the caller now initializes (the cell was empty, nobody initializing).
  bool TryBeginInitialize();
  // The initializer's end: success publishes the value and wakes every waiter; failure hands the
  // turn to the longest waiter, or empties the cell if nobody waits.
  void Release(bool success);

 private:
  friend class OnceAcquireAwaiter;
  static constexpr int kEmpty = 0;
  static constexpr int kInitializing = 1;
  static constexpr int kSet = 2;
  // Waiter::weight of a granted waiter: what it was granted.
  static constexpr int64_t kGrantedTurn = 1;
  static constexpr int64_t kGrantedSet = 2;

  // Under lock_: kSet or kInitialize if the acquiring task need not wait.
  bool TryDecideLocked(OnceTurn* turn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_);
  WaitSite site() { return {&lock_, &queue_, nullptr, this}; }

  SpinLock lock_;
  // Written under lock_; read without it by IsSet (see there).
  std::atomic<int> state_{kEmpty};
  BudgetYielders budget_yielders_;  // Waiters too, for the destructor (budget.h).
  WaiterList queue_ ABSL_GUARDED_BY(lock_);
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_ONCE_CELL_CORE_H_
