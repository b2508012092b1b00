// Copyright 2026 The coral Authors.

#include "coral/semaphore.h"

#include "absl/base/thread_annotations.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"

namespace coral {
namespace internal {

AcquireAwaiter::AcquireAwaiter(Semaphore* semaphore, int64_t permits) : semaphore_(semaphore) {
  CORAL_CHECK(permits >= 1, "Semaphore::Acquire needs at least one permit");
  waiter_.weight = permits;
}

bool AcquireAwaiter::await_ready() noexcept {
  if (!SpendBudget()) return false;
  SpinLockHolder hold(&semaphore_->lock_);
  acquired_ = semaphore_->TryTakeLocked(waiter_.weight);
  return acquired_;
}

// No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
// WaitSite the analysis cannot trace back to the lock.
ABSL_NO_THREAD_SAFETY_ANALYSIS bool AcquireAwaiter::await_suspend(std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self, &semaphore_->budget_yielders_)) return true;
  TaskHeader* task = CurrentTaskChecked("Semaphore::Acquire awaited outside a coral task");
  if (CancellableWait::AlreadyCancelled(task)) {
    MarkCancelled();
    return false;
  }
  semaphore_->lock_.Lock();
  if (semaphore_->TryTakeLocked(waiter_.weight)) {
    semaphore_->lock_.Unlock();
    acquired_ = true;
    return false;
  }
  SuspendLocked(semaphore_->site(), task, self);
  return true;
}

absl::StatusOr<SemaphorePermit> AcquireAwaiter::await_resume() {
  if (!acquired_ && FinishWait()) {
    return absl::CancelledError("cancelled while waiting for a Semaphore");
  }
  acquired_ = false;  // The permit object owns them now.
  return SemaphorePermit(semaphore_, waiter_.weight);
}

AcquireAwaiter::~AcquireAwaiter() {
  if (AbandonWait(semaphore_->site())) semaphore_->Release(waiter_.weight, waiter_.weight);
}

SemaphorePermit& SemaphorePermit::operator=(SemaphorePermit&& other) noexcept {
  if (this != &other) {
    Release();
    semaphore_ = std::exchange(other.semaphore_, nullptr);
    count_ = other.count_;
  }
  return *this;
}

void SemaphorePermit::Release() noexcept {
  if (semaphore_ != nullptr) std::exchange(semaphore_, nullptr)->Release(count_, count_);
}

}  // namespace internal

Semaphore::~Semaphore() {
  internal::LetBorrowersGoAtShutdown([this] {
    internal::SpinLockHolder hold(&lock_);
    return !queue_.empty() || !budget_yielders_.none() || lent_ != 0;
  });
  internal::SpinLockHolder hold(&lock_);
  CORAL_CHECK(queue_.empty() && budget_yielders_.none(),
              "a coral::Semaphore destroyed while a task waits on it");
  CORAL_CHECK(lent_ == 0, "a coral::Semaphore destroyed while a Permit taken from it is alive");
}

bool Semaphore::TryTakeLocked(int64_t n) {
  if (!queue_.empty() || permits_ < n) return false;
  permits_ -= n;
  lent_ += n;
  return true;
}

std::optional<Semaphore::Permit> Semaphore::TryAcquire(int64_t n) {
  internal::SpinLockHolder hold(&lock_);
  if (!TryTakeLocked(n)) return std::nullopt;
  return Permit(this, n);
}

void Semaphore::Release(int64_t n) { Release(n, 0); }

void Semaphore::Release(int64_t n, int64_t returned) {
  internal::WakeList granted;
  {
    internal::SpinLockHolder hold(&lock_);
    permits_ += n;
    lent_ -= returned;
    GrantWaitersLocked(&granted);
  }
  internal::WakeAll(granted);
}

int64_t Semaphore::available() const {
  internal::SpinLockHolder hold(&lock_);
  return permits_;
}

void Semaphore::GrantWaitersLocked(internal::WakeList* granted) {
  while (internal::Waiter* front = queue_.front()) {
    if (front->weight > permits_) break;
    permits_ -= front->weight;
    lent_ += front->weight;
    queue_.Remove(front);
    granted->push_back(internal::Grant(front));
  }
}

void Semaphore::AfterWaiterRemoved(void* self, internal::WakeList* granted) {
  static_cast<Semaphore*>(self)->GrantWaitersLocked(granted);
}

}  // namespace coral
