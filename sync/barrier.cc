// Copyright 2026 The coral Authors.

#include "coral/barrier.h"

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "coral/internal/check.h"

namespace coral {
namespace internal {

bool BarrierWaitAwaiter::await_ready() {
  if (!SpendBudget()) return false;
  WakeList woken;
  {
    SpinLockHolder hold(&barrier_->lock_);
    leader_ = barrier_->TryCompleteLocked(&woken);
  }
  WakeAll(woken);
  return leader_;
}

// No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
// WaitSite the analysis cannot trace back to the lock.
ABSL_NO_THREAD_SAFETY_ANALYSIS bool BarrierWaitAwaiter::await_suspend(
    std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self, &barrier_->budget_yielders_)) return true;
  TaskHeader* task = CurrentTaskChecked("Barrier::Wait awaited outside a coral task");
  WakeList woken;
  barrier_->lock_.Lock();
  if (barrier_->TryCompleteLocked(&woken)) {
    barrier_->lock_.Unlock();
    WakeAll(woken);
    leader_ = true;
    return false;
  }
  if (CancellableWait::AlreadyCancelled(task)) {
    barrier_->lock_.Unlock();
    MarkCancelled();
    return false;
  }
  ++barrier_->arrived_;
  SuspendLocked(barrier_->site(), task, self);
  return true;
}

absl::StatusOr<BarrierWaitResult> BarrierWaitAwaiter::await_resume() {
  if (leader_) return BarrierWaitResult{.is_leader = true};
  if (FinishWait()) return absl::CancelledError("cancelled while waiting at a Barrier");
  return BarrierWaitResult{.is_leader = false};
}

BarrierWaitAwaiter::~BarrierWaitAwaiter() {
  // A waiter still linked is withdrawn (AfterWaiterRemoved); one released by a completion has
  // nothing to give back.
  (void)AbandonWait(barrier_->site());
}

}  // namespace internal

Barrier::Barrier(size_t participants) : participants_(participants) {
  CORAL_CHECK(participants >= 1, "coral::Barrier needs at least one participant");
}

Barrier::~Barrier() {
  internal::SpinLockHolder hold(&lock_);
  CORAL_CHECK(queue_.empty() && budget_yielders_.none(),
              "a coral::Barrier destroyed while a task waits on it");
}

uint64_t Barrier::generation() const {
  internal::SpinLockHolder hold(&lock_);
  return generation_;
}

bool Barrier::TryCompleteLocked(internal::WakeList* woken) {
  if (arrived_ + 1 < participants_) return false;
  while (internal::Waiter* waiter = queue_.PopFront()) woken->push_back(internal::Grant(waiter));
  arrived_ = 0;
  ++generation_;
  return true;
}

// No thread-safety analysis: called with lock_ held, through a WaitSite (wait_queue.h).
ABSL_NO_THREAD_SAFETY_ANALYSIS void Barrier::AfterWaiterRemoved(void* self,
                                                                internal::WakeList* /*woken*/) {
  --static_cast<Barrier*>(self)->arrived_;  // The withdrawn waiter's arrival.
}

}  // namespace coral
