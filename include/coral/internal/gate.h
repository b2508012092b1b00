// Copyright 2026 The coral Authors.
//
// Gate: a flag that, while open, lets every waiter through. Private to coral; Event and Latch are
// built on it.

#ifndef CORAL_INTERNAL_GATE_H_
#define CORAL_INTERNAL_GATE_H_

#include <atomic>
#include <coroutine>

#include "absl/status/status.h"
#include "coral/internal/budget.h"
#include "coral/internal/wait_queue.h"

namespace coral::internal {

class Gate {
 public:
  class [[nodiscard]] Awaiter final : public QueuedWait {
   public:
    explicit Awaiter(Gate* gate) : gate_(gate) {}
    ~Awaiter() { (void)AbandonWait(gate_->site()); }  // Nothing to give back.

    bool await_ready() const noexcept { return SpendBudget() && gate_->IsOpen(); }
    bool await_suspend(std::coroutine_handle<> self);
    absl::Status await_resume();

   private:
    Gate* gate_;
    BudgetRetry<Awaiter> budget_;
  };

  explicit Gate(bool open) : open_(open) {}
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  ~Gate();  // Aborts if a task waits.

  bool IsOpen() const noexcept {
    // acquire: a waiter that sees the gate open sees what the opener did before opening it.
    return open_.load(std::memory_order_acquire);
  }
  // Opens the gate and wakes every waiter.
  void Open();
  void Close();
  Awaiter Wait() { return Awaiter(this); }

 private:
  WaitSite site() { return {&lock_, &queue_, nullptr, this}; }

  SpinLock lock_;
  std::atomic<bool> open_;          // Changed under lock_.
  BudgetYielders budget_yielders_;  // Waiters too, for the destructor (budget.h). In padding.
  WaiterList queue_;                // Guarded by lock_.
};
static_assert(kModelCheck || sizeof(Gate) == 24,
              "budget_yielders_ sits in the padding after the lock");

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_GATE_H_
