// Copyright 2026 The coral Authors.
//
// coral::Broadcast<T>: a bounded channel whose every receiver sees every message (a chat room, an
// event bus, a shutdown fan-out).
//
//   auto [tx, rx] = coral::Broadcast<Line>::Make(/*capacity=*/256);
//   coral::BroadcastReceiver<Line> other = tx.Subscribe();
//   size_t receivers = tx.Send(line);                      // never waits; 2 here
//   absl::StatusOr<Line> got = co_await rx.Recv();         // every receiver gets its copy
//
// Messages. The channel keeps the last `capacity` messages in a ring. Send never waits: it
// overwrites the oldest message and wakes every waiting receiver. Each receiver has its own
// position and receives, in send order, each message sent after it subscribed (Make's receiver
// and Subscribe()'s start at the next message sent). A message is copied to each receiver under
// the channel's lock, so T should be cheap to copy: wrap a large message in
// std::shared_ptr<const M>. Messages sent while no receiver exists are dropped (Send returns 0).
//
// Lagging receivers. A receiver that falls more than `capacity` messages behind has lost the
// messages that were overwritten. Its next Recv (or TryRecv) returns absl::DataLossError, from
// which BroadcastLagged(status) recovers the number n of messages it missed, and moves it to the
// oldest message still retained: the Recv after that returns that message. The senders are never
// slowed down by a slow receiver, and the memory is bounded by `capacity` messages whatever the
// receivers do. (tokio's broadcast policy.) A consumer that must not lose messages reads
// promptly, or disconnects its peer on the first DataLossError.
//
// Closing. When the last BroadcastSender is dropped the channel closes: each receiver still
// receives the messages retained after its position, then gets absl::OutOfRangeError. Dropping
// receivers never closes anything for the senders.
//
// Handles. BroadcastSender is copyable (every copy sends into the same channel); a
// BroadcastReceiver is move-only, and one task at a time may await its Recv: a second task
// awaiting the same receiver while one waits aborts with a message, and so does destroying a
// receiver while a task is inside co_await Recv() on it. Handles may be used from any thread.
// Any use of a moved-from handle but valid() aborts with a message.
//
// Fairness: waiting receivers are woken in the order they started waiting; each gets every
// message, so no receiver can take a message from another.

#ifndef CORAL_BROADCAST_H_
#define CORAL_BROADCAST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/broadcast_state.h"
#include "coral/internal/check.h"

