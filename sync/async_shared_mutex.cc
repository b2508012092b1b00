// Copyright 2026 The coral Authors.

#include "coral/async_shared_mutex.h"

#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"

namespace coral {
namespace internal {

template <bool kExclusive>
void SharedMutexGuard<kExclusive>::Unlock() noexcept {
  if (mutex_ != nullptr) std::exchange(mutex_, nullptr)->Release(kExclusive);
}

template <bool kExclusive>
bool SharedLockAwaiter<kExclusive>::await_ready() noexcept {
  if (!SpendBudget()) return false;
  SpinLockHolder hold(&mutex_->lock_);
  acquired_ = mutex_->TryTakeLocked(kExclusive);
  return acquired_;
}

template <bool kExclusive>
bool SharedLockAwaiter<kExclusive>::await_suspend(std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self, &mutex_->budget_yielders_)) return true;
  TaskHeader* task = CurrentTaskChecked("AsyncSharedMutex lock awaited outside a coral task");
  if (CancellableWait::AlreadyCancelled(task)) {
    MarkCancelled();
    return false;
  }
  mutex_->lock_.Lock();
  if (mutex_->TryTakeLocked(kExclusive)) {
    mutex_->lock_.Unlock();
    acquired_ = true;
    return false;
  }
  SuspendLocked(mutex_->site(), task, self);
  return true;
}

template <bool kExclusive>
absl::StatusOr<SharedMutexGuard<kExclusive>> SharedLockAwaiter<kExclusive>::await_resume() {
  if (!acquired_ && FinishWait()) {
    return absl::CancelledError("cancelled while waiting for an AsyncSharedMutex");
  }
  acquired_ = false;
  return SharedMutexGuard<kExclusive>(mutex_);
}

template <bool kExclusive>
SharedLockAwaiter<kExclusive>::~SharedLockAwaiter() {
  if (AbandonWait(mutex_->site())) mutex_->Release(kExclusive);
}

template class SharedMutexGuard<true>;
template class SharedMutexGuard<false>;
template class SharedLockAwaiter<true>;
template class SharedLockAwaiter<false>;

}  // namespace internal

AsyncSharedMutex::~AsyncSharedMutex() {
  internal::LetBorrowersGoAtShutdown([this] {
    internal::SpinLockHolder hold(&lock_);
    return readers_ != 0 || writer_ || !queue_.empty() || !budget_yielders_.none();
  });
  internal::SpinLockHolder hold(&lock_);
  CORAL_CHECK(readers_ == 0 && !writer_ && queue_.empty() && budget_yielders_.none(),
              "a coral::AsyncSharedMutex destroyed while locked or waited for");
}

bool AsyncSharedMutex::TryTakeLocked(bool exclusive) {
  if (!queue_.empty() || writer_) return false;  // FIFO: nobody passes a waiter.
  if (exclusive) {
    if (readers_ != 0) return false;
    writer_ = true;
  } else {
    ++readers_;
  }
  return true;
}

std::optional<AsyncSharedMutex::Guard> AsyncSharedMutex::TryLock() {
  internal::SpinLockHolder hold(&lock_);
  if (!TryTakeLocked(true)) return std::nullopt;
  return Guard(this);
}

std::optional<AsyncSharedMutex::SharedGuard> AsyncSharedMutex::TryLockShared() {
  internal::SpinLockHolder hold(&lock_);
  if (!TryTakeLocked(false)) return std::nullopt;
  return SharedGuard(this);
}

void AsyncSharedMutex::Release(bool exclusive) {
  internal::WakeList granted;
  {
    internal::SpinLockHolder hold(&lock_);
    if (exclusive) {
      writer_ = false;
    } else {
      --readers_;
    }
    GrantWaitersLocked(&granted);
  }
  internal::WakeAll(granted);
}

void AsyncSharedMutex::GrantWaitersLocked(internal::WakeList* granted) {
  while (internal::Waiter* front = queue_.front()) {
    if (writer_) return;
    if (front->weight == 1) {  // A writer: only once every reader has left.
      if (readers_ != 0) return;
      writer_ = true;
    } else {
      ++readers_;
    }
    queue_.Remove(front);
    granted->push_back(internal::Grant(front));
  }
}

void AsyncSharedMutex::AfterWaiterRemoved(void* self, internal::WakeList* granted) {
  static_cast<AsyncSharedMutex*>(self)->GrantWaitersLocked(granted);
}

}  // namespace coral
