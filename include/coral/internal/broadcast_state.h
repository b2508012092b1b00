// Copyright 2026 The coral Authors.
//
// The machinery of coral::Broadcast (coral/broadcast.h): the state its handles share and the Recv
// awaiter. Private to coral.
//
// Invariants (all under lock_):
//   - Message number s (counting from 0) lives in ring_[s % capacity] until message s + capacity
//     overwrites it; tail_ is the number of messages sent, so messages max(0, tail_ - capacity) ..
//     tail_ - 1 are retained.
//   - A receiver's cursor holds the number of the next message it wants. next < tail_ - capacity:
//     it lagged (its next receive reports how far and moves it to the oldest retained); next <
//     tail_: a message is there; next == tail_: it waits.
//   - A waiting receiver is in queue_ only while next == tail_ and the channel is open. Every Send
//     and the close grant and wake the whole queue; a woken receiver then finds a message, a lag
//     or the close, never nothing. Granting takes nothing from the channel, so a cancelled or
//     torn-down waiter has nothing to give back.
//   - The state lives as long as any handle (std::shared_ptr); a waiting Recv borrows its
//     receiver, which may not be destroyed meanwhile (BroadcastCursor::busy).

#ifndef CORAL_INTERNAL_BROADCAST_STATE_H_
#define CORAL_INTERNAL_BROADCAST_STATE_H_

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/check.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/wait_queue.h"

namespace coral::internal {

// Aborts: "<operation> a moved-from <type>".
[[noreturn]] void BroadcastMovedFrom(const char* operation, const char* type);
absl::Status BroadcastLaggedError(uint64_t missed);
absl::Status BroadcastClosed();
absl::Status BroadcastEmpty();
absl::Status BroadcastCancelled();

// A receiver's position, and whether a task is inside co_await Recv() on it.
struct BroadcastCursor {
  BroadcastCursor() = default;
  BroadcastCursor(BroadcastCursor&& other) noexcept : next(other.next) { other.CheckIdle(); }
  BroadcastCursor& operator=(BroadcastCursor&& other) noexcept {
    other.CheckIdle();
    next = other.next;
    return *this;
  }
  void CheckIdle() const {
    CORAL_CHECK(!busy.load(std::memory_order_relaxed),
                "a coral::BroadcastReceiver moved while a task awaits its Recv");
  }

  // Guarded by the state's lock while the receiver is subscribed.
  uint64_t next = 0;
  // relaxed: a misuse detector only. The awaiting task sets and clears it; the receiver's owner
  // reads it when destroying or moving the receiver, ordered after the await in a correct program.
  std::atomic<bool> busy{false};
};

template <typename T>
class BroadcastState {
 public:
  explicit BroadcastState(size_t capacity) : ring_(capacity) {}
  BroadcastState(const BroadcastState&) = delete;
  BroadcastState& operator=(const BroadcastState&) = delete;

  // A new receiver's first position.
  uint64_t Subscribe() {
    SpinLockHolder hold(&lock_);
    ++receivers_;
    return tail_;
  }
  void DropReceiver() {
    SpinLockHolder hold(&lock_);
    --receivers_;
  }
  void AddSender() {
    SpinLockHolder hold(&lock_);
    ++senders_;
  }
  void DropSender() {
    WakeList woken;
    {
      SpinLockHolder hold(&lock_);
      if (--senders_ > 0) return;
      closed_ = true;
      GrantAllLocked(&woken);
    }
    WakeAll(woken);
  }
  size_t receiver_count() const {
    SpinLockHolder hold(&lock_);
    return receivers_;
  }

  size_t Send(T value) {
    WakeList woken;
    std::optional<T> overwritten;  // Destroyed after the lock is released.
    size_t receivers;
    {
      SpinLockHolder hold(&lock_);
      receivers = receivers_;
      if (receivers == 0) return 0;
      std::optional<T>& slot = ring_[tail_ % ring_.size()];
      overwritten = std::exchange(slot, std::move(value));
      ++tail_;
      GrantAllLocked(&woken);
    }
    WakeAll(woken);
    return receivers;
  }

