// Copyright 2026 The coral Authors.
//
// The machinery of coral::Channel (coral/channel.h): the state a channel's handles share, the
// Send and Recv awaiters, and the keep-alive holder they and Select (select_awaiter.h) use.
// Private to coral.
//
// A channel's values move through its buffer without the channel's lock: a BoundedRing
// (bounded_ring.h, lock-free) or an UnboundedQueue (unbounded_queue.h, under a spin lock of its
// own). The channel's lock_ is taken only by tasks that must wait and by whoever hands over to
// them, on the shared waiting protocol of wait_queue.h.
//
// Invariants:
//   - Whenever lock_ is free, senders_waiting_ and receivers_waiting_ are the lengths of
//     senders_list_ and receivers_list_. A would-be waiter takes lock_, counts itself, tries the
//     buffer once more, and then either uncounts itself or links itself before releasing lock_;
//     whoever unlinks a waiter (a hand-over, a cancellation, Close, a Select leaving) uncounts it
//     in the same hold of lock_.
//   - No lost wake-up. The counts and the buffer's publications (the ring's turns, the queue's
//     published_) are seq_cst; a would-be waiter stores its count before its last try, and whoever
//     changes the buffer without lock_ reads the counts after the change: of the two, one sees the
//     other. A push that sees receivers waiting hands its value over: straight into the first
//     receiver's slot if nothing is buffered or spilled, else through the buffer and Rebalance, so
//     that receivers get values in order. A pop that sees senders waiting lets them in once the
//     buffer is down to half its capacity (Rebalance), so that a full channel costs one lock and
//     one wake-up per half buffer rather than per value. An unbounded channel's senders never wait.
//   - A hand-over happens under lock_, in FIFO order: a waiting sender's value goes into the
//     buffer, a value goes into a waiting receiver's slot (the waiter's payload). The waiter is
//     unlinked and granted under lock_, and woken after lock_ is released.
//   - receivers_list_ may hold branches of a Select that another branch won; whoever pops one
//     fails its claim (Waiter::Claim) and drops it. A receiver's slot is filled only after its
//     claim succeeded, so a losing branch never consumes a value.
//   - spilled_ holds values taken out of the buffer for a receiver that could no longer use them
//     (a receiver torn down after the hand-over, a Select branch that lost after it popped). They
//     are older than everything buffered, so every pop takes them first; spilled_count_ mirrors
//     the size for lock-free pops.
//   - Close sets closed_flag_ and closes the buffer under lock_ and empties both lists, waking
//     each waiter whose claim it wins with `closed` set. A waiter reads closed_flag_ under lock_
//     before it links, so none links after the close. The buffer refuses every push after its
//     close, and its pops wait for pushes already under way (bounded_ring.h): so a receive that
//     finds the channel closed (either flag) and then the buffer empty has seen every value whose
//     send succeeded. Every "closed" answer to a receive is therefore given only after one more
//     pop, made after seeing the close.
//   - References: one per handle, and one per awaiter that may suspend (ChannelHold); the last
//     drop deletes the state. The last Sender's drop closes the channel; the last Receiver's drop
//     closes it and destroys the buffered and spilled values.

#ifndef CORAL_INTERNAL_CHANNEL_STATE_H_
#define CORAL_INTERNAL_CHANNEL_STATE_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <new>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/bounded_ring.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/check.h"
#include "coral/internal/fault_injection.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/sync_primitives.h"
#include "coral/internal/unbounded_queue.h"
#include "coral/internal/wait_queue.h"

namespace coral {

template <typename T>
struct SendResult;  // channel.h

namespace internal {

absl::Status ChannelClosedForSend();
absl::Status ChannelClosedForRecv();
absl::Status ChannelEmpty();
absl::Status ChannelFull();
absl::Status ChannelOutOfMemory();

// Lets Select reach a receiver's channel (select_awaiter.h), as TaskAccess lets Spawn reach a
// Task's frame.
struct ChannelAccess;

// The capacity that makes a ChannelState unbounded (Bounded capacities are at least 1).
inline constexpr size_t kUnboundedCapacity = 0;

// A channel's values: a bounded channel's ring, or an unbounded channel's queue (whose ring then
// has no cells). The test is one compare of the ring's first field.
template <typename T>
class ChannelBuffer {
 public:
  explicit ChannelBuffer(size_t capacity) : ring_(capacity) {}

