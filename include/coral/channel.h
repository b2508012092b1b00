// Copyright 2026 The coral Authors.
//
// coral::Channel<T>: a multi-producer, multi-consumer queue between tasks.
//
//   auto [tx, rx] = coral::Channel<Job>::Bounded(64);
//   ... producers:  coral::SendResult<Job> sent = co_await tx.Send(std::move(job));
//   ... consumers:  absl::StatusOr<Job> job = co_await rx.Recv();   // OutOfRange once closed
//
// Handles. Sender<T> and Receiver<T> are cheap to copy (they share one reference-counted state)
// and safe to use from any task. Dropping every Sender closes the channel for receivers; dropping
// every Receiver closes it for senders (buffered values are destroyed). Either side may Close().
// A waiting Send or Recv keeps the channel alive, so the handle it was made from may be dropped
// meanwhile (if it was the last of its side, the wait ends as the channel closes). Any use of a
// moved-from handle but valid() (copying it, Send, TrySend, Recv, TryRecv, Close, IsClosed,
// Select) aborts with a message.
//
// Capacity. Bounded(n), n >= 1: Send waits while n values are buffered. Unbounded(): Send never
// waits. A value handed to a waiting receiver skips the buffer. Waiting senders and receivers are
// served in FIFO order; woken tasks are scheduled, never resumed inside the call that woke them.
//
// Closing. Receivers drain what is buffered, then get absl::OutOfRangeError. A sender blocked at
// the close, or sending after it, gets absl::FailedPreconditionError and its value back in
// SendResult::unsent: nothing is lost.
//
// Cancellation. A waiting Send whose token is cancelled returns absl::CancelledError with the
// value in `unsent`: it was not delivered. A waiting Recv whose token is cancelled returns
// absl::CancelledError and consumed nothing. A hand-off that races the cancellation wins (the
// send reports delivery, the receive returns the value). A receiver task aborted after a value
// was handed to it puts the value back at the head of the channel.
//
// Oneshot<T> (oneshot.h) is the single-value special case; Select (select.h) waits on several
// receives at once.

#ifndef CORAL_CHANNEL_H_
#define CORAL_CHANNEL_H_

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/check.h"
#include "coral/internal/wait_queue.h"

namespace coral {

// The outcome of a send: OK, or the error and the value that was not delivered.
template <typename T>
struct SendResult {
  absl::Status status;
  std::optional<T> unsent;

  bool ok() const { return status.ok(); }
};

namespace internal {

absl::Status ChannelClosedForSend();
absl::Status ChannelClosedForRecv();
absl::Status ChannelEmpty();
absl::Status ChannelFull();

// The values in flight. Bounded: a ring of `capacity` cells in which producers and consumers
// claim positions with a CAS on their own cursor, each cell carrying a turn number (2t: free in
// lap t; 2t + 1: full in lap t), so neither side takes a lock and the two sides do not share a
// cache line (the scheme of Vyukov's bounded MPMC queue, with Rigtorp's turns so that one cell
// works). Unbounded: a deque under a spin lock.
template <typename T>
class ChannelBuffer {
 public:
  explicit ChannelBuffer(size_t capacity)
      : capacity_(capacity),
        power_of_two_(capacity != kUnbounded && (capacity & (capacity - 1)) == 0),
        shift_(power_of_two_ ? __builtin_ctzll(capacity) : 0),
        spread_bits_(power_of_two_ && capacity >= kCellsPerLine ? shift_ - kCellsPerLineBits : 0),
        cells_(capacity == kUnbounded ? 0 : capacity) {}
  ChannelBuffer(const ChannelBuffer&) = delete;
  ChannelBuffer& operator=(const ChannelBuffer&) = delete;
  ~ChannelBuffer() {
    std::optional<T> discard;
    while (TryPop(&discard)) discard.reset();
  }

  static constexpr size_t kUnbounded = SIZE_MAX;

