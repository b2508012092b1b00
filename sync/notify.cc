// Copyright 2026 The coral Authors.

#include "coral/notify.h"

#include "absl/base/thread_annotations.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"

namespace coral {
namespace internal {

// No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
// WaitSite the analysis cannot trace back to the lock.
ABSL_NO_THREAD_SAFETY_ANALYSIS bool NotifiedAwaiter::await_suspend(std::coroutine_handle<> self) {
  // The stored permit is the ready path: budgeted like every other awaitable's.
  if (!SpendBudget() && budget_.YieldIfSpent(this, self, &notify_->budget_yielders_)) return true;
  TaskHeader* task = CurrentTaskChecked("Notify::Notified awaited outside a coral task");
  notify_->lock_.Lock();
  if (notify_->permit_) {
    notify_->permit_ = false;
    notify_->lock_.Unlock();
    return false;
  }
  if (CancellableWait::AlreadyCancelled(task)) {
    notify_->lock_.Unlock();
    MarkCancelled();
    return false;
  }
  SuspendLocked(notify_->site(), task, self);
  return true;
}

absl::Status NotifiedAwaiter::await_resume() {
  if (FinishWait()) return absl::CancelledError("cancelled while waiting for a notification");
  return absl::OkStatus();
}

NotifiedAwaiter::~NotifiedAwaiter() {
  // Torn down after a NotifyOne picked us: hand the notification to someone else.
  if (AbandonWait(notify_->site()) && waiter_.weight == 1) notify_->NotifyOne();
}

}  // namespace internal

Notify::~Notify() {
  internal::LetBorrowersGoAtShutdown([this] {
    internal::SpinLockHolder hold(&lock_);
    return !queue_.empty() || !budget_yielders_.none();
  });
  internal::SpinLockHolder hold(&lock_);
  CORAL_CHECK(queue_.empty() && budget_yielders_.none(),
              "a coral::Notify destroyed while a task waits on it");
}

void Notify::NotifyOne() {
  internal::TaskHeader* task = nullptr;
  {
    internal::SpinLockHolder hold(&lock_);
    if (internal::Waiter* waiter = queue_.PopFront()) {
      waiter->weight = 1;
      task = internal::Grant(waiter);
    } else {
      permit_ = true;
    }
  }
  if (task != nullptr) internal::Wake(task);
}

void Notify::NotifyAll() {
  internal::WakeList granted;
  {
    internal::SpinLockHolder hold(&lock_);
    while (internal::Waiter* waiter = queue_.PopFront()) granted.push_back(internal::Grant(waiter));
  }
  internal::WakeAll(granted);
}

}  // namespace coral