  // Moves *value in and resets it; false if full.
  bool TryPush(std::optional<T>* value) {
    if (unbounded()) [[unlikely]]
      return queue_.TryPush(value);
    return ring_.TryPush(value);
  }
  // Moves the oldest value into *out; false if empty.
  bool TryPop(std::optional<T>* out) {
    if (unbounded()) [[unlikely]]
      return queue_.TryPop(out);
    return ring_.TryPop(out);
  }
  bool Empty() const {
    if (unbounded()) [[unlikely]]
      return queue_.Size() == 0;
    return ring_.ApproximateSize() == 0;
  }
  bool AtMostHalfFull() const {
    if (unbounded()) [[unlikely]]
      return true;
    return ring_.AtMostHalfFull();
  }
  // Refuses every later push; a pop that then finds it empty has seen every value pushed.
  void Close() {
    if (unbounded()) [[unlikely]]
      return queue_.Close();
    ring_.Close();
  }
  bool closed() const {
    if (unbounded()) [[unlikely]]
      return queue_.closed();
    return ring_.closed();
  }

 private:
  bool unbounded() const { return ring_.capacity() == kUnboundedCapacity; }

  BoundedRing<T> ring_;
  UnboundedQueue<T> queue_;
};

// The shared state of a channel (see the header comment).
template <typename T>
class ChannelState {
 public:
  explicit ChannelState(size_t capacity) : buffer_(capacity) {}

  // Made by Channel::Bounded and Channel::Unbounded, which throw std::bad_alloc if it cannot be.
  static void* operator new(size_t size) {
    MaybeFailAllocation(AllocationSite::kChannelNode);
    return ::operator new(size);
  }
  static void operator delete(void* state) noexcept { ::operator delete(state); }

