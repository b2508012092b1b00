// Copyright 2026 The coral Authors.
//
// coral::AsyncMutex: a mutex for tasks, which may be held across co_await.
//
//   coral::AsyncMutex mu;
//   absl::StatusOr<coral::AsyncMutex::Guard> guard = co_await mu.Lock();
//   if (!guard.ok()) co_return guard.status();   // Cancelled while waiting.
//   co_await WriteRecord(...);                    // Still held, on whatever thread resumes us.
//
// A waiting task suspends; it never blocks its worker. The lock belongs to the task, not the
// thread: it may be released on another thread than the one that took it.
//
// Fairness: FIFO. Unlock hands the lock directly to the longest waiter (no barging: while tasks
// wait, a new Lock() queues behind them, and TryLock() fails). The next owner is scheduled, never
// resumed on the unlocker's stack, so a chain of hand-offs cannot grow a stack.
//
// Cancellation: a waiter whose token is cancelled leaves the queue and Lock() returns
// absl::CancelledError; it never holds the lock. If the lock was handed to it at the same moment,
// the hand-off wins and Lock() succeeds (the next wait observes the token). A task aborted while
// waiting passes a lock handed to it on to the next waiter.
//
// Misuse: in builds without NDEBUG, a task that locks a mutex it already holds aborts with a
// message instead of deadlocking. Destroying a mutex that is held or waited for aborts with a
// message (a task inside co_await Lock() counts as waiting from the start, also while it yields
// its worker for the cooperative budget). A moved-from Guard owns nothing: owns_lock() is false and
// Unlock() does nothing. A moved-from Synchronized<T>::Guard aborts when dereferenced.
//
// Synchronized<T> (below) pairs a value with its mutex, so the value cannot be touched unlocked.

#ifndef CORAL_ASYNC_MUTEX_H_
#define CORAL_ASYNC_MUTEX_H_

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/check.h"
#include "coral/internal/sync_primitives.h"
#include "coral/internal/wait_queue.h"

namespace coral {

class AsyncMutex;

namespace internal {

// The queued half of a Lock(), constructed only when the fast path fails.
class LockWait final : public QueuedWait {
 public:
  explicit LockWait(AsyncMutex* mutex) : mutex_(mutex) {}
  ~LockWait();
  // False if the lock was taken after all (or the token is cancelled): do not suspend.
  bool Suspend(std::coroutine_handle<> self, bool* acquired);
  bool Cancelled() { return FinishWait(); }

 private:
  AsyncMutex* mutex_;
};

class [[nodiscard]] LockAwaiter {
 public:
  explicit LockAwaiter(AsyncMutex* mutex) noexcept : mutex_(mutex) {}
  LockAwaiter(const LockAwaiter&) = delete;
  LockAwaiter& operator=(const LockAwaiter&) = delete;

  inline bool await_ready() noexcept;
  inline bool await_suspend(std::coroutine_handle<> self);
  inline absl::StatusOr<class AsyncMutexGuard> await_resume();

 private:
  AsyncMutex* mutex_;
  bool acquired_ = false;
  std::optional<LockWait> wait_;  // Only when the lock was not free: keeps the fast path small.
  BudgetRetry<LockAwaiter> budget_;
};

// The scoped ownership of an AsyncMutex; unlocks when destroyed. Movable (between tasks too).
class AsyncMutexGuard {
 public:
  AsyncMutexGuard(AsyncMutexGuard&& other) noexcept
      : mutex_(std::exchange(other.mutex_, nullptr)) {}
  AsyncMutexGuard& operator=(AsyncMutexGuard&& other) noexcept;
  AsyncMutexGuard(const AsyncMutexGuard&) = delete;
  AsyncMutexGuard& operator=(const AsyncMutexGuard&) = delete;
  ~AsyncMutexGuard() { Unlock(); }

  // Releases the lock early. Idempotent.
  inline void Unlock() noexcept;
  bool owns_lock() const noexcept { return mutex_ != nullptr; }

 private:
  friend class coral::AsyncMutex;
  friend class LockAwaiter;
  friend class LockWait;
  explicit AsyncMutexGuard(AsyncMutex* mutex) noexcept : mutex_(mutex) {}

  AsyncMutex* mutex_;
};

}  // namespace internal

class AsyncMutex {
 public:
  using Guard = internal::AsyncMutexGuard;

  AsyncMutex() = default;
  AsyncMutex(const AsyncMutex&) = delete;
  AsyncMutex& operator=(const AsyncMutex&) = delete;
  ~AsyncMutex();  // Aborts if the mutex is held or waited for.

  // co_await Lock(): absl::StatusOr<Guard> (CancelledError if cancelled while waiting).
  internal::LockAwaiter Lock() noexcept { return internal::LockAwaiter(this); }

  // The lock if it is free and nobody waits for it.
  std::optional<Guard> TryLock() noexcept {
    if (!TryAcquire()) return std::nullopt;
    NoteOwner();
    return Guard(this);
  }

