// Copyright 2026 The coral Authors.
//
// coral::Barrier: n tasks meet, then all continue; reusable, one generation after another.
//
//   coral::Barrier step(kWorkers);
//   for (int round = 0; round < kRounds; ++round) {
//     Compute(round);
//     absl::StatusOr<coral::BarrierWaitResult> met = co_await step.Wait();
//     if (!met.ok()) co_return met.status();        // Cancelled.
//     if (met->is_leader) PublishRound(round);        // Exactly one task per generation.
//   }
//
// Generations. Wait() counts the calling task as arrived; the n-th arrival completes the
// generation: it returns at once with is_leader set, every task waiting in that generation is
// woken (in arrival order) with is_leader false, and the barrier starts the next generation with
// nobody arrived. So a task may call Wait() again at once; it then waits for the next n arrivals.
// A Barrier of 1 completes at every Wait(), its caller being the leader.
//
// Cancellation: a waiting task whose token is cancelled withdraws its arrival (the generation now
// needs one more) and Wait() returns absl::CancelledError. If the generation completed at the same
// moment, the completion wins: Wait() returns OK. A task torn down while waiting withdraws too.
//
// Thread-safety: any task may Wait(), from any worker. Misuse: Barrier(0) aborts; destroying the
// barrier while a task waits on it aborts with a message (a task inside co_await Wait() counts
// from the start, also while it yields its worker for the cooperative budget).

#ifndef CORAL_BARRIER_H_
#define CORAL_BARRIER_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/wait_queue.h"

namespace coral {

class Barrier;

// What a completed Wait() reports.
struct BarrierWaitResult {
  bool is_leader;  // The arrival that completed the generation (one per generation).
};

namespace internal {

class [[nodiscard]] BarrierWaitAwaiter final : public QueuedWait {
 public:
  explicit BarrierWaitAwaiter(Barrier* barrier) : barrier_(barrier) {}
  ~BarrierWaitAwaiter();

  bool await_ready();
  bool await_suspend(std::coroutine_handle<> self);
  absl::StatusOr<BarrierWaitResult> await_resume();

 private:
  Barrier* barrier_;
  bool leader_ = false;
  BudgetRetry<BarrierWaitAwaiter> budget_;
};

}  // namespace internal

class Barrier {
 public:
  // participants >= 1 (aborts otherwise).
  explicit Barrier(size_t participants);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;
  ~Barrier();  // Aborts if a task waits.

  // co_await Wait(): absl::StatusOr<BarrierWaitResult> (see the header comment).
  //
  // Cancellation: a waiting task whose token is cancelled withdraws its arrival and gets
  // absl::CancelledError; a completion that races it wins.
  internal::BarrierWaitAwaiter Wait() { return internal::BarrierWaitAwaiter(this); }

  size_t participants() const noexcept { return participants_; }
  // Generations completed so far.
  uint64_t generation() const;

 private:
  friend class internal::BarrierWaitAwaiter;

  // With lock_ held: if the caller's arrival is the n-th, completes the generation (granting the
  // waiters into `woken`) and returns true.
  bool TryCompleteLocked(internal::WakeList* woken) ABSL_EXCLUSIVE_LOCKS_REQUIRED(lock_);
  static void AfterWaiterRemoved(void* self, internal::WakeList* woken);
  internal::WaitSite site() { return {&lock_, &queue_, &AfterWaiterRemoved, this}; }

  const size_t participants_;
  mutable internal::SpinLock lock_;
  internal::BudgetYielders budget_yielders_;   // Waiters too, for the destructor (budget.h).
  size_t arrived_ ABSL_GUARDED_BY(lock_) = 0;  // The tasks in queue_.
  uint64_t generation_ ABSL_GUARDED_BY(lock_) = 0;
  internal::WaiterList queue_ ABSL_GUARDED_BY(lock_);
};

}  // namespace coral

#endif  // CORAL_BARRIER_H_