namespace coral {

template <typename T>
class BroadcastSender;
template <typename T>
class BroadcastReceiver;

// The number of messages a receiver missed, if `status` is the DataLossError of a lagging receiver
// (see the header comment); std::nullopt for any other status.
std::optional<uint64_t> BroadcastLagged(const absl::Status& status);

// Makes a broadcast channel: its first sender and first receiver.
template <typename T>
struct Broadcast {
  // capacity >= 1: the messages retained for lagging receivers (aborts otherwise).
  static std::pair<BroadcastSender<T>, BroadcastReceiver<T>> Make(size_t capacity) {
    CORAL_CHECK(capacity >= 1, "coral::Broadcast::Make needs a capacity of at least 1");
    auto state = std::make_shared<internal::BroadcastState<T>>(capacity);
    BroadcastReceiver<T> receiver(state, state->Subscribe());
    return {BroadcastSender<T>(std::move(state)), std::move(receiver)};
  }
};

template <typename T>
class BroadcastSender {
 public:
  BroadcastSender(const BroadcastSender& other) : state_(other.Checked("copy of")) {
    state_->AddSender();
  }
  BroadcastSender(BroadcastSender&&) noexcept = default;
  BroadcastSender& operator=(BroadcastSender other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~BroadcastSender() {
    if (state_ != nullptr) state_->DropSender();
  }

  // False once moved from (the one thing a moved-from handle may be asked).
  bool valid() const noexcept { return state_ != nullptr; }

  // Sends `value` to every current receiver, overwriting the oldest retained message if the ring
  // is full; never waits. Returns the number of receivers it was sent to (0: it was dropped).
  size_t Send(T value) { return Checked("Send on")->Send(std::move(value)); }

  // A new receiver, which receives the messages sent from now on.
  BroadcastReceiver<T> Subscribe() const {
    const std::shared_ptr<internal::BroadcastState<T>>& state = Checked("Subscribe on");
    return BroadcastReceiver<T>(state, state->Subscribe());
  }

  size_t receiver_count() const { return Checked("receiver_count on")->receiver_count(); }

 private:
  friend struct Broadcast<T>;
  explicit BroadcastSender(std::shared_ptr<internal::BroadcastState<T>> state)
      : state_(std::move(state)) {}

  const std::shared_ptr<internal::BroadcastState<T>>& Checked(const char* operation) const {
    if (state_ == nullptr) [[unlikely]]
      internal::BroadcastMovedFrom(operation, "coral::BroadcastSender");
    return state_;
  }

  std::shared_ptr<internal::BroadcastState<T>> state_;
};

template <typename T>
class BroadcastReceiver {
 public:
  BroadcastReceiver(BroadcastReceiver&& other) noexcept
      : cursor_(std::move(other.cursor_)), state_(std::move(other.state_)) {}
  BroadcastReceiver& operator=(BroadcastReceiver&& other) noexcept {
    if (this != &other) {
      Drop();
      state_ = std::move(other.state_);
      cursor_ = std::move(other.cursor_);
    }
    return *this;
  }
  BroadcastReceiver(const BroadcastReceiver&) = delete;
  BroadcastReceiver& operator=(const BroadcastReceiver&) = delete;
  ~BroadcastReceiver() { Drop(); }

  // False once moved from (the one thing a moved-from handle may be asked).
  bool valid() const noexcept { return state_ != nullptr; }

  // co_await Recv(): absl::StatusOr<T>, the next message for this receiver; waits while there is
  // none. absl::DataLossError if the receiver lagged (see the header comment: BroadcastLagged);
  // absl::OutOfRangeError once the channel is closed and this receiver has drained it.
  //
  // Cancellation: a waiting Recv whose token is cancelled returns absl::CancelledError and
  // consumed nothing (the receiver's position is unchanged). A message that arrives at the same
  // moment wins: Recv returns it. A task aborted while waiting consumed nothing either.
  internal::BroadcastRecvAwaiter<T> Recv() {
    Checked("Recv on");
    return internal::BroadcastRecvAwaiter<T>(state_.get(), &cursor_);
  }

  // Receives without waiting: as Recv, or absl::UnavailableError if no message is there yet.
  absl::StatusOr<T> TryRecv() {
    Checked("TryRecv on");
    std::optional<absl::StatusOr<T>> result;
    state_->TryRecv(&cursor_, &result);
    if (!result.has_value()) return internal::BroadcastEmpty();
    return *std::move(result);
  }

 private:
  friend struct Broadcast<T>;
  friend class BroadcastSender<T>;
  BroadcastReceiver(std::shared_ptr<internal::BroadcastState<T>> state, uint64_t position)
      : state_(std::move(state)) {
    cursor_.next = position;
  }

  void Checked(const char* operation) const {
    if (state_ == nullptr) [[unlikely]]
      internal::BroadcastMovedFrom(operation, "coral::BroadcastReceiver");
  }
  void Drop() {
    if (state_ == nullptr) return;
    CORAL_CHECK(!cursor_.busy.load(std::memory_order_relaxed),
                "a coral::BroadcastReceiver destroyed or assigned to while a task awaits its Recv");
    std::exchange(state_, nullptr)->DropReceiver();
  }

  internal::BroadcastCursor cursor_;
  std::shared_ptr<internal::BroadcastState<T>> state_;
};

}  // namespace coral

#endif  // CORAL_BROADCAST_H_
