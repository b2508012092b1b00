// Copyright 2026 The coral Authors.
//
// coral::AsyncSharedMutex: a reader-writer lock for tasks, which may be held across co_await.
//
//   absl::StatusOr<coral::AsyncSharedMutex::SharedGuard> r = co_await mu.LockShared();
//   absl::StatusOr<coral::AsyncSharedMutex::Guard> w = co_await mu.Lock();
//
// Fairness: FIFO across readers and writers. A reader arriving while a writer waits queues behind
// it, so a stream of readers cannot starve writers; when a writer releases, the run of readers at
// the head of the queue is admitted together. Owners are scheduled, never resumed inline.
//
// Cancellation: a waiter whose token is cancelled leaves the queue without the lock and gets
// absl::CancelledError; the waiters behind it are reconsidered (readers behind a cancelled writer
// may enter). A grant that races the cancellation wins. A task aborted while waiting releases a
// lock granted to it.
//
// Misuse: destroying the mutex while it is held or waited for aborts with a message (a task inside
// co_await Lock() or LockShared() counts as waiting from the start, also while it yields its
// worker for the cooperative budget). A moved-from guard owns nothing: owns_lock() is false and
// Unlock() does nothing.

#ifndef CORAL_ASYNC_SHARED_MUTEX_H_
#define CORAL_ASYNC_SHARED_MUTEX_H_

#include <coroutine>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/wait_queue.h"

namespace coral {

class AsyncSharedMutex;

namespace internal {

// Ownership of an AsyncSharedMutex, exclusive or shared; released when destroyed. Movable.
template <bool kExclusive>
class SharedMutexGuard {
 public:
  SharedMutexGuard(SharedMutexGuard&& other) noexcept
      : mutex_(std::exchange(other.mutex_, nullptr)) {}
  SharedMutexGuard& operator=(SharedMutexGuard&& other) noexcept {
    if (this != &other) {
      Unlock();
      mutex_ = std::exchange(other.mutex_, nullptr);
    }
    return *this;
  }
  SharedMutexGuard(const SharedMutexGuard&) = delete;
  SharedMutexGuard& operator=(const SharedMutexGuard&) = delete;
  ~SharedMutexGuard() { Unlock(); }

  // Releases early. Idempotent.
  void Unlock() noexcept;
  bool owns_lock() const noexcept { return mutex_ != nullptr; }

 private:
  friend class coral::AsyncSharedMutex;
  template <bool>
  friend class SharedLockAwaiter;
  explicit SharedMutexGuard(AsyncSharedMutex* mutex) noexcept : mutex_(mutex) {}

  AsyncSharedMutex* mutex_;
};

template <bool kExclusive>
class [[nodiscard]] SharedLockAwaiter final : public QueuedWait {
 public:
  explicit SharedLockAwaiter(AsyncSharedMutex* mutex) : mutex_(mutex) {
    waiter_.weight = kExclusive ? 1 : 0;
  }
  ~SharedLockAwaiter();

  bool await_ready() noexcept;
  // No thread-safety analysis: the lock it takes is released by SuspendLocked, through a
  // WaitSite the analysis cannot trace back to the lock.
  bool await_suspend(std::coroutine_handle<> self) ABSL_NO_THREAD_SAFETY_ANALYSIS;
  absl::StatusOr<SharedMutexGuard<kExclusive>> await_resume();

 private:
  AsyncSharedMutex* mutex_;
  bool acquired_ = false;
  BudgetRetry<SharedLockAwaiter> budget_;
};

}  // namespace internal

class AsyncSharedMutex {
 public:
  using Guard = internal::SharedMutexGuard<true>;
  using SharedGuard = internal::SharedMutexGuard<false>;

  AsyncSharedMutex() = default;
  AsyncSharedMutex(const AsyncSharedMutex&) = delete;
  AsyncSharedMutex& operator=(const AsyncSharedMutex&) = delete;
  ~AsyncSharedMutex();  // Aborts if the mutex is held or waited for.

  // co_await Lock(): exclusive; absl::StatusOr<Guard>.
  internal::SharedLockAwaiter<true> Lock() { return internal::SharedLockAwaiter<true>(this); }
  // co_await LockShared(): shared; absl::StatusOr<SharedGuard>.
  internal::SharedLockAwaiter<false> LockShared() {
    return internal::SharedLockAwaiter<false>(this);
  }
  std::optional<Guard> TryLock();
  std::optional<SharedGuard> TryLockShared();

 private:
  template <bool>
  friend class internal::SharedLockAwaiter;
  template <bool>
  friend class internal::SharedMutexGuard;

  bool TryTakeLocked(bool exclusive);
  void Release(bool exclusive);
  void GrantWaitersLocked(internal::WakeList* granted);
  static void AfterWaiterRemoved(void* self, internal::WakeList* granted);
  internal::WaitSite site() { return {&lock_, &queue_, &AfterWaiterRemoved, this}; }

  internal::SpinLock lock_;
  bool writer_ = false;                       // Guarded by lock_.
  internal::BudgetYielders budget_yielders_;  // Waiters too, for the destructor (budget.h).
  int64_t readers_ = 0;                       // Guarded by lock_: shared owners.
  internal::WaiterList queue_;                // Guarded by lock_; weight 1 = exclusive, 0 = shared.
};
static_assert(internal::kModelCheck || sizeof(AsyncSharedMutex) == 32,
              "lock_, writer_, budget_yielders_: one word");

}  // namespace coral

#endif  // CORAL_ASYNC_SHARED_MUTEX_H_
