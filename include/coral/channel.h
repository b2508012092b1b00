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
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

template <typename T>
class ChannelState {
 public:
  explicit ChannelState(size_t capacity) : capacity_(capacity) {}

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

  // --- Operations, all under lock_. Each returns the task to wake after unlocking, or null.

  // Delivers `*value` (consuming it) if it can go without waiting. Sets `*status` otherwise:
  // closed (value kept), or OK-but-full (the caller waits).
  TaskHeader* TrySendLocked(std::optional<T>* value, absl::Status* status, bool* delivered) {
    *delivered = false;
    if (closed_) {
      *status = ChannelClosedForSend();
      return nullptr;
    }
    if (Waiter* receiver = PopClaimedReceiver()) {
      *static_cast<std::optional<T>*>(receiver->payload) = std::move(*value);
      value->reset();
      *delivered = true;
      return Grant(receiver);
    }
    if (buffer_.size() < capacity_) {
      buffer_.push_back(std::move(**value));
      value->reset();
      *delivered = true;
    }
    return nullptr;
  }

  // Takes a value if one is buffered (refilling from the first waiting sender).
  TaskHeader* TryRecvLocked(std::optional<T>* out) {
    if (buffer_.empty()) return nullptr;
    out->emplace(std::move(buffer_.front()));
    buffer_.pop_front();
    if (Waiter* sender = senders_waiting_.PopFront()) {
      auto* offered = static_cast<std::optional<T>*>(sender->payload);
      buffer_.push_back(std::move(**offered));
      offered->reset();
      return Grant(sender);
    }
    return nullptr;
  }

  // A receiver torn down after a value was handed to it: the value goes back to the head.
  void Return(T value) {
    TaskHeader* wake = nullptr;
    {
      SpinLockHolder hold(&lock_);
      if (Waiter* receiver = PopClaimedReceiver()) {
        static_cast<std::optional<T>*>(receiver->payload)->emplace(std::move(value));
        wake = Grant(receiver);
      } else if (!discarded_) {
        buffer_.push_front(std::move(value));
      }
    }
    if (wake != nullptr) Wake(wake);
  }

  void Close(bool discard) {
    WakeList woken;
    std::deque<T> discarded;
    {
      SpinLockHolder hold(&lock_);
      closed_ = true;
      if (discard) {
        discarded_ = true;
        discarded.swap(buffer_);
      }
      for (WaiterList* list : {&senders_waiting_, &receivers_waiting_}) {
        while (Waiter* waiter = list->PopFront()) {
          if (!waiter->Claim()) continue;  // A Select that another branch already won.
          waiter->closed = true;
          woken.push_back(waiter->task);
        }
      }
    }
    WakeAll(woken);
  }

  bool closed() {
    SpinLockHolder hold(&lock_);
    return closed_;
  }
  bool receivers_can_finish() const { return closed_ && buffer_.empty(); }  // Under lock_.
  bool has_buffered_locked() const { return !buffer_.empty(); }

  // Select: links a waiter of a select on this channel's receivers (under lock_).
  void LinkReceiverLocked(Waiter* waiter) { receivers_waiting_.PushBack(waiter); }
  void UnlinkReceiverLocked(Waiter* waiter) {
    if (waiter->linked) receivers_waiting_.Remove(waiter);
  }

  WaitSite send_site() { return {&lock_, &senders_waiting_, nullptr, this}; }
  WaitSite recv_site() { return {&lock_, &receivers_waiting_, nullptr, this}; }
  SpinLock& lock() { return lock_; }

 private:
  // The first waiting receiver that may take a value; Select waiters whose select another branch
  // won are dropped from the queue on the way (their select unlinks nothing then).
  Waiter* PopClaimedReceiver() {
    while (Waiter* receiver = receivers_waiting_.PopFront()) {
      if (receiver->Claim()) return receiver;
    }
    return nullptr;
  }

  SpinLock lock_;
  const size_t capacity_;
  std::deque<T> buffer_;             // Guarded by lock_.
  bool closed_ = false;              // Guarded by lock_.
  bool discarded_ = false;           // Guarded by lock_: every receiver is gone.
  WaiterList senders_waiting_;       // Guarded by lock_; payload: std::optional<T>* offered.
  WaiterList receivers_waiting_;     // Guarded by lock_; payload: std::optional<T>* slot.
  std::atomic<uint32_t> senders_{1};
  std::atomic<uint32_t> receivers_{1};
  std::atomic<uint32_t> references_{2};
};

template <typename T>
class SendAwaiter final : public QueuedWait {
 public:
  SendAwaiter(ChannelState<T>* state, T value) : state_(state), value_(std::move(value)) {}
  ~SendAwaiter() { (void)AbandonWait(state_->send_site()); }  // A granted value was delivered.

