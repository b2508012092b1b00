// Copyright 2026 The coral Authors.
//
// The machinery of coral::Select (coral/select.h). Private to coral.
//
// Select has a claim protocol of its own beside the shared wait queue (wait_queue.h): one task
// waits in several channels' receiver lists at once, so "granted by the primitive" cannot be one
// queue's decision.
//
// Invariants:
//   - A Select's waiters (one per branch, in waiters_) share one SelectClaim. Its winner goes from
//     kNone to a branch index or to kCancelled by one CAS, once; nothing is handed to a waiter
//     before its claim succeeded, so a losing branch never consumes a value.
//   - Before linking anything, each branch is tried in argument order (a value, or closed and
//     drained); the first ready one wins, and the claim, not yet shared, is a plain store.
//   - Otherwise the Select takes a waker reference on its task and links branch by branch, each
//     under its channel's lock: it counts itself as a waiting receiver, tries once more, and
//     either links the waiter or claims the branch itself (and stops linking). A value it popped
//     for a branch whose claim it then lost (to another branch or the cancellation) goes back to
//     that channel's spilled values.
//   - Whoever pops a Select's waiter from a channel (a hand-over, Rebalance, Close) claims it
//     first; the one claim that succeeds consumes the waker reference by waking the task, and the
//     losers just drop the waiter from their list. The task's cancellation callback claims
//     kCancelled and wakes the task the same way.
//   - After resuming, and in its destructor, the Select unlinks its remaining waiters, each under
//     its channel's lock. A Select destroyed before anyone claimed it claims kCancelled itself and
//     drops the waker reference; one destroyed after a branch won re-offers the value it was
//     handed to that channel.
//   - Its channels are kept alive by a ChannelHold (channel_state.h) from the first suspension (a
//     wait or a budget yield) to its destruction.

#ifndef CORAL_INTERNAL_SELECT_AWAITER_H_
#define CORAL_INTERNAL_SELECT_AWAITER_H_

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/channel_state.h"
#include "coral/internal/check.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/wait_queue.h"

namespace coral {

template <typename T>
class Receiver;  // channel.h
template <typename... Ts>
struct SelectResult;  // select.h

namespace internal {

TaskHeader* CurrentTaskForSelect();

// Lets Select reach a receiver's channel without a public accessor.
struct ChannelAccess {
  template <typename T>
  static ChannelState<T>* SelectState(const Receiver<T>& receiver) {
    CORAL_CHECK(receiver.state_ != nullptr, "coral::Select on a moved-from coral::Receiver");
    return receiver.state_;
  }
};

// co_await Select (select.h).
template <typename... Ts>
class [[nodiscard]] SelectAwaiter : private CancellableWait {
  static constexpr size_t kBranches = sizeof...(Ts);
  using Indices = std::index_sequence_for<Ts...>;

 public:
  explicit SelectAwaiter(ChannelState<Ts>*... states) : channels_(states...) {}
  SelectAwaiter(const SelectAwaiter&) = delete;
  SelectAwaiter& operator=(const SelectAwaiter&) = delete;
  ~SelectAwaiter() {
    if (suspended_) {
      Disarm();
      UnlinkAll(Indices{});
      if (claim_.TryClaim(SelectClaim::kCancelled)) {
        task_->DropReference();  // Nobody won: the waker reference is still ours.
      } else {
        ReturnWon(Indices{});  // Torn down after a branch won: give its value back.
      }
    }
  }

  bool await_ready() { return SpendBudget() && TryAll(Indices{}); }

  bool await_suspend(std::coroutine_handle<> self) {
    if (budget_.YieldIfSpent(this, self)) {
      channels_.Hold();  // The retry on the next turn needs the channels, as a wait does.
      return true;
    }
    task_ = CurrentTaskForSelect();
    if (CancellableWait::AlreadyCancelled(task_)) {
      claim_.winner.store(SelectClaim::kCancelled, std::memory_order_relaxed);  // Not shared yet.
      return false;
    }
    task_->set_resume_point(self);
    task_->AddReference();  // The waker reference, for whichever branch claims the select.
    // The channels outlive the wait, whatever happens to the receivers meanwhile.
    channels_.Hold();
    suspended_ = true;
    bool won_by_us = false;
    LinkAll(Indices{}, &won_by_us);
    if (won_by_us) {
      // A branch became ready while we linked the others, and we claimed it ourselves.
      task_->DropReference();
      return false;
    }
    Arm(task_, &OnCancel);
    return true;  // Someone claims (possibly already has) and wakes us.
  }

