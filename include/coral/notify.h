// Copyright 2026 The coral Authors.
//
// coral::Notify: wakes waiting tasks, one or all (Tokio's Notify).
//
//   coral::Notify changed;
//   ... a consumer:  absl::Status s = co_await changed.Notified();
//   ... a producer:  changed.NotifyOne();
//
// NotifyOne wakes the longest waiter; if nobody waits it stores one permit (at most one), which
// the next Notified() consumes at once, so a notification sent just before the consumer starts
// waiting is not lost. NotifyAll wakes every task waiting at that moment and stores nothing. Any
// thread may notify; woken tasks are scheduled, never resumed inside the call.
//
// Cancellation: a waiter whose token is cancelled stops waiting and Notified() returns
// absl::CancelledError; a NotifyOne that reached it at the same moment wins (Notified() returns
// OK). A task aborted after a NotifyOne chose it passes the notification on.
//
// Misuse: destroying a Notify while a task waits on it aborts with a message (a task inside
// co_await Notified() counts as waiting from the start, also while it yields its worker for the
// cooperative budget).

#ifndef CORAL_NOTIFY_H_
#define CORAL_NOTIFY_H_

#include <coroutine>

#include "absl/status/status.h"
#include "coral/internal/budget.h"
#include "coral/internal/wait_queue.h"

namespace coral {

class Notify;

namespace internal {

class [[nodiscard]] NotifiedAwaiter final : public QueuedWait {
 public:
  explicit NotifiedAwaiter(Notify* notify) : notify_(notify) {}
  ~NotifiedAwaiter();

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self);
  absl::Status await_resume();

 private:
  Notify* notify_;
  BudgetRetry<NotifiedAwaiter> budget_;
};

}  // namespace internal

class Notify {
 public:
  Notify() = default;
  Notify(const Notify&) = delete;
  Notify& operator=(const Notify&) = delete;
  ~Notify();  // Aborts if a task waits.

  void NotifyOne();
  void NotifyAll();
  // co_await Notified(): absl::Status, OK when notified.
  internal::NotifiedAwaiter Notified() { return internal::NotifiedAwaiter(this); }

 private:
  friend class internal::NotifiedAwaiter;
  internal::WaitSite site() { return {&lock_, &queue_, nullptr, this}; }

  internal::SpinLock lock_;
  bool permit_ = false;                       // Guarded by lock_.
  internal::BudgetYielders budget_yielders_;  // Waiters too, for the destructor (budget.h).
  internal::WaiterList queue_;                // Guarded by lock_; weight 1: woken by NotifyOne.
};
static_assert(internal::kModelCheck || sizeof(Notify) == 24,
              "budget_yielders_ sits in the padding after the lock");

}  // namespace coral

#endif  // CORAL_NOTIFY_H_