  // Moves *value in and resets it; false if full.
  bool TryPush(std::optional<T>* value) {
    if (capacity_ == kUnbounded) {
      SpinLockHolder hold(&deque_lock_);
      deque_.push_back(std::move(**value));
      value->reset();
      Publish();
      return true;
    }
    // relaxed: the cursor only proposes a position; the cell's turn, acquired, decides.
    uint64_t head = head_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = CellAt(head);
      // seq_cst: see Publish; also acquires the consumer's move-out from the cell.
      if (cell.turn.load(std::memory_order_seq_cst) == 2 * Lap(head)) {
        if (head_.compare_exchange_weak(head, head + 1, std::memory_order_relaxed)) {
          ::new (&cell.storage) T(std::move(**value));
          value->reset();
          // seq_cst: the publication and the later load of the waiting-receiver count must not
          // be reordered (a receiver that registers and then looks must see it, or be seen).
          cell.turn.store(2 * Lap(head) + 1, std::memory_order_seq_cst);
          return true;
        }
      } else {
        const uint64_t previous = head;
        head = head_.load(std::memory_order_relaxed);
        if (head == previous) return false;  // The cell is still full: the ring is.
      }
    }
  }

  // Approximate (the cursors move concurrently); exact when nobody pushes or pops meanwhile.
  size_t ApproximateSize() const {
    if (capacity_ == kUnbounded) {
      SpinLockHolder hold(&deque_lock_);
      return deque_.size();
    }
    // relaxed: an estimate for deciding when to wake senders; a stale one only delays that to a
    // later pop, and the last pop of a draining buffer sees it low.
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_relaxed);
    return head > tail ? head - tail : 0;
  }
  bool Empty() const { return ApproximateSize() == 0; }
  bool AtMostHalfFull() const { return capacity_ == kUnbounded || ApproximateSize() <= capacity_ / 2; }

  // Moves the oldest value into *out; false if empty.
  bool TryPop(std::optional<T>* out) {
    if (capacity_ == kUnbounded) {
      SpinLockHolder hold(&deque_lock_);
      if (deque_.empty()) return false;
      out->emplace(std::move(deque_.front()));
      deque_.pop_front();
      Publish();
      return true;
    }
    uint64_t tail = tail_.load(std::memory_order_relaxed);  // relaxed: as in TryPush.
    for (;;) {
      Cell& cell = CellAt(tail);
      // seq_cst: acquires the producer's value; ordered against the waiting-sender count.
      if (cell.turn.load(std::memory_order_seq_cst) == 2 * Lap(tail) + 1) {
        if (tail_.compare_exchange_weak(tail, tail + 1, std::memory_order_relaxed)) {
          T* value = std::launder(reinterpret_cast<T*>(&cell.storage));
          out->emplace(std::move(*value));
          value->~T();
          // seq_cst: as the producer's publication, for the waiting-sender count.
          cell.turn.store(2 * Lap(tail) + 2, std::memory_order_seq_cst);
          return true;
        }
      } else {
        const uint64_t previous = tail;
        tail = tail_.load(std::memory_order_relaxed);
        if (tail == previous) return false;
      }
    }
  }

 private:
  struct Cell {
    std::atomic<uint64_t> turn{0};
    alignas(T) unsigned char storage[sizeof(T)];
  };
  // Cells that share a 64-byte cache line (1 unless a Cell divides 64 bytes evenly).
  static constexpr int kCellsPerLineBits =
      sizeof(Cell) < 64 && 64 % sizeof(Cell) == 0 ? __builtin_ctz(64 / sizeof(Cell)) : 0;
  static constexpr size_t kCellsPerLine = size_t{1} << kCellsPerLineBits;

  // A position's cell and lap; shifts and masks for power-of-two capacities (a division costs
  // about as much as the rest of a push). Power-of-two rings also spread consecutive positions
  // over consecutive cache lines: index i lives in line i mod L, slot i / L (L = capacity /
  // kCellsPerLine lines). A consumer right behind a producer on another core then reads a line
  // the producer has finished with, instead of one it is still writing: with adjacent cells on
  // one line, every push and pop moved that line between the cores (measured on a machine where
  // a line takes ~250 ns to cross cores, channel_mpmc: 5M msgs/s packed, 8.8M with a line per
  // cell, 7M-20M spread). The ring stays dense, unlike a cache line per cell.
  Cell& CellAt(uint64_t position) {
    if (!power_of_two_) return cells_[position % capacity_];
    const uint64_t index = position & (capacity_ - 1);
    const uint64_t lines_mask = (uint64_t{1} << spread_bits_) - 1;
    return cells_[((index & lines_mask) << (shift_ - spread_bits_)) | (index >> spread_bits_)];
  }
  uint64_t Lap(uint64_t position) const {
    return power_of_two_ ? position >> shift_ : position / capacity_;
  }