  bool await_ready() {
    SpinLockHolder hold(&state_->lock());
    bool delivered;
    wake_ = state_->TrySendLocked(&value_, &status_, &delivered);
    return delivered || !status_.ok();
  }
  bool await_suspend(std::coroutine_handle<> self) {
    if (wake_ != nullptr) Wake(std::exchange(wake_, nullptr));
    TaskHeader* task = CurrentTaskChecked("Sender::Send awaited outside a coral task");
    if (CancellableWait::AlreadyCancelled(task)) {
      cancel_.MarkCancelled();
      return false;
    }
    state_->lock().Lock();
    bool delivered;
    TaskHeader* wake = state_->TrySendLocked(&value_, &status_, &delivered);
    if (delivered || !status_.ok()) {
      state_->lock().Unlock();
      if (wake != nullptr) Wake(wake);
      return false;
    }
    waiter_.payload = &value_;
    SuspendLocked(state_->send_site(), task, self);
    return true;
  }
  SendResult<T> await_resume() {
    if (wake_ != nullptr) Wake(std::exchange(wake_, nullptr));
    if (FinishWait()) return {absl::CancelledError("cancelled while sending"), std::move(value_)};
    if (waiter_.closed) return {ChannelClosedForSend(), std::move(value_)};
    if (!status_.ok()) return {status_, std::move(value_)};
    return {absl::OkStatus(), std::nullopt};
  }

 private:
  ChannelState<T>* state_;
  std::optional<T> value_;
  absl::Status status_;
  TaskHeader* wake_ = nullptr;  // A receiver granted by the fast path, woken outside the lock.
};

template <typename T>
class RecvAwaiter final : public QueuedWait {
 public:
  explicit RecvAwaiter(ChannelState<T>* state) : state_(state) {}
  ~RecvAwaiter() {
    if (AbandonWait(state_->recv_site()) && slot_.has_value()) state_->Return(*std::move(slot_));
  }

  bool await_ready() {
    SpinLockHolder hold(&state_->lock());
    wake_ = state_->TryRecvLocked(&slot_);
    return slot_.has_value() || state_->receivers_can_finish();
  }
  bool await_suspend(std::coroutine_handle<> self) {
    TaskHeader* task = CurrentTaskChecked("Receiver::Recv awaited outside a coral task");
    if (CancellableWait::AlreadyCancelled(task)) {
      cancel_.MarkCancelled();
      return false;
    }
    state_->lock().Lock();
    TaskHeader* wake = state_->TryRecvLocked(&slot_);
    if (slot_.has_value() || state_->receivers_can_finish()) {
      state_->lock().Unlock();
      if (wake != nullptr) Wake(wake);
      return false;
    }
    waiter_.payload = &slot_;
    SuspendLocked(state_->recv_site(), task, self);
    return true;
  }
  absl::StatusOr<T> await_resume() {
    if (wake_ != nullptr) Wake(std::exchange(wake_, nullptr));
    if (FinishWait()) return absl::CancelledError("cancelled while receiving");
    if (slot_.has_value()) return *std::move(slot_);
    return ChannelClosedForRecv();
  }

 private:
  ChannelState<T>* state_;
  std::optional<T> slot_;
  TaskHeader* wake_ = nullptr;  // A sender granted by the fast path, woken outside the lock.
};

}  // namespace internal

template <typename T>
class Receiver;

template <typename T>
class Sender {
 public:
  Sender(const Sender& other) : state_(other.state_) {
    if (state_ != nullptr) {
      state_->AddSender();
      state_->AddReference();
    }
  }
  Sender(Sender&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Sender& operator=(Sender other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Sender() {
    if (state_ != nullptr) state_->DropSender();
  }

  // co_await Send(v): SendResult<T> (see the header comment).
  internal::SendAwaiter<T> Send(T value) {
    CORAL_CHECK(state_ != nullptr, "Send on a moved-from coral::Sender");
    return internal::SendAwaiter<T>(state_, std::move(value));
  }
  // Sends without waiting: absl::UnavailableError (value returned) if the channel is full.
  SendResult<T> TrySend(T value) {
    std::optional<T> offered(std::move(value));
    absl::Status status;
    bool delivered;
    internal::TaskHeader* wake;
    {
      internal::SpinLockHolder hold(&state_->lock());
      wake = state_->TrySendLocked(&offered, &status, &delivered);
    }
    if (wake != nullptr) internal::Wake(wake);
    if (delivered) return {absl::OkStatus(), std::nullopt};
    return {status.ok() ? internal::ChannelFull() : status, std::move(offered)};
  }
  // Closes the channel for everyone (see the header comment).
  void Close() { state_->Close(/*discard=*/false); }
  bool IsClosed() const { return state_->closed(); }

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
    if (state_ != nullptr) {
      state_->AddReceiver();
      state_->AddReference();
    }
  }
  Receiver(Receiver&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Receiver& operator=(Receiver other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Receiver() {
    if (state_ != nullptr) state_->DropReceiver();
  }

  // co_await Recv(): absl::StatusOr<T>; OutOfRange once closed and drained.
  internal::RecvAwaiter<T> Recv() {
    CORAL_CHECK(state_ != nullptr, "Recv on a moved-from coral::Receiver");
    return internal::RecvAwaiter<T>(state_);
  }
  // Receives without waiting: absl::UnavailableError if nothing is buffered.
  absl::StatusOr<T> TryRecv() {
    std::optional<T> value;
    internal::TaskHeader* wake;
    bool finished;
    {
      internal::SpinLockHolder hold(&state_->lock());
      wake = state_->TryRecvLocked(&value);
      finished = state_->receivers_can_finish();
    }
    if (wake != nullptr) internal::Wake(wake);
    if (value.has_value()) return *std::move(value);
    return finished ? internal::ChannelClosedForRecv() : internal::ChannelEmpty();
  }
  void Close() { state_->Close(/*discard=*/false); }

  internal::ChannelState<T>* state() const { return state_; }  // For Select.

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