 private:
  friend class internal::LockAwaiter;
  friend class internal::LockWait;
  friend class internal::AsyncMutexGuard;

  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kWaiters = 2;  // The queue is not empty: Unlock takes the slow path.

  bool TryAcquire() noexcept {
    uint32_t expected = 0;
    // acquire: the critical section follows the previous owner's (which released).
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void Unlock() noexcept {
    uint32_t expected = kLocked;
    ClearOwner();
    // release: publishes the critical section to the next owner. relaxed on failure: the slow
    // path takes the queue lock, which orders.
    if (!state_.compare_exchange_strong(expected, 0, std::memory_order_release,
                                        std::memory_order_relaxed)) {
      UnlockSlow();
    }
  }
  void UnlockSlow();
  // Debug builds: record / check the owning task (self-deadlock detection).
  void NoteOwner() noexcept {
#ifndef NDEBUG
    NoteOwnerSlow();
#endif
  }
  void ClearOwner() noexcept {
#ifndef NDEBUG
    // relaxed: debug bookkeeping only.
    owner_.store(nullptr, std::memory_order_relaxed);
#endif
  }
  void NoteOwnerSlow() noexcept;
  static void AfterWaiterRemoved(void* self, internal::WakeList* granted);
  internal::WaitSite site() noexcept { return {&queue_lock_, &queue_, &AfterWaiterRemoved, this}; }

  internal::Atomic<uint32_t> state_{0};
  internal::SpinLock queue_lock_;
  internal::WaiterList queue_;                // Guarded by queue_lock_.
  internal::BudgetYielders budget_yielders_;  // Waiters too, for the destructor (budget.h).
  // Debug builds only: the task holding the lock. Written by the owner (or, at a hand-off, the
  // unlocker under queue_lock_), read by a task about to wait.
  internal::Atomic<internal::TaskHeader*> owner_{nullptr};
};
// state_ and the lock leave no room for budget_yielders_ in their word: 40 bytes, not 32.
static_assert(internal::kModelCheck || sizeof(AsyncMutex) == 40, "keep AsyncMutex's layout packed");

namespace internal {

void AsyncMutexGuard::Unlock() noexcept {
  if (mutex_ != nullptr) std::exchange(mutex_, nullptr)->Unlock();
}

bool LockAwaiter::await_ready() noexcept {
  if (!SpendBudget()) return false;
  acquired_ = mutex_->TryAcquire();
  if (acquired_) mutex_->NoteOwner();
  return acquired_;
}

bool LockAwaiter::await_suspend(std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self, &mutex_->budget_yielders_)) return true;
  return wait_.emplace(mutex_).Suspend(self, &acquired_);
}

absl::StatusOr<AsyncMutexGuard> LockAwaiter::await_resume() {
  if (!acquired_ && wait_->Cancelled()) {
    return absl::CancelledError("cancelled while waiting for an AsyncMutex");
  }
  // Taken by the fast path, or handed over by the unlocker (which recorded us as the owner).
  return AsyncMutexGuard(mutex_);
}

}  // namespace internal

// A value that can be reached only through a lock: Tokio's Mutex<T>, folly's Synchronized.
//
//   coral::Synchronized<std::map<int, Session>> sessions;
//   absl::StatusOr<coral::Synchronized<std::map<int, Session>>::Guard> s = co_await
//   sessions.Lock();
//   (*s)->emplace(id, std::move(session));
template <typename T>
class Synchronized {
 public:
  class Guard {
   public:
    T& operator*() const noexcept { return *Checked(); }
    T* operator->() const noexcept { return Checked(); }

   private:
    friend class Synchronized;
    Guard(AsyncMutex::Guard lock, T* value) : lock_(std::move(lock)), value_(value) {}
    T* Checked() const noexcept {
      CORAL_CHECK(lock_.owns_lock(), "use of a moved-from coral::Synchronized guard");
      return value_;
    }

    AsyncMutex::Guard lock_;
    T* value_;
  };

  template <typename... Args>
  explicit Synchronized(Args&&... args) : value_(std::forward<Args>(args)...) {}

  // co_await Lock(): absl::StatusOr<Guard>; cancellation as AsyncMutex::Lock.
  auto Lock() noexcept {
    struct [[nodiscard]] Awaiter {
      Synchronized* self;
      internal::LockAwaiter inner;
      bool await_ready() noexcept { return inner.await_ready(); }
      bool await_suspend(std::coroutine_handle<> h) { return inner.await_suspend(h); }
      absl::StatusOr<Guard> await_resume() {
        absl::StatusOr<AsyncMutex::Guard> lock = inner.await_resume();
        if (!lock.ok()) return lock.status();
        return Guard(*std::move(lock), &self->value_);
      }
    };
    return Awaiter{this, mutex_.Lock()};
  }

  std::optional<Guard> TryLock() noexcept {
    std::optional<AsyncMutex::Guard> lock = mutex_.TryLock();
    if (!lock) return std::nullopt;
    return Guard(*std::move(lock), &value_);
  }

 private:
  AsyncMutex mutex_;
  T value_;
};

}  // namespace coral

#endif  // CORAL_ASYNC_MUTEX_H_