  // --- Handles. relaxed increments: the caller holds a handle already (as shared_ptr's copy).
  void AddSender() { senders_.fetch_add(1, std::memory_order_relaxed); }
  void AddReceiver() { receivers_.fetch_add(1, std::memory_order_relaxed); }
  void AddReference() { references_.fetch_add(1, std::memory_order_relaxed); }
  void DropSender() {
    // acq_rel: the last sender's sends happen before the close.
    if (senders_.fetch_sub(1, std::memory_order_acq_rel) == 1) Close(/*discard=*/false);
    DropReference();
  }
  void DropReceiver() {
    if (receivers_.fetch_sub(1, std::memory_order_acq_rel) == 1) Close(/*discard=*/true);
    DropReference();
  }
  void DropReference() {
    // acq_rel: every handle's use happens before the deletion.
    if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  bool closed() const { return buffer_.closed(); }

  // --- Without the lock.
  // Throws std::bad_alloc (the value untouched) if an unbounded channel cannot allocate a node.
  bool TryPush(std::optional<T>* value) {
    // A closed buffer refuses the push; Close emptied the receivers' list, so none is handed it.
    // seq_cst: see the header comment. A receiver waits only on an empty buffer: hand it over.
    if (receivers_waiting_.load(std::memory_order_seq_cst) != 0 && HandToReceiver(value)) {
      return true;
    }
    if (!buffer_.TryPush(value)) return false;
    if (receivers_waiting_.load(std::memory_order_seq_cst) != 0) Rebalance();
    return true;
  }
  bool TryPop(std::optional<T>* out) {
    // relaxed: a hint; values are re-offered only by torn-down receivers and lost Select branches.
    if (spilled_count_.load(std::memory_order_relaxed) != 0) {
      SpinLockHolder hold(&lock_);
      if (TakeSpilledLocked(out)) return true;
    }
    if (!buffer_.TryPop(out)) return false;
    // As above. Waiting senders are let in once the buffer is down to half its capacity (the
    // last pop that sees them below the mark does it), so a full channel costs one lock and one
    // wake-up per half buffer rather than per value.
    if (senders_waiting_.load(std::memory_order_seq_cst) != 0 && buffer_.AtMostHalfFull()) {
      Rebalance();
    }
    return true;
  }

  // Takes lock_ and hands values between the buffer and the waiters until nothing moves. For
  // whoever changed the buffer while holding the lock (the waiters' last tries), after unlocking.
  void Rebalance() {
    WakeList woken;
    {
      SpinLockHolder hold(&lock_);
      for (bool progress = true; progress;) {
        progress = false;
        std::optional<T> value;
        while (!receivers_list_.empty() && TryPopLocked(&value)) {
          if (TaskHeader* task = GiveToWaitingReceiverLocked(&value)) {
            woken.push_back(task);
            progress = true;
          }
          if (value.has_value()) {  // Every waiter left was a lost Select branch.
            SpillLocked(*std::move(value));
            break;
          }
        }
        while (Waiter* sender = senders_list_.front()) {
          if (!buffer_.TryPush(static_cast<std::optional<T>*>(sender->payload))) break;
          senders_list_.Remove(sender);
          UncountSenderLocked();
          woken.push_back(Grant(sender));
          progress = true;
        }
      }
    }
    WakeAll(woken);
  }

  // --- Under lock_: the waiting side.
  SpinLock& lock() { return lock_; }
  // Counts a would-be waiter in before its last try (undone by Uncount or by unlinking).
  // The counts change only under lock_, so a load and a store do (no read-modify-write). seq_cst
  // on the count's store: see the header comment. relaxed when uncounting: a stale nonzero count
  // only costs a peer a look under the lock.
  void CountSenderLocked() { Add(&senders_waiting_, 1, std::memory_order_seq_cst); }
  void UncountSenderLocked() { Add(&senders_waiting_, -1, std::memory_order_relaxed); }
  void CountReceiverLocked() { Add(&receivers_waiting_, 1, std::memory_order_seq_cst); }
  void UncountReceiverLocked() { Add(&receivers_waiting_, -1, std::memory_order_relaxed); }
  bool closed_locked() const { return closed_flag_; }
  // The buffer without the hand-over to waiters (the caller holds lock_, and calls Rebalance()
  // after releasing it if the buffer changed). TryPopLocked takes re-offered values first.
  bool TryPushLocked(std::optional<T>* value) { return buffer_.TryPush(value); }
  bool TryPopLocked(std::optional<T>* out) { return TakeSpilledLocked(out) || buffer_.TryPop(out); }
  void SpillLocked(T value) {
    // Its callers (a receiver's destructor, Rebalance handing values over for others) can
    // neither report a failure nor drop the value.
    try {
      spilled_.push_back(std::move(value));
    } catch (const std::bad_alloc&) {
      FatalOutOfMemory("a channel value re-offered to receivers", __FILE__, __LINE__);
    }
    spilled_count_.store(spilled_.size(), std::memory_order_relaxed);  // relaxed: a hint.
  }
  // Select: links a counted receiver waiter; unlinks it (and uncounts it) if still linked.
  void LinkReceiverLocked(Waiter* waiter) { receivers_list_.PushBack(waiter); }
  void UnlinkReceiverLocked(Waiter* waiter) {
    if (waiter->linked) {
      receivers_list_.Remove(waiter);
      UncountReceiverLocked();
    }
  }

  // A value taken for a receiver that can no longer use it (a torn-down task, a Select another
  // branch won): to the first waiting receiver, else kept aside, ahead of the buffer, for the
  // next receiver.
  void Reoffer(T value) {
    std::optional<T> offered(std::move(value));
    TaskHeader* wake = nullptr;
    {
      SpinLockHolder hold(&lock_);
      wake = GiveToWaitingReceiverLocked(&offered);
    }
    if (wake != nullptr) Wake(wake);
    if (offered.has_value()) {
      SpinLockHolder hold(&lock_);
      SpillLocked(*std::move(offered));  // Taken before the buffer by the next receiver.
    }
  }
  void Close(bool discard) {
    WakeList woken;
    {
      SpinLockHolder hold(&lock_);
      closed_flag_ = true;
      buffer_.Close();
      for (WaiterList* list : {&senders_list_, &receivers_list_}) {
        while (Waiter* waiter = list->PopFront()) {
          Add(list == &senders_list_ ? &senders_waiting_ : &receivers_waiting_, -1,
              std::memory_order_relaxed);
          if (!waiter->Claim()) continue;  // A Select that another branch already won.
          waiter->closed = true;
          woken.push_back(waiter->task);
        }
      }
      if (discard) {
        spilled_.clear();
        spilled_count_.store(0, std::memory_order_relaxed);  // relaxed: a hint.
      }
    }
    WakeAll(woken);
    if (discard) {
      std::optional<T> value;
      while (buffer_.TryPop(&value)) value.reset();
    }
  }

  WaitSite send_site() { return {&lock_, &senders_list_, &SenderRemoved, this}; }
  WaitSite recv_site() { return {&lock_, &receivers_list_, &ReceiverRemoved, this}; }

 private:
  static void Add(Atomic<int64_t>* count, int64_t delta, std::memory_order order) {
    // relaxed load: under lock_, the last store was ours or ordered by the lock.
    count->store(count->load(std::memory_order_relaxed) + delta, order);
  }

  bool TakeSpilledLocked(std::optional<T>* out) {
    if (spilled_.empty()) return false;
    out->emplace(std::move(spilled_.front()));
    spilled_.pop_front();
    spilled_count_.store(spilled_.size(), std::memory_order_relaxed);  // relaxed: a hint.
    return true;
  }

  static void SenderRemoved(void* self, WakeList*) {
    static_cast<ChannelState*>(self)->UncountSenderLocked();
  }
  static void ReceiverRemoved(void* self, WakeList*) {
    static_cast<ChannelState*>(self)->UncountReceiverLocked();
  }

  // Gives *value straight to a waiting receiver if the buffer is empty (else it goes behind the
  // values already there, and Rebalance feeds the receivers in order).
  bool HandToReceiver(std::optional<T>* value) {
    TaskHeader* wake = nullptr;
    {
      SpinLockHolder hold(&lock_);
      if (buffer_.Empty() && spilled_.empty()) wake = GiveToWaitingReceiverLocked(value);
    }
    if (wake == nullptr) return false;
    Wake(wake);
    return true;
  }

  // Under lock_: hands *offered to the first waiting receiver that may take it.
  TaskHeader* GiveToWaitingReceiverLocked(std::optional<T>* offered) {
    while (Waiter* receiver = receivers_list_.PopFront()) {
      UncountReceiverLocked();
      if (!receiver->Claim()) continue;  // Its Select was won elsewhere: drop it from the queue.
      *static_cast<std::optional<T>*>(receiver->payload) = std::move(*offered);
      offered->reset();
      return Grant(receiver);
    }
    return nullptr;
  }

  ChannelBuffer<T> buffer_;
  Atomic<int64_t> senders_waiting_{0};    // Changed under lock_ (see the header comment).
  Atomic<int64_t> receivers_waiting_{0};  // Changed under lock_.
  SpinLock lock_;
  bool closed_flag_ = false;         // Guarded by lock_ (buffer_.closed() for lock-free readers).
  WaiterList senders_list_;          // Guarded by lock_; payload: std::optional<T>* offered.
  WaiterList receivers_list_;        // Guarded by lock_; payload: std::optional<T>* slot.
  std::deque<T> spilled_;            // Guarded by lock_: values re-offered when nobody could.
  Atomic<size_t> spilled_count_{0};  // spilled_.size(), for TryPop to look without the lock.
  Atomic<uint32_t> senders_{1};
  Atomic<uint32_t> receivers_{1};
  Atomic<uint32_t> references_{2};
};

// Select's step for one branch, under the branch channel's lock: unless another branch has won,
// takes a value (or the close) for `branch` and claims the select with it, or links `waiter` to
// wait for one. True if the select is decided (by this branch or another); *won_by_us says
// whether this branch won. A value taken by a branch that then lost the claim stays in the channel.
template <typename T>
bool LinkSelectBranch(ChannelState<T>* state, SelectClaim* claim, int branch, TaskHeader* task,
                      std::optional<T>* slot, Waiter* waiter, bool* won_by_us) {
  bool decided = true;
  bool popped = false;
  {
    SpinLockHolder hold(&state->lock());
    // relaxed: only a hint that another branch won; the claim CAS decides.
    if (claim->winner.load(std::memory_order_relaxed) == SelectClaim::kNone) {
      state->CountReceiverLocked();
      popped = state->TryPopLocked(slot);
      if (popped || state->closed_locked()) {
        state->UncountReceiverLocked();
        *won_by_us = claim->TryClaim(branch);
        if (!*won_by_us && popped) {  // Another branch won meanwhile: the value stays here.
          state->SpillLocked(*std::move(*slot));
          slot->reset();
        }
      } else {
        waiter->task = task;
        waiter->payload = slot;
        waiter->claim = claim;
        waiter->branch = branch;
        state->LinkReceiverLocked(waiter);
        decided = false;
      }
    }
  }
  if (popped) state->Rebalance();
  return decided;
}

// The channels an awaiter works on (one for Send and Recv, one per branch for Select), and the
// references that keep them alive while it may be suspended. An awaiter calls Hold() before it
// suspends, to wait or to yield for its budget (budget.h: the operation is retried on the task's
// next turn): from then until the awaiter is destroyed it holds one reference to each channel,
// whatever happens meanwhile to the handles it was made from (tests/budget_lifetime_test.cc).
// Destroyed last (the awaiter's first member), after the awaiter gave back what it was handed.
template <typename... Ts>
class ChannelHold {
 public:
  explicit ChannelHold(ChannelState<Ts>*... states) : states_(states...) {}
  ChannelHold(const ChannelHold&) = delete;
  ChannelHold& operator=(const ChannelHold&) = delete;
  ~ChannelHold() {
    if (held_) std::apply([](auto*... state) { (state->DropReference(), ...); }, states_);
  }

