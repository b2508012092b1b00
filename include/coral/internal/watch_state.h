// Copyright 2026 The coral Authors.
//
// The machinery of coral::Watch (coral/watch.h): the state its handles share and the Changed
// awaiter. Private to coral.
//
// Invariants (all under lock_):
//   - version_ counts the values sent (the initial one is version 0); value_ is the latest.
//   - A waiter is in queue_ only while its receiver's seen version equals version_ and the channel
//     is open. Send and Close grant and wake the whole queue; a woken waiter then finds a newer
//     version or the close. Granting takes nothing, so a cancelled or torn-down waiter has
//     nothing to give back.
//   - Values are swapped under the lock but destroyed outside it (the shared_ptr released by Send
//     is dropped after the lock is released), so a T destructor never runs under the spin lock.
//   - The state lives as long as any handle (std::shared_ptr); a waiting Changed() borrows its
//     receiver, which may not be destroyed meanwhile (WatchSeen::busy).

#ifndef CORAL_INTERNAL_WATCH_STATE_H_
#define CORAL_INTERNAL_WATCH_STATE_H_

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "coral/internal/budget.h"
#include "coral/internal/check.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/wait_queue.h"

namespace coral::internal {

// Aborts: "<operation> a moved-from <type>".
[[noreturn]] void WatchMovedFrom(const char* operation, const char* type);
absl::Status WatchClosed();
absl::Status WatchCancelled();

// A receiver's seen version, and whether a task is inside co_await Changed() on it.
struct WatchSeen {
  explicit WatchSeen(uint64_t seen) : version(seen) {}
  WatchSeen(WatchSeen&& other) noexcept : version(other.version) { other.CheckIdle(); }
  WatchSeen& operator=(WatchSeen&& other) noexcept {
    other.CheckIdle();
    version = other.version;
    return *this;
  }
  void CheckIdle() const {
    CORAL_CHECK(!busy.load(std::memory_order_relaxed),
                "a coral::WatchReceiver copied, moved, assigned to or destroyed while a task "
                "awaits its Changed()");
  }

  // Guarded by the state's lock while the receiver exists.
  uint64_t version;
  // relaxed: a misuse detector only. The awaiting task sets and clears it; the receiver's owner
  // reads it when copying, moving or destroying the receiver, ordered after the await in a
  // correct program.
  std::atomic<bool> busy{false};
};

template <typename T>
class WatchState {
 public:
  explicit WatchState(std::shared_ptr<const T> initial) : value_(std::move(initial)) {}
  WatchState(const WatchState&) = delete;
  WatchState& operator=(const WatchState&) = delete;

  // A new receiver's seen version.
  uint64_t Subscribe() {
    SpinLockHolder hold(&lock_);
    ++receivers_;
    return version_;
  }
  void AddReceiver() {
    SpinLockHolder hold(&lock_);
    ++receivers_;
  }
  void DropReceiver() {
    SpinLockHolder hold(&lock_);
    --receivers_;
  }
  size_t receiver_count() const {
    SpinLockHolder hold(&lock_);
    return receivers_;
  }

  void Send(std::shared_ptr<const T> value) {
    WakeList woken;
    {
      SpinLockHolder hold(&lock_);
      value_.swap(value);  // The old value is released below, outside the lock.
      ++version_;
      GrantAllLocked(&woken);
    }
    WakeAll(woken);
  }
  void Close() {
    WakeList woken;
    {
      SpinLockHolder hold(&lock_);
      closed_ = true;
      GrantAllLocked(&woken);
    }
    WakeAll(woken);
  }

  std::shared_ptr<const T> Borrow() const {
    SpinLockHolder hold(&lock_);
    return value_;
  }
  std::shared_ptr<const T> BorrowAndUpdate(WatchSeen* seen) {
    SpinLockHolder hold(&lock_);
    seen->version = version_;
    return value_;
  }
  bool HasChanged(const WatchSeen& seen) const {
    SpinLockHolder hold(&lock_);
    return seen.version != version_;
  }

  SpinLock& lock() ABSL_LOCK_RETURNED(lock_) { return lock_; }
  WaitSite site() { return {&lock_, &queue_, nullptr, this}; }

  // True if Changed() is done for `seen` (a newer value, marked seen: *status OK; or the close).
  bool TryCompleteLocked(WatchSeen* seen, absl::Status* status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    if (seen->version != version_) {
      seen->version = version_;
      *status = absl::OkStatus();
      return true;
    }
    if (!closed_) return false;
    *status = WatchClosed();
    return true;
  }

 private:
  void GrantAllLocked(WakeList* woken) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    while (Waiter* waiter = queue_.PopFront()) woken->push_back(Grant(waiter));
  }

  mutable SpinLock lock_;
  std::shared_ptr<const T> value_ ABSL_GUARDED_BY(lock_);
  uint64_t version_ ABSL_GUARDED_BY(lock_) = 0;
  size_t receivers_ ABSL_GUARDED_BY(lock_) = 0;
  bool closed_ ABSL_GUARDED_BY(lock_) = false;
  WaiterList queue_ ABSL_GUARDED_BY(lock_);
};

template <typename T>
class [[nodiscard]] WatchChangedAwaiter final : public QueuedWait {
 public:
  WatchChangedAwaiter(WatchState<T>* state, WatchSeen* seen) : state_(state), seen_(seen) {
    // relaxed: see WatchSeen::busy.
    CORAL_CHECK(!seen_->busy.exchange(true, std::memory_order_relaxed),
                "two tasks await Changed() on one coral::WatchReceiver at the same time");
  }
  ~WatchChangedAwaiter() {
    (void)AbandonWait(state_->site());  // A grant takes nothing: nothing to give back.
    seen_->busy.store(false, std::memory_order_relaxed);  // relaxed: see WatchSeen::busy.
  }

  bool await_ready() {
    if (!SpendBudget()) return false;
    SpinLockHolder hold(&state_->lock());
    done_ = state_->TryCompleteLocked(seen_, &status_);
    return done_;
  }

  // No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
  // WaitSite the analysis cannot trace back to the lock.
  ABSL_NO_THREAD_SAFETY_ANALYSIS bool await_suspend(std::coroutine_handle<> self) {
    // No yielders to count: the busy receiver keeps the state alive.
    if (budget_.YieldIfSpent(this, self)) return true;
    TaskHeader* task = CurrentTaskChecked("WatchReceiver::Changed awaited outside a coral task");
    if (CancellableWait::AlreadyCancelled(task)) {
      MarkCancelled();
      return false;
    }
    state_->lock().Lock();
    done_ = state_->TryCompleteLocked(seen_, &status_);
    if (done_) {
      state_->lock().Unlock();
      return false;
    }
    SuspendLocked(state_->site(), task, self);
    return true;
  }

  absl::Status await_resume() {
    if (done_) return status_;
    if (FinishWait()) return WatchCancelled();
    // Granted by a Send or the close: always done.
    SpinLockHolder hold(&state_->lock());
    (void)state_->TryCompleteLocked(seen_, &status_);
    return status_;
  }

 private:
  WatchState<T>* state_;
  WatchSeen* seen_;
  bool done_ = false;
  absl::Status status_;
  BudgetRetry<WatchChangedAwaiter> budget_;
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_WATCH_STATE_H_
