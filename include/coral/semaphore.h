// Copyright 2026 The coral Authors.
//
// coral::Semaphore: a counting semaphore for tasks, with weighted acquisition.
//
//   coral::Semaphore slots(8);   // At most 8 concurrent backend calls.
//   absl::StatusOr<coral::Semaphore::Permit> permit = co_await slots.Acquire();
//   if (!permit.ok()) co_return permit.status();
//   co_await CallBackend();       // The permit returns when `permit` is destroyed.
//
// Fairness: FIFO. Permits go to waiters in arrival order; a request for more permits than are
// available waits at the head, and smaller requests behind it wait too (no barging, no
// starvation of large requests). TryAcquire fails while anyone waits.
//
// Cancellation: a waiter whose token is cancelled leaves the queue without permits, and Acquire
// returns absl::CancelledError; the waiters behind it are then reconsidered. If the permits were
// granted at the same moment, the grant wins. A task aborted while waiting returns granted permits.
//
// Misuse: destroying the semaphore while a task waits on it, or while a Permit taken from it is
// alive, aborts with a message (a task inside co_await Acquire() counts as waiting from the
// start, also while it yields its worker for the cooperative budget). A moved-from Permit holds
// nothing: count() is 0 and Release() does nothing.

#ifndef CORAL_SEMAPHORE_H_
#define CORAL_SEMAPHORE_H_

#include <coroutine>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/wait_queue.h"

namespace coral {

class Semaphore;

namespace internal {

class [[nodiscard]] AcquireAwaiter final : public QueuedWait {
 public:
  AcquireAwaiter(Semaphore* semaphore, int64_t permits);
  ~AcquireAwaiter();

  bool await_ready() noexcept;
  bool await_suspend(std::coroutine_handle<> self);
  absl::StatusOr<class SemaphorePermit> await_resume();

 private:
  Semaphore* semaphore_;
  bool acquired_ = false;
  BudgetRetry<AcquireAwaiter> budget_;
};

// Permits held; returned to the semaphore when destroyed. Movable.
class SemaphorePermit {
 public:
  SemaphorePermit(SemaphorePermit&& other) noexcept
      : semaphore_(std::exchange(other.semaphore_, nullptr)), count_(other.count_) {}
  SemaphorePermit& operator=(SemaphorePermit&& other) noexcept;
  SemaphorePermit(const SemaphorePermit&) = delete;
  SemaphorePermit& operator=(const SemaphorePermit&) = delete;
  ~SemaphorePermit() { Release(); }

  int64_t count() const noexcept { return semaphore_ != nullptr ? count_ : 0; }
  // Returns the permits early. Idempotent.
  void Release() noexcept;

 private:
  friend class coral::Semaphore;
  friend class AcquireAwaiter;
  SemaphorePermit(Semaphore* semaphore, int64_t count) : semaphore_(semaphore), count_(count) {}

  Semaphore* semaphore_;
  int64_t count_;
};

}  // namespace internal

class Semaphore {
 public:
  using Permit = internal::SemaphorePermit;

  explicit Semaphore(int64_t permits) : permits_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore();  // Aborts if a task waits or a Permit is alive.

  // co_await Acquire(n): absl::StatusOr<Permit> holding n permits (n >= 1).
  internal::AcquireAwaiter Acquire(int64_t n = 1) { return internal::AcquireAwaiter(this, n); }
  // n permits if they are free and nobody waits.
  std::optional<Permit> TryAcquire(int64_t n = 1);
  // Adds n permits (beyond those returned by Permit objects), waking waiters they satisfy.
  void Release(int64_t n = 1);
  int64_t available() const;

 private:
  friend class internal::AcquireAwaiter;
  friend class internal::SemaphorePermit;

  bool TryTakeLocked(int64_t n);
  // Adds n permits, of which `returned` come back from a Permit or a granted waiter.
  void Release(int64_t n, int64_t returned);
  // Grants the waiters at the head that the free permits satisfy.
  void GrantWaitersLocked(internal::WakeList* granted);
  static void AfterWaiterRemoved(void* self, internal::WakeList* granted);
  internal::WaitSite site() { return {&lock_, &queue_, &AfterWaiterRemoved, this}; }

  mutable internal::SpinLock lock_;
  internal::BudgetYielders budget_yielders_;  // Waiters too, for the destructor (budget.h).
  int64_t permits_;                           // Guarded by lock_.
  int64_t lent_ = 0;                          // Guarded by lock_: taken and not yet returned.
  internal::WaiterList queue_;  // Guarded by lock_; Waiter::weight is the permits wanted.
};
static_assert(internal::kModelCheck || sizeof(Semaphore) == 40,
              "budget_yielders_ sits in the padding after the lock");

}  // namespace coral

#endif  // CORAL_SEMAPHORE_H_
