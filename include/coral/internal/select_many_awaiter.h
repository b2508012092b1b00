// Copyright 2026 The coral Authors.
//
// The machinery of coral::SelectAny (coral/select.h): Select over a runtime-sized set of
// receivers of one type. Private to coral.
//
// The protocol is Select's (select_awaiter.h, whose invariants hold here branch for branch): one
// SelectClaim shared by a waiter per branch, nothing handed to a branch before its claim
// succeeded, a value popped for a branch that then lost spilled back into its channel, the
// channels referenced from the first suspension to the destruction. What differs is the order in
// which branches are tried: from a start chosen at random for each SelectAny (SelectStart), then
// around, so that when several branches are ready each wins with equal chance, and a branch that
// is always ready (a closed, drained channel) cannot shut the others out.

#ifndef CORAL_INTERNAL_SELECT_MANY_AWAITER_H_
#define CORAL_INTERNAL_SELECT_MANY_AWAITER_H_

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/channel_state.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/wait_queue.h"

namespace coral {

template <typename T>
struct SelectAnyResult;  // select.h

namespace internal {

TaskHeader* CurrentTaskForSelect();
// A uniformly random branch in [0, branches), from a generator of the calling thread.
size_t SelectStart(size_t branches);

template <typename T>
class [[nodiscard]] SelectManyAwaiter : private CancellableWait {
 public:
  SelectManyAwaiter(std::vector<ChannelState<T>*> channels, size_t start)
      : channels_(std::move(channels)),
        start_(start),
        slots_(channels_.size()),
        waiters_(std::make_unique<Waiter[]>(channels_.size())) {}
  SelectManyAwaiter(const SelectManyAwaiter&) = delete;
  SelectManyAwaiter& operator=(const SelectManyAwaiter&) = delete;
  ~SelectManyAwaiter() {
    if (suspended_) {
      Disarm();
      UnlinkAll();
      if (claim_.TryClaim(SelectClaim::kCancelled)) {
        task_->DropReference();  // Nobody won: the waker reference is still ours.
      } else {
        ReturnWon();  // Torn down after a branch won: give its value back.
      }
    }
    if (held_) {
      for (ChannelState<T>* channel : channels_) channel->DropReference();
    }
  }

  bool await_ready() {
    if (!SpendBudget()) return false;
    for (size_t k = 0; k < channels_.size(); ++k) {
      if (TryOne(Branch(k))) return true;
    }
    return false;
  }

  bool await_suspend(std::coroutine_handle<> self) {
    if (budget_.YieldIfSpent(this, self)) {
      Hold();  // The retry on the next turn needs the channels, as a wait does.
      return true;
    }
    task_ = CurrentTaskForSelect();
    if (CancellableWait::AlreadyCancelled(task_)) {
      claim_.winner.store(SelectClaim::kCancelled, std::memory_order_relaxed);  // Not shared yet.
      return false;
    }
    task_->set_resume_point(self);
    task_->AddReference();  // The waker reference, for whichever branch claims the select.
    Hold();
    suspended_ = true;
    bool won_by_us = false;
    for (size_t k = 0; k < channels_.size(); ++k) {
      if (LinkOne(Branch(k), &won_by_us)) break;
    }
    if (won_by_us) {
      task_->DropReference();  // A branch became ready while we linked; we claimed it ourselves.
      return false;
    }
    Arm(task_, &OnCancel);
    return true;  // Someone claims (possibly already has) and wakes us.
  }

  absl::StatusOr<SelectAnyResult<T>> await_resume() {
    if (suspended_) {
      suspended_ = false;
      Disarm();
      UnlinkAll();
    }
    // relaxed: the claim was made by this thread, or by the waker (ordered by the wake-up).
    const int winner = claim_.winner.load(std::memory_order_relaxed);
    if (winner == SelectClaim::kCancelled) return absl::CancelledError("cancelled in SelectAny");
    const size_t index = static_cast<size_t>(winner);
    std::optional<T>& slot = slots_[index];
    // Woken by the close: whatever is still buffered comes first.
    if (!slot.has_value()) (void)channels_[index]->TryPop(&slot);
    absl::StatusOr<T> value =
        slot.has_value() ? absl::StatusOr<T>(*std::move(slot)) : ChannelClosedForRecv();
    slot.reset();
    return SelectAnyResult<T>{index, std::move(value)};
  }

 private:
  static void OnCancel(CancellationNode* node) {
    auto* self = static_cast<SelectManyAwaiter*>(FromNode(node));
    if (self->claim_.TryClaim(SelectClaim::kCancelled)) {
      self->MarkCancelled(self->task_);  // For Timeout (CancellationState::MarkObserved).
      Wake(self->task_);
    }
  }

  // The k-th branch to try.
  size_t Branch(size_t k) const { return (start_ + k) % channels_.size(); }

  void Hold() {
    if (held_) return;
    for (ChannelState<T>* channel : channels_) channel->AddReference();
    held_ = true;
  }

  // Fast path, nothing linked yet: branch i has a value, or is closed and drained.
  bool TryOne(size_t i) {
    if (!channels_[i]->TryPop(&slots_[i]) && !channels_[i]->closed()) return false;
    claim_.winner.store(static_cast<int>(i), std::memory_order_relaxed);  // Not shared yet.
    return true;
  }

  // Links branch i unless it is ready; returns true to stop linking (the select is decided).
  bool LinkOne(size_t i, bool* won_by_us) {
    return LinkSelectBranch(channels_[i], &claim_, static_cast<int>(i), task_, &slots_[i],
                            &waiters_[i], won_by_us);
  }

  void UnlinkAll() {
    for (size_t i = 0; i < channels_.size(); ++i) {
      SpinLockHolder hold(&channels_[i]->lock());
      channels_[i]->UnlinkReceiverLocked(&waiters_[i]);
    }
  }

  void ReturnWon() {
    for (size_t i = 0; i < channels_.size(); ++i) {
      if (slots_[i].has_value()) channels_[i]->Reoffer(*std::move(slots_[i]));
    }
  }

  std::vector<ChannelState<T>*> channels_;
  size_t start_;
  bool held_ = false;  // Holds a reference to every channel.
  bool suspended_ = false;
  std::vector<std::optional<T>> slots_;
  std::unique_ptr<Waiter[]> waiters_;  // Never reallocated while linked.
  SelectClaim claim_;
  TaskHeader* task_ = nullptr;
  BudgetRetry<SelectManyAwaiter> budget_;
};

}  // namespace internal
}  // namespace coral

#endif  // CORAL_INTERNAL_SELECT_MANY_AWAITER_H_