  // The next thing for `cursor`: a message, a lag, the close; leaves `result` empty if there is
  // nothing yet.
  void TryRecv(BroadcastCursor* cursor, std::optional<absl::StatusOr<T>>* result) {
    SpinLockHolder hold(&lock_);
    TryRecvLocked(cursor, result);
  }

  SpinLock& lock() ABSL_LOCK_RETURNED(lock_) { return lock_; }
  WaitSite site() { return {&lock_, &queue_, nullptr, this}; }

  void TryRecvLocked(BroadcastCursor* cursor, std::optional<absl::StatusOr<T>>* result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    const uint64_t capacity = ring_.size();
    if (cursor->next < tail_) {
      const uint64_t oldest = tail_ > capacity ? tail_ - capacity : 0;
      if (cursor->next < oldest) {
        result->emplace(BroadcastLaggedError(oldest - cursor->next));
        cursor->next = oldest;
        return;
      }
      result->emplace(*ring_[cursor->next % capacity]);  // A copy: the others read it too.
      ++cursor->next;
    } else if (closed_) {
      result->emplace(BroadcastClosed());
    }
  }

 private:
  void GrantAllLocked(WakeList* woken) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_) {
    while (Waiter* waiter = queue_.PopFront()) woken->push_back(Grant(waiter));
  }

  mutable SpinLock lock_;
  std::vector<std::optional<T>> ring_ ABSL_GUARDED_BY(lock_);
  uint64_t tail_ ABSL_GUARDED_BY(lock_) = 0;
  size_t senders_ ABSL_GUARDED_BY(lock_) = 1;
  size_t receivers_ ABSL_GUARDED_BY(lock_) = 0;
  bool closed_ ABSL_GUARDED_BY(lock_) = false;
  WaiterList queue_ ABSL_GUARDED_BY(lock_);
};

template <typename T>
class [[nodiscard]] BroadcastRecvAwaiter final : public QueuedWait {
 public:
  BroadcastRecvAwaiter(BroadcastState<T>* state, BroadcastCursor* cursor)
      : state_(state), cursor_(cursor) {
    // relaxed: see BroadcastCursor::busy.
    CORAL_CHECK(!cursor_->busy.exchange(true, std::memory_order_relaxed),
                "two tasks await Recv on one coral::BroadcastReceiver at the same time");
  }
  ~BroadcastRecvAwaiter() {
    (void)AbandonWait(state_->site());  // A grant takes nothing: nothing to give back.
    cursor_->busy.store(false, std::memory_order_relaxed);  // relaxed: see BroadcastCursor::busy.
  }

  bool await_ready() {
    if (!SpendBudget()) return false;
    state_->TryRecv(cursor_, &result_);
    return result_.has_value();
  }

  // No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
  // WaitSite the analysis cannot trace back to the lock.
  ABSL_NO_THREAD_SAFETY_ANALYSIS bool await_suspend(std::coroutine_handle<> self) {
    // No yielders to count: the busy cursor keeps the receiver, and so the state, alive.
    if (budget_.YieldIfSpent(this, self)) return true;
    TaskHeader* task = CurrentTaskChecked("BroadcastReceiver::Recv awaited outside a coral task");
    if (CancellableWait::AlreadyCancelled(task)) {
      MarkCancelled();
      return false;
    }
    state_->lock().Lock();
    state_->TryRecvLocked(cursor_, &result_);
    if (result_.has_value()) {
      state_->lock().Unlock();
      return false;
    }
    SuspendLocked(state_->site(), task, self);
    return true;
  }

  absl::StatusOr<T> await_resume() {
    if (!result_.has_value()) {
      if (FinishWait()) return BroadcastCancelled();
      state_->TryRecv(cursor_, &result_);  // Granted by a Send or the close: never empty.
    }
    return *std::move(result_);
  }

 private:
  BroadcastState<T>* state_;
  BroadcastCursor* cursor_;
  std::optional<absl::StatusOr<T>> result_;
  BudgetRetry<BroadcastRecvAwaiter> budget_;
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_BROADCAST_STATE_H_