  // Takes the references, the first time.
  void Hold() {
    if (!held_) std::apply([](auto*... state) { (state->AddReference(), ...); }, states_);
    held_ = true;
  }

  template <size_t I = 0>
  auto* get() const {
    return std::get<I>(states_);
  }

 private:
  std::tuple<ChannelState<Ts>*...> states_;
  bool held_ = false;
};

// co_await Sender<T>::Send (channel.h).
template <typename T>
class [[nodiscard]] SendAwaiter {
 public:
  SendAwaiter(ChannelState<T>* state, T value) : channel_(state), value_(std::move(value)) {}
  SendAwaiter(const SendAwaiter&) = delete;
  SendAwaiter& operator=(const SendAwaiter&) = delete;
  ~SendAwaiter() {
    if (wait_) (void)wait_->AbandonWait(state()->send_site());  // A granted value was delivered.
  }

  // Runs in the awaiting coroutine, or in the budget retry's Resumer on the worker (where an
  // exception would have nowhere to go): an unbounded channel's failure to allocate a node is
  // kept for await_resume.
  bool await_ready() {
    if (!SpendBudget()) return false;
    try {
      return state()->TryPush(&value_) || state()->closed();
    } catch (const std::bad_alloc&) {
      out_of_memory_ = true;
      return true;
    }
  }
  // No thread-safety analysis: the lock taken here is released by SuspendLocked, through a
  // WaitSite the analysis cannot trace back to the lock.
  ABSL_NO_THREAD_SAFETY_ANALYSIS bool await_suspend(std::coroutine_handle<> self) {
    if (budget_.YieldIfSpent(this, self)) {
      channel_.Hold();  // The retry on the next turn needs the channel, as a wait does.
      return true;
    }
    TaskHeader* task = PendingWait::CurrentTaskChecked("Sender::Send awaited outside a coral task");
    // The wait keeps the channel alive: the handle it was made from may go while it waits.
    channel_.Hold();
    PendingWait& wait = wait_.emplace();
    if (CancellableWait::AlreadyCancelled(task)) {
      wait.MarkCancelled();
      return false;
    }
    state()->lock().Lock();
    state()->CountSenderLocked();
    const bool closed = state()->closed_locked();
    if (closed || state()->TryPushLocked(&value_)) {
      state()->UncountSenderLocked();
      state()->lock().Unlock();
      if (!closed) state()->Rebalance();
      return false;
    }
    wait.waiter().payload = &value_;
    wait.SuspendLocked(state()->send_site(), task, self);
    return true;
  }
  SendResult<T> await_resume() {
    if (wait_ && wait_->FinishWait()) {
      return {absl::CancelledError("cancelled while sending"), std::move(value_)};
    }
    if (!value_.has_value()) return {absl::OkStatus(), std::nullopt};
    if (out_of_memory_) return {ChannelOutOfMemory(), std::move(value_)};
    return {ChannelClosedForSend(), std::move(value_)};
  }

