// Copyright 2026 The coral Authors.

#include "coral/internal/gate.h"

#include "absl/base/thread_annotations.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"

namespace coral::internal {

// No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
// WaitSite the analysis cannot trace back to the lock.
ABSL_NO_THREAD_SAFETY_ANALYSIS bool Gate::Awaiter::await_suspend(std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self, &gate_->budget_yielders_)) return true;
  TaskHeader* task = CurrentTaskChecked("coral::Event/Latch awaited outside a coral task");
  if (CancellableWait::AlreadyCancelled(task)) {
    MarkCancelled();
    return false;
  }
  gate_->lock_.Lock();
  if (gate_->open_.load(std::memory_order_relaxed)) {  // relaxed: under the lock.
    gate_->lock_.Unlock();
    return false;
  }
  SuspendLocked(gate_->site(), task, self);
  return true;
}

absl::Status Gate::Awaiter::await_resume() {
  if (FinishWait()) return absl::CancelledError("cancelled while waiting");
  return absl::OkStatus();
}

Gate::~Gate() {
  LetBorrowersGoAtShutdown([this] {
    SpinLockHolder hold(&lock_);
    return !queue_.empty() || !budget_yielders_.none();
  });
  SpinLockHolder hold(&lock_);
  CORAL_CHECK(queue_.empty() && budget_yielders_.none(),
              "a coral::Event/Latch destroyed while a task waits on it");
}

void Gate::Open() {
  WakeList granted;
  {
    SpinLockHolder hold(&lock_);
    open_.store(true, std::memory_order_release);  // release: see IsOpen.
    while (Waiter* waiter = queue_.PopFront()) granted.push_back(Grant(waiter));
  }
  WakeAll(granted);
}

void Gate::Close() {
  SpinLockHolder hold(&lock_);
  open_.store(false, std::memory_order_relaxed);  // relaxed: closing publishes nothing.
}

}  // namespace coral::internal
