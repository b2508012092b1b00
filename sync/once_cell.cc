// Copyright 2026 The coral Authors.
//
// The initialization protocol of OnceCell. The cell is empty, initializing (exactly one task
// holds the turn) or set, and only moves forward except when an initializer fails. A task that
// finds it initializing waits in FIFO order. When the initializer fails (an error, an exception,
// its task torn down), the turn goes straight to the longest waiter, which is woken as the new
// initializer: later arrivals cannot overtake it, and the waiters behind keep waiting. A waiter
// granted the turn and then torn down before it ran passes the turn on the same way. When the
// initializer succeeds, every waiter is woken with the value.

#include "coral/once_cell.h"

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "coral/internal/check.h"

namespace coral {
namespace internal {

bool OnceAcquireAwaiter::await_ready() {
  if (!SpendBudget()) return false;
  SpinLockHolder hold(&core_->lock_);
  decided_ = core_->TryDecideLocked(&turn_);
  return decided_;
}

// No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
// WaitSite the analysis cannot trace back to the lock.
ABSL_NO_THREAD_SAFETY_ANALYSIS bool OnceAcquireAwaiter::await_suspend(
    std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self, &core_->budget_yielders_)) return true;
  TaskHeader* task = CurrentTaskChecked("OnceCell::GetOrInit awaited outside a coral task");
  core_->lock_.Lock();
  decided_ = core_->TryDecideLocked(&turn_);
  if (decided_) {
    core_->lock_.Unlock();
    return false;
  }
  if (CancellableWait::AlreadyCancelled(task)) {
    core_->lock_.Unlock();
    MarkCancelled();
    return false;
  }
  waiter_.weight = 0;
  SuspendLocked(core_->site(), task, self);
  return true;
}

OnceTurn OnceAcquireAwaiter::await_resume() {
  if (decided_) return turn_;
  if (FinishWait()) return OnceTurn::kCancelled;
  decided_ = true;
  turn_ = waiter_.weight == OnceCellCore::kGrantedTurn ? OnceTurn::kInitialize : OnceTurn::kSet;
  return turn_;
}

OnceAcquireAwaiter::~OnceAcquireAwaiter() {
  // Torn down after the turn was handed to us: hand it on.
  if (AbandonWait(core_->site()) && waiter_.weight == OnceCellCore::kGrantedTurn) {
    core_->Release(/*success=*/false);
  }
}

OnceCellCore::~OnceCellCore() {
  SpinLockHolder hold(&lock_);
  CORAL_CHECK(queue_.empty() && budget_yielders_.none(),
              "a coral::OnceCell destroyed while a task waits on it");
  // relaxed: under lock_, which orders every write.
  CORAL_CHECK(state_.load(std::memory_order_relaxed) != kInitializing,
              "a coral::OnceCell destroyed while a task initializes it");
}

bool OnceCellCore::TryDecideLocked(OnceTurn* turn) {
  // relaxed: under lock_, which orders every write.
  const int state = state_.load(std::memory_order_relaxed);
  if (state == kSet) {
    *turn = OnceTurn::kSet;
    return true;
  }
  if (state == kEmpty) {
    state_.store(kInitializing, std::memory_order_relaxed);  // relaxed: as above.
    *turn = OnceTurn::kInitialize;
    return true;
  }
  return false;
}

bool OnceCellCore::TryBeginInitialize() {
  SpinLockHolder hold(&lock_);
  OnceTurn turn;
  return TryDecideLocked(&turn) && turn == OnceTurn::kInitialize;
}

void OnceCellCore::Release(bool success) {
  WakeList woken;
  {
    SpinLockHolder hold(&lock_);
    if (success) {
      // release: publishes the value to IsSet's lock-free readers.
      state_.store(kSet, std::memory_order_release);
      while (Waiter* waiter = queue_.PopFront()) {
        waiter->weight = kGrantedSet;
        woken.push_back(Grant(waiter));
      }
    } else if (Waiter* next = queue_.PopFront()) {
      next->weight = kGrantedTurn;  // Still initializing: the turn changes hands.
      woken.push_back(Grant(next));
    } else {
      state_.store(kEmpty, std::memory_order_relaxed);  // relaxed: under lock_; nothing published.
    }
  }
  WakeAll(woken);
}

absl::Status OnceCellAlreadySet() {
  return absl::AlreadyExistsError("coral::OnceCell is already set or being initialized");
}

absl::Status OnceCellCancelled() {
  return absl::CancelledError("cancelled while waiting for a OnceCell to be initialized");
}

}  // namespace internal
}  // namespace coral