  // The unbounded deque's changes take part in the same store-then-load order as the ring's.
  void Publish() { published_.fetch_add(1, std::memory_order_seq_cst); }

  const size_t capacity_;
  const bool power_of_two_;
  const int shift_;
  const int spread_bits_;  // log2 of the number of lines positions are spread over (L above).
  std::vector<Cell> cells_;
  alignas(64) std::atomic<uint64_t> head_{0};  // Producers' cursor.
  alignas(64) std::atomic<uint64_t> tail_{0};  // Consumers' cursor.
  alignas(64) mutable SpinLock deque_lock_;
  std::deque<T> deque_;  // Unbounded only; guarded by deque_lock_.
  std::atomic<uint64_t> published_{0};
};

// The shared state of a channel: the buffer, the closed flag, the waiting senders and receivers,
// and the handle counts. References: one per handle, and one per Send, Recv or Select while it
// waits (its handle may go meanwhile).
//
// Waiting. Values move through the buffer without the lock. A task that finds it full (or empty)
// takes lock_, counts itself in senders_waiting_ (receivers_waiting_), tries once more, and links
// itself if that fails. Whoever then pops (pushes) a value checks the count and, if anyone waits,
// takes lock_ and hands over directly: a waiting sender's value goes into the buffer, a value
// goes into a waiting receiver's slot. The count and the buffer's cells are all seq_cst, so of a
// waiter's "count, then try" and a peer's "change the buffer, then read the count" one sees the
// other: no lost wake-up. A receiver's slot is filled only after its Select (if any) was claimed
// for that channel, so a losing branch never consumes a value.
template <typename T>
class ChannelState {
 public:
  explicit ChannelState(size_t capacity) : buffer_(capacity) {}

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

  bool closed() const { return closed_.load(std::memory_order_acquire); }  // acquire: see Close.

