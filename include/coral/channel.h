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
// waits; it allocates for the values it buffers. A value handed to a waiting receiver skips the
// buffer. Waiting senders and receivers are served in FIFO order among themselves; woken tasks
// are scheduled, never resumed inside the call that woke them. Not strict FIFO against newcomers:
// waiting senders of a bounded channel are let in once a receive leaves the buffer at most half
// full (one wake-up per half buffer, not per value), and until then a new Send or TrySend may take
// a slot that receives freed.
//
// Closing. Receivers drain what is buffered, then get absl::OutOfRangeError. A sender blocked at
// the close, or sending after it, gets absl::FailedPreconditionError and its value back in
// SendResult::unsent: nothing is lost.
//
// Out of memory. Bounded and Unbounded throw std::bad_alloc if the channel's state cannot be
// allocated. A Send or TrySend on an unbounded channel that cannot allocate for its value returns
// absl::ResourceExhaustedError with the value in SendResult::unsent: it was not sent. A bounded
// channel's sends and receives allocate nothing. The one allocation that cannot fail cleanly,
// keeping aside a value handed to a receiver that was then torn down (or to a Select branch that
// lost), aborts with a message ("coral: out of memory").
//
// Cancellation. A waiting Send whose token is cancelled returns absl::CancelledError with the
// value in `unsent`: it was not delivered. A waiting Recv whose token is cancelled returns
// absl::CancelledError and consumed nothing. A hand-off that races the cancellation wins (the
// send reports delivery, the receive returns the value). A receiver task aborted after a value
// was handed to it puts the value back at the head of the channel; if the channel closed
// meanwhile, that holds even after another receiver was told OutOfRange: the value goes to a later
// receive, or is destroyed with the last Receiver.
//
// Oneshot<T> (oneshot.h) is the single-value special case; Select (select.h) waits on several
// receives at once. The machinery is in coral/internal/channel_state.h.

#ifndef CORAL_CHANNEL_H_
#define CORAL_CHANNEL_H_

#include <cstddef>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/channel_state.h"
#include "coral/internal/check.h"

namespace coral {

template <typename T>
class Sender;
template <typename T>
class Receiver;

// Makes a channel: its first Sender and first Receiver. T must be nothrow move-constructible
// (checked at compile time): values move through the buffer without a lock, and a move that threw
// halfway would leave a slot that no receiver can take.
template <typename T>
struct Channel {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "coral::Channel<T> needs a T whose move constructor is noexcept");
  // Send waits while `capacity` values are buffered; capacity >= 1 (aborts otherwise).
  static std::pair<Sender<T>, Receiver<T>> Bounded(size_t capacity) {
    CORAL_CHECK(capacity >= 1, "coral::Channel::Bounded needs a capacity of at least 1");
    auto* state = new internal::ChannelState<T>(capacity);
    return {Sender<T>(state), Receiver<T>(state)};
  }
  // Send never waits.
  static std::pair<Sender<T>, Receiver<T>> Unbounded() {
    auto* state = new internal::ChannelState<T>(internal::kUnboundedCapacity);
    return {Sender<T>(state), Receiver<T>(state)};
  }
};

// The outcome of a send: OK, or the error and the value that was not delivered.
template <typename T>
struct SendResult {
  absl::Status status;
  std::optional<T> unsent;

  bool ok() const { return status.ok(); }
};

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

  // co_await Send(v): SendResult<T>. OK once the value is buffered or handed to a receiver;
  // waits while a bounded channel is full. Closed (before or while waiting):
  // absl::FailedPreconditionError, the value in `unsent`. Out of memory (unbounded channel):
  // absl::ResourceExhaustedError, the value in `unsent`.
  //
  // Cancellation: a waiting Send whose token is cancelled returns absl::CancelledError with the
  // value in `unsent` (it was not delivered); a hand-off that races the cancellation wins.
  internal::SendAwaiter<T> Send(T value) {
    CORAL_CHECK(state_ != nullptr, "Send on a moved-from coral::Sender");
    return internal::SendAwaiter<T>(state_, std::move(value));
  }
  // Sends without waiting: absl::UnavailableError (value returned) if the channel is full.
  // Out of memory (unbounded channel): absl::ResourceExhaustedError, value returned.
  SendResult<T> TrySend(T value) {
    CORAL_CHECK(state_ != nullptr, "TrySend on a moved-from coral::Sender");
    std::optional<T> offered(std::move(value));
    try {
      if (state_->TryPush(&offered)) return {absl::OkStatus(), std::nullopt};
    } catch (const std::bad_alloc&) {
      return {internal::ChannelOutOfMemory(), std::move(offered)};
    }
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

  // co_await Recv(): absl::StatusOr<T>, the oldest value; waits while nothing is buffered.
  // Closed and drained: absl::OutOfRangeError.
  //
  // Cancellation: a waiting Recv whose token is cancelled returns absl::CancelledError and
  // consumed nothing; a hand-off that races the cancellation wins (the value is returned). A task
  // aborted after a value was handed to it puts the value back at the head of the channel.
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

 private:
  template <typename U>
  friend struct Channel;
  friend struct internal::ChannelAccess;
  explicit Receiver(internal::ChannelState<T>* state) : state_(state) {}

  internal::ChannelState<T>* state_;
};

}  // namespace coral

#endif  // CORAL_CHANNEL_H_
