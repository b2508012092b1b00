// Copyright 2026 The coral Authors.
//
// AsyncMutex. state_ holds kLocked and kWaiters. Uncontended, Lock is one CAS 0 -> kLocked and
// Unlock one CAS kLocked -> 0. While kWaiters is set both CASes fail, so every change goes through
// queue_lock_: Unlock pops the first waiter and hands it the lock without ever clearing kLocked
// (no barging), clearing kWaiters when the queue empties. A locker that finds the mutex held sets
// kWaiters with a CAS under queue_lock_; if the owner's fast Unlock wins that race, the CAS fails,
// the locker sees 0 and takes the lock itself.

#include "coral/async_mutex.h"

#include "absl/base/thread_annotations.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/internal/scheduling.h"

namespace coral {
namespace internal {

// No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
// WaitSite the analysis cannot trace back to the lock.
ABSL_NO_THREAD_SAFETY_ANALYSIS bool LockWait::Suspend(std::coroutine_handle<> self,
                                                      bool* acquired) {
  TaskHeader* task = CurrentTaskChecked("AsyncMutex::Lock awaited outside a coral task");
#ifndef NDEBUG
  // relaxed: a task reading its own earlier write (or another task's, which cannot equal it).
  CORAL_CHECK(mutex_->owner_.load(std::memory_order_relaxed) != task,
              "a task locked a coral::AsyncMutex it already holds (this would deadlock)");
#endif
  if (CancellableWait::AlreadyCancelled(task)) {
    MarkCancelled();
    return false;
  }
  mutex_->queue_lock_.Lock();
  uint32_t state = mutex_->state_.load(std::memory_order_relaxed);  // relaxed: seeds the CAS.
  for (;;) {
    if (state == 0) {
      // acquire: as TryAcquire.
      if (mutex_->state_.compare_exchange_weak(
              state, AsyncMutex::kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
        mutex_->queue_lock_.Unlock();
        *acquired = true;
        mutex_->NoteOwner();
        return false;
      }
      continue;
    }
    if (state & AsyncMutex::kWaiters) break;
    // relaxed: under queue_lock_; the owner's Unlock, failing its CAS, takes queue_lock_ next.
    if (mutex_->state_.compare_exchange_weak(state, state | AsyncMutex::kWaiters,
                                             std::memory_order_relaxed)) {
      break;
    }
  }
  SuspendLocked(mutex_->site(), task, self);
  return true;
}

LockWait::~LockWait() {
  // Torn down after the lock was handed to us: pass it on.
  if (AbandonWait(mutex_->site())) mutex_->Unlock();
}

AsyncMutexGuard& AsyncMutexGuard::operator=(AsyncMutexGuard&& other) noexcept {
  if (this != &other) {
    Unlock();
    mutex_ = std::exchange(other.mutex_, nullptr);
  }
  return *this;
}

}  // namespace internal

AsyncMutex::~AsyncMutex() {
  internal::LetBorrowersGoAtShutdown(
      [this] { return state_.load(std::memory_order_relaxed) != 0 || !budget_yielders_.none(); });
  // relaxed: the last unlock happened before the destruction in a correct program (the destroyer
  // synchronized with the last owner somehow); in a misuse, any nonzero value will do.
  CORAL_CHECK(state_.load(std::memory_order_relaxed) == 0 && budget_yielders_.none(),
              "a coral::AsyncMutex destroyed while locked or waited for");
}

void AsyncMutex::UnlockSlow() {
  internal::TaskHeader* next = nullptr;
  {
    internal::SpinLockHolder hold(&queue_lock_);
    if (internal::Waiter* waiter = queue_.PopFront()) {
      next = internal::Grant(waiter);  // Still kLocked: the lock passes straight to it.
#ifndef NDEBUG
      owner_.store(next, std::memory_order_relaxed);  // relaxed: debug bookkeeping only.
#endif
      if (queue_.empty()) state_.store(kLocked, std::memory_order_relaxed);  // relaxed: under lock.
    } else {
      // Every waiter left (cancelled) since kWaiters was set. release: as the fast Unlock.
      state_.store(0, std::memory_order_release);
    }
  }
  if (next != nullptr) internal::Wake(next);
}

void AsyncMutex::AfterWaiterRemoved(void* self, internal::WakeList* /*granted*/) {
  auto* mutex = static_cast<AsyncMutex*>(self);
  // relaxed: under queue_lock_, which every change of state_ takes while kWaiters is set.
  if (mutex->queue_.empty()) mutex->state_.fetch_and(~kWaiters, std::memory_order_relaxed);
}

void AsyncMutex::NoteOwnerSlow() noexcept {
  owner_.store(internal::CurrentTask(), std::memory_order_relaxed);  // relaxed: debug only.
}

}  // namespace coral