  // --- Without the lock.
  bool TryPush(std::optional<T>* value) {
    if (closed()) return false;
    // seq_cst: see the class comment. A receiver waits only on an empty buffer: hand it over.
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
  // on the count's store: see the class comment. relaxed when uncounting: a stale nonzero count
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
    spilled_.push_back(std::move(value));
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
      closed_.store(true, std::memory_order_seq_cst);  // seq_cst: ordered as the counts.
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
  static void Add(std::atomic<int64_t>* count, int64_t delta, std::memory_order order) {
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
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> senders_waiting_{0};    // Changed under lock_ (see the class comment).
  std::atomic<int64_t> receivers_waiting_{0};  // Changed under lock_.
  SpinLock lock_;
  bool closed_flag_ = false;       // Guarded by lock_ (closed_ for lock-free readers).
  WaiterList senders_list_;        // Guarded by lock_; payload: std::optional<T>* offered.
  WaiterList receivers_list_;      // Guarded by lock_; payload: std::optional<T>* slot.
  std::deque<T> spilled_;          // Guarded by lock_: values re-offered when nobody could.
  std::atomic<size_t> spilled_count_{0};  // spilled_.size(), for TryPop to look without the lock.
  std::atomic<uint32_t> senders_{1};
  std::atomic<uint32_t> receivers_{1};
  std::atomic<uint32_t> references_{2};
};

template <typename T>
class [[nodiscard]] SendAwaiter {
 public:
  SendAwaiter(ChannelState<T>* state, T value) : state_(state), value_(std::move(value)) {}
  SendAwaiter(const SendAwaiter&) = delete;
  SendAwaiter& operator=(const SendAwaiter&) = delete;
  ~SendAwaiter() {
    if (wait_) {
      (void)wait_->AbandonWait(state_->send_site());  // A granted value was delivered.
      state_->DropReference();
    }
    if (pinned_) state_->DropReference();
  }

  bool await_ready() { return SpendBudget() && (state_->TryPush(&value_) || state_->closed()); }
  bool await_suspend(std::coroutine_handle<> self) {
    if (budget_.YieldIfSpent(this, self)) return PinChannel();
    TaskHeader* task = PendingWait::CurrentTaskChecked("Sender::Send awaited outside a coral task");
    // The wait keeps the channel alive: the handle it was made from may go while it waits.
    state_->AddReference();
    PendingWait& wait = wait_.emplace();
    if (CancellableWait::AlreadyCancelled(task)) {
      wait.MarkCancelled();
      return false;
    }
    state_->lock().Lock();
    state_->CountSenderLocked();
    const bool closed = state_->closed_locked();
    if (closed || state_->TryPushLocked(&value_)) {
      state_->UncountSenderLocked();
      state_->lock().Unlock();
      if (!closed) state_->Rebalance();
      return false;
    }
    wait.waiter().payload = &value_;
    wait.SuspendLocked(state_->send_site(), task, self);
    return true;
  }
  SendResult<T> await_resume() {
    if (wait_ && wait_->FinishWait()) {
      return {absl::CancelledError("cancelled while sending"), std::move(value_)};
    }
    if (!value_.has_value()) return {absl::OkStatus(), std::nullopt};
    return {ChannelClosedForSend(), std::move(value_)};
  }

 private:
  ChannelState<T>* state_;
  std::optional<T> value_;
  // A task yielded for its budget (budget.h) retries on its next turn: the channel must outlive
  // the yield as it outlives a wait, whatever happens to the handle meanwhile.
  bool PinChannel() {
    if (!pinned_) state_->AddReference();
    pinned_ = true;
    return true;
  }
  std::optional<PendingWait> wait_;  // Only once the channel was found full; holds a reference.
  bool pinned_ = false;  // Holds a reference across a budget yield.
  BudgetRetry<SendAwaiter> budget_;
};

template <typename T>
class [[nodiscard]] RecvAwaiter {
 public:
  explicit RecvAwaiter(ChannelState<T>* state) : state_(state) {}
  RecvAwaiter(const RecvAwaiter&) = delete;
  RecvAwaiter& operator=(const RecvAwaiter&) = delete;
  ~RecvAwaiter() {
    if (wait_) {
      // Torn down after a value was handed to us: it goes back to the channel.
      if (wait_->AbandonWait(state_->recv_site()) && slot_.has_value()) {
        state_->Reoffer(*std::move(slot_));
      }
      state_->DropReference();
    }
    if (pinned_) state_->DropReference();
  }

  bool await_ready() { return SpendBudget() && state_->TryPop(&slot_); }
  bool await_suspend(std::coroutine_handle<> self) {
    if (budget_.YieldIfSpent(this, self)) return PinChannel();
    TaskHeader* task =
        PendingWait::CurrentTaskChecked("Receiver::Recv awaited outside a coral task");
    state_->AddReference();  // As in Send: the channel outlives the wait.
    PendingWait& wait = wait_.emplace();
    if (CancellableWait::AlreadyCancelled(task)) {
      wait.MarkCancelled();
      return false;
    }
    state_->lock().Lock();
    state_->CountReceiverLocked();
    const bool popped = state_->TryPopLocked(&slot_);
    if (popped || state_->closed_locked()) {
      state_->UncountReceiverLocked();
      state_->lock().Unlock();
      if (popped) state_->Rebalance();
      return false;
    }
    wait.waiter().payload = &slot_;
    wait.SuspendLocked(state_->recv_site(), task, self);
    return true;
  }
  absl::StatusOr<T> await_resume() {
    if (wait_ && wait_->FinishWait()) return absl::CancelledError("cancelled while receiving");
    if (slot_.has_value()) return *std::move(slot_);
    // Closed: whatever is still buffered comes first.
    if (state_->TryPop(&slot_)) return *std::move(slot_);
    return ChannelClosedForRecv();
  }

 private:
  ChannelState<T>* state_;
  std::optional<T> slot_;
  // A task yielded for its budget (budget.h) retries on its next turn: the channel must outlive
  // the yield as it outlives a wait, whatever happens to the handle meanwhile.
  bool PinChannel() {
    if (!pinned_) state_->AddReference();
    pinned_ = true;
    return true;
  }
  std::optional<PendingWait> wait_;  // Only once the channel was found empty; holds a reference.
  bool pinned_ = false;  // Holds a reference across a budget yield.
  BudgetRetry<RecvAwaiter> budget_;
};

}  // namespace internal

template <typename T>
class Receiver;

template <typename T>
class Sender {
 public:
  Sender(const Sender& other) : state_(other.state_) {
    CORAL_CHECK(state_ != nullptr, "copy of a moved-from coral::Sender");
    state_->AddSender();
    state_->AddReference();
  }
  Sender(Sender&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Sender& operator=(Sender other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Sender() {
    if (state_ != nullptr) state_->DropSender();
  }

  // False once moved from (the one thing a moved-from handle may be asked).
  bool valid() const noexcept { return state_ != nullptr; }

  // co_await Send(v): SendResult<T> (see the header comment).
  internal::SendAwaiter<T> Send(T value) {
    CORAL_CHECK(state_ != nullptr, "Send on a moved-from coral::Sender");
    return internal::SendAwaiter<T>(state_, std::move(value));
  }
  // Sends without waiting: absl::UnavailableError (value returned) if the channel is full.
  SendResult<T> TrySend(T value) {
    CORAL_CHECK(state_ != nullptr, "TrySend on a moved-from coral::Sender");
    std::optional<T> offered(std::move(value));
    if (state_->TryPush(&offered)) return {absl::OkStatus(), std::nullopt};
    return {state_->closed() ? internal::ChannelClosedForSend() : internal::ChannelFull(),
            std::move(offered)};
  }
  // Closes the channel for everyone (see the header comment).
  void Close() {
    CORAL_CHECK(state_ != nullptr, "Close on a moved-from coral::Sender");
    state_->Close(/*discard=*/false);
  }
  bool IsClosed() const {
    CORAL_CHECK(state_ != nullptr, "IsClosed on a moved-from coral::Sender");
    return state_->closed();
  }

 private:
  template <typename U>
  friend struct Channel;
  explicit Sender(internal::ChannelState<T>* state) : state_(state) {}

  internal::ChannelState<T>* state_;
};

template <typename T>
class Receiver {
 public:
  Receiver(const Receiver& other) : state_(other.state_) {
    CORAL_CHECK(state_ != nullptr, "copy of a moved-from coral::Receiver");
    state_->AddReceiver();
    state_->AddReference();
  }
  Receiver(Receiver&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Receiver& operator=(Receiver other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Receiver() {
    if (state_ != nullptr) state_->DropReceiver();
  }

  // False once moved from (the one thing a moved-from handle may be asked).
  bool valid() const noexcept { return state_ != nullptr; }

  // co_await Recv(): absl::StatusOr<T>; OutOfRange once closed and drained.
  internal::RecvAwaiter<T> Recv() {
    CORAL_CHECK(state_ != nullptr, "Recv on a moved-from coral::Receiver");
    return internal::RecvAwaiter<T>(state_);
  }
  // Receives without waiting: absl::UnavailableError if nothing is buffered.
  absl::StatusOr<T> TryRecv() {
    CORAL_CHECK(state_ != nullptr, "TryRecv on a moved-from coral::Receiver");
    std::optional<T> value;
    if (state_->TryPop(&value)) return *std::move(value);
    if (!state_->closed()) return internal::ChannelEmpty();
    if (state_->TryPop(&value)) return *std::move(value);  // Sent just before the close.
    return internal::ChannelClosedForRecv();
  }
  void Close() {
    CORAL_CHECK(state_ != nullptr, "Close on a moved-from coral::Receiver");
    state_->Close(/*discard=*/false);
  }

  // For Select.
  internal::ChannelState<T>* state() const {
    CORAL_CHECK(state_ != nullptr, "coral::Select on a moved-from coral::Receiver");
    return state_;
  }

 private:
  template <typename U>
  friend struct Channel;
  explicit Receiver(internal::ChannelState<T>* state) : state_(state) {}

  internal::ChannelState<T>* state_;
};

template <typename T>
struct Channel {
  static std::pair<Sender<T>, Receiver<T>> Bounded(size_t capacity) {
    CORAL_CHECK(capacity >= 1, "coral::Channel::Bounded needs a capacity of at least 1");
    auto* state = new internal::ChannelState<T>(capacity);
    return {Sender<T>(state), Receiver<T>(state)};
  }
  static std::pair<Sender<T>, Receiver<T>> Unbounded() {
    auto* state = new internal::ChannelState<T>(SIZE_MAX);
    return {Sender<T>(state), Receiver<T>(state)};
  }
};

}  // namespace coral

#endif  // CORAL_CHANNEL_H_
