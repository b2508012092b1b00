// Copyright 2026 The coral Authors.
//
// coral::Select: waits on several channel receives at once.
//
//   absl::StatusOr<coral::SelectResult<Job, Command>> got = co_await coral::Select(jobs, commands);
//   if (!got.ok()) co_return got.status();               // Cancelled.
//   if (got->index == 0) Handle(*std::get<0>(got->value));  // absl::StatusOr<Job>
//
// Exactly one branch completes: the first receiver to have a value, or to be closed and drained
// (its result is then absl::OutOfRangeError). When several are ready at once, the earliest in the
// argument list wins. The losing branches consume nothing: a value is handed to a Select only
// after the Select has been claimed for that branch, atomically, so a message sent to a losing
// branch stays in its channel for the next receiver.
//
// A waiting Select keeps its channels alive, so the receivers may be dropped meanwhile; a
// moved-from receiver aborts with a message.
//
// Cancellation: the current task's token is one more branch. If it is cancelled before any
// channel completes, Select returns absl::CancelledError and consumed nothing. A task aborted
// after a branch won puts the value it was handed back into that channel.

#ifndef CORAL_SELECT_H_
#define CORAL_SELECT_H_

#include <array>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/channel.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/wait_queue.h"

namespace coral {

template <typename... Ts>
struct SelectResult {
  size_t index;                                // The branch that completed.
  std::variant<absl::StatusOr<Ts>...> value;  // Its receive result, at that index.
};

namespace internal {

TaskHeader* CurrentTaskForSelect();

template <typename... Ts>
class [[nodiscard]] SelectAwaiter : private CancellableWait {
  static constexpr size_t kBranches = sizeof...(Ts);
  using Indices = std::index_sequence_for<Ts...>;

 public:
  explicit SelectAwaiter(ChannelState<Ts>*... states) : states_(states...) {}
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
    if (referenced_) std::apply([](auto*... state) { (state->DropReference(), ...); }, states_);
  }

  bool await_ready() { return SpendBudget() && TryAll(Indices{}); }

  bool await_suspend(std::coroutine_handle<> self) {
    // A budget yield (budget.h) holds the channels as a wait does: the select retries next turn.
    if (budget_.YieldIfSpent(this, self)) return HoldChannels();
    task_ = CurrentTaskForSelect();
    if (CancellableWait::AlreadyCancelled(task_)) {
      claim_.winner.store(SelectClaim::kCancelled, std::memory_order_relaxed);  // Not shared yet.
      return false;
    }
    task_->set_resume_point(self);
    task_->AddReference();  // The waker reference, for whichever branch claims the select.
    // The channels outlive the wait, whatever happens to the receivers meanwhile.
    HoldChannels();
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
    auto* state = std::get<I>(states_);
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
    auto* state = std::get<I>(states_);
    auto& slot = std::get<I>(slots_);
    bool decided = true;
    bool popped = false;
    {
      SpinLockHolder hold(&state->lock());
      // relaxed: only a hint that another branch won; the claim CAS decides.
      if (claim_.winner.load(std::memory_order_relaxed) != SelectClaim::kNone) {
        // Decided elsewhere.
      } else {
        state->CountReceiverLocked();
        popped = state->TryPopLocked(&slot);
        if (popped || state->closed_locked()) {
          state->UncountReceiverLocked();
          *won_by_us = claim_.TryClaim(static_cast<int>(I));
          if (!*won_by_us && popped) {  // Another branch won meanwhile: the value stays here.
            state->SpillLocked(*std::move(slot));
            slot.reset();
          }
        } else {
          Waiter& waiter = waiters_[I];
          waiter.task = task_;
          waiter.payload = &slot;
          waiter.claim = &claim_;
          waiter.branch = static_cast<int>(I);
          state->LinkReceiverLocked(&waiter);
          decided = false;
        }
      }
    }
    if (popped) state->Rebalance();
    return decided;
  }

  template <size_t... I>
  void UnlinkAll(std::index_sequence<I...>) {
    (UnlinkOne<I>(), ...);
  }
  template <size_t I>
  void UnlinkOne() {
    SpinLockHolder hold(&std::get<I>(states_)->lock());
    std::get<I>(states_)->UnlinkReceiverLocked(&waiters_[I]);
  }

  template <size_t... I>
  void ReturnWon(std::index_sequence<I...>) {
    (ReturnOne<I>(), ...);
  }
  template <size_t I>
  void ReturnOne() {
    auto& slot = std::get<I>(slots_);
    if (slot.has_value()) std::get<I>(states_)->Reoffer(*std::move(slot));
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
    if (!slot.has_value()) (void)std::get<I>(states_)->TryPop(&slot);
    absl::StatusOr<T> value =
        slot.has_value() ? absl::StatusOr<T>(*std::move(slot)) : ChannelClosedForRecv();
    return SelectResult<Ts...>{I, std::variant<absl::StatusOr<Ts>...>(std::in_place_index<I>,
                                                                        std::move(value))};
  }

  std::tuple<ChannelState<Ts>*...> states_;
  std::tuple<std::optional<Ts>...> slots_;
  std::array<Waiter, kBranches> waiters_;
  SelectClaim claim_;
  TaskHeader* task_ = nullptr;
  bool suspended_ = false;
  bool HoldChannels() {
    if (!referenced_) std::apply([](auto*... state) { (state->AddReference(), ...); }, states_);
    referenced_ = true;
    return true;
  }

  bool referenced_ = false;  // Holds a reference to every channel (once it waited or yielded).
  BudgetRetry<SelectAwaiter> budget_;
};

}  // namespace internal

// co_await Select(rx...): absl::StatusOr<SelectResult<Ts...>> (see the header comment).
template <typename... Ts>
internal::SelectAwaiter<Ts...> Select(Receiver<Ts>&... receivers) {
  static_assert(sizeof...(Ts) >= 1, "coral::Select needs at least one receiver");
  return internal::SelectAwaiter<Ts...>(receivers.state()...);
}

}  // namespace coral

#endif  // CORAL_SELECT_H_