  absl::StatusOr<SelectResult<Ts...>> await_resume() {
    if (suspended_) {
      suspended_ = false;
      Disarm();
      UnlinkAll(Indices{});
    }
    // relaxed: the claim was made by this thread, or by the waker (ordered by the wake-up).
    const int winner = claim_.winner.load(std::memory_order_relaxed);
    if (winner == SelectClaim::kCancelled) return absl::CancelledError("cancelled in Select");
    return Result(static_cast<size_t>(winner), Indices{});
  }

 private:
  static void OnCancel(CancellationNode* node) {
    auto* self = static_cast<SelectAwaiter*>(FromNode(node));
    if (self->claim_.TryClaim(SelectClaim::kCancelled)) {
      self->MarkCancelled(self->task_);  // For Timeout (CancellationState::MarkObserved).
      Wake(self->task_);
    }
  }

  // Fast path, nothing linked yet: branch I has a value, or is closed and drained.
  template <size_t... I>
  bool TryAll(std::index_sequence<I...>) {
    bool done = false;
    ((done = done || TryOne<I>()), ...);
    return done;
  }
  template <size_t I>
  bool TryOne() {
    auto* state = channel<I>();
    if (!state->TryPop(&std::get<I>(slots_)) && !state->closed()) return false;
    claim_.winner.store(static_cast<int>(I), std::memory_order_relaxed);  // Not shared yet.
    return true;
  }

  template <size_t... I>
  void LinkAll(std::index_sequence<I...>, bool* won_by_us) {
    bool stop = false;
    ((stop = stop || LinkOne<I>(won_by_us)), ...);
  }
  // Links branch I unless it is ready; returns true to stop linking (the select is decided).
  template <size_t I>
  bool LinkOne(bool* won_by_us) {
    return LinkSelectBranch(channel<I>(), &claim_, static_cast<int>(I), task_, &std::get<I>(slots_),
                            &waiters_[I], won_by_us);
  }

  template <size_t... I>
  void UnlinkAll(std::index_sequence<I...>) {
    (UnlinkOne<I>(), ...);
  }
  template <size_t I>
  void UnlinkOne() {
    SpinLockHolder hold(&channel<I>()->lock());
    channel<I>()->UnlinkReceiverLocked(&waiters_[I]);
  }

  template <size_t... I>
  void ReturnWon(std::index_sequence<I...>) {
    (ReturnOne<I>(), ...);
  }
  template <size_t I>
  void ReturnOne() {
    auto& slot = std::get<I>(slots_);
    if (slot.has_value()) channel<I>()->Reoffer(*std::move(slot));
  }

  template <size_t... I>
  SelectResult<Ts...> Result(size_t winner, std::index_sequence<I...>) {
    std::optional<SelectResult<Ts...>> result;
    ((I == winner ? (result.emplace(ResultOf<I>()), 0) : 0), ...);
    return *std::move(result);
  }
  template <size_t I>
  SelectResult<Ts...> ResultOf() {
    using T = std::tuple_element_t<I, std::tuple<Ts...>>;
    auto& slot = std::get<I>(slots_);
    // Woken by the close: whatever is still buffered comes first.
    if (!slot.has_value()) (void)channel<I>()->TryPop(&slot);
    absl::StatusOr<T> value =
        slot.has_value() ? absl::StatusOr<T>(*std::move(slot)) : ChannelClosedForRecv();
    return SelectResult<Ts...>{
        I, std::variant<absl::StatusOr<Ts>...>(std::in_place_index<I>, std::move(value))};
  }

  template <size_t I>
  auto* channel() const {
    return channels_.template get<I>();
  }

  // no_unique_address: suspended_ fits in the holder's tail padding (the awaiter is no larger
  // than with a flag beside suspended_).
  [[no_unique_address]] ChannelHold<Ts...> channels_;
  bool suspended_ = false;
  std::tuple<std::optional<Ts>...> slots_;
  std::array<Waiter, kBranches> waiters_;
  SelectClaim claim_;
  TaskHeader* task_ = nullptr;
  BudgetRetry<SelectAwaiter> budget_;
};

}  // namespace internal
}  // namespace coral

#endif  // CORAL_INTERNAL_SELECT_AWAITER_H_