 private:
  ChannelState<T>* state() const { return channel_.get(); }

  ChannelHold<T> channel_;
  std::optional<T> value_;
  std::optional<PendingWait> wait_;  // Only once the channel was found full.
  bool out_of_memory_ = false;       // An unbounded channel could not allocate for the value.
  BudgetRetry<SendAwaiter> budget_;
};

// co_await Receiver<T>::Recv (channel.h).
template <typename T>
class [[nodiscard]] RecvAwaiter {
 public:
  explicit RecvAwaiter(ChannelState<T>* state) : channel_(state) {}
  RecvAwaiter(const RecvAwaiter&) = delete;
  RecvAwaiter& operator=(const RecvAwaiter&) = delete;
  ~RecvAwaiter() {
    // Torn down after a value was handed to us: it goes back to the channel.
    if (wait_ && wait_->AbandonWait(state()->recv_site()) && slot_.has_value()) {
      state()->Reoffer(*std::move(slot_));
    }
  }

  bool await_ready() { return SpendBudget() && state()->TryPop(&slot_); }
  // No thread-safety analysis: as in SendAwaiter.
  ABSL_NO_THREAD_SAFETY_ANALYSIS bool await_suspend(std::coroutine_handle<> self) {
    if (budget_.YieldIfSpent(this, self)) {
      channel_.Hold();  // As in Send.
      return true;
    }
    TaskHeader* task =
        PendingWait::CurrentTaskChecked("Receiver::Recv awaited outside a coral task");
    channel_.Hold();  // As in Send: the channel outlives the wait.
    PendingWait& wait = wait_.emplace();
    if (CancellableWait::AlreadyCancelled(task)) {
      wait.MarkCancelled();
      return false;
    }
    state()->lock().Lock();
    state()->CountReceiverLocked();
    const bool popped = state()->TryPopLocked(&slot_);
    if (popped || state()->closed_locked()) {
      state()->UncountReceiverLocked();
      state()->lock().Unlock();
      if (popped) state()->Rebalance();
      return false;
    }
    wait.waiter().payload = &slot_;
    wait.SuspendLocked(state()->recv_site(), task, self);
    return true;
  }
  absl::StatusOr<T> await_resume() {
    if (wait_ && wait_->FinishWait()) return absl::CancelledError("cancelled while receiving");
    if (slot_.has_value()) return *std::move(slot_);
    // Closed: whatever is still buffered comes first.
    if (state()->TryPop(&slot_)) return *std::move(slot_);
    return ChannelClosedForRecv();
  }

 private:
  ChannelState<T>* state() const { return channel_.get(); }

  ChannelHold<T> channel_;
  std::optional<T> slot_;
  std::optional<PendingWait> wait_;  // Only once the channel was found empty.
  BudgetRetry<RecvAwaiter> budget_;
};

}  // namespace internal
}  // namespace coral

#endif  // CORAL_INTERNAL_CHANNEL_STATE_H_
