// Copyright 2026 The coral Authors.
//
// coral::Watch<T>: a single value that one sender updates and many receivers observe (the latest
// configuration, a health state, a shutdown flag).
//
//   auto [tx, rx] = coral::Watch<Config>::Make(LoadConfig());
//   ... the reloader:  tx.Send(LoadConfig());
//   ... each worker:   while ((co_await rx.Changed()).ok()) Apply(*rx.BorrowAndUpdate());
//
// Values. The channel holds only the latest value, as a std::shared_ptr<const T>: Borrow()
// returns it, and a borrowed value stays valid (and unchanged) however many values are sent
// after it. Send replaces the value and wakes every task waiting in Changed(); it never waits.
// Intermediate values may be skipped: a receiver sees the latest value, not every value.
//
// Versions. Each receiver remembers the version it has seen. Changed() returns at once if the
// value was sent (or re-sent) since, and otherwise waits for the next Send; either way it marks
// the latest version seen. BorrowAndUpdate() marks it seen too; Borrow() does not. A receiver
// made by Make or Subscribe() has seen the value current at that moment; a copy of a receiver
// has seen what the original had.
//
// Closing. Dropping the WatchSender closes the channel: Changed() then returns
// absl::OutOfRangeError once the receiver has seen the last value (a value sent before the close
// and not yet seen is reported first). The last value stays readable through Borrow().
//
// Handles. The WatchSender is move-only (one writer); WatchReceivers are copyable. Handles may be
// used from any thread. One task at a time may await Changed() on one receiver (copy it for
// another task, but not while a task is inside co_await Changed() on it): a second task awaiting
// the same receiver while one waits aborts with a message, and so does copying, destroying, moving
// or assigning to a receiver while a task is inside co_await Changed() on it. Any use of a
// moved-from handle but valid() aborts with a message.
//
// Fairness: Send wakes every waiting receiver, in the order they started waiting.

#ifndef CORAL_WATCH_H_
#define CORAL_WATCH_H_

#include <cstddef>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/internal/watch_state.h"

namespace coral {

template <typename T>
class WatchSender;
template <typename T>
class WatchReceiver;

// Makes a watch channel holding `initial`: its sender and first receiver.
template <typename T>
struct Watch {
  static std::pair<WatchSender<T>, WatchReceiver<T>> Make(T initial) {
    auto state =
        std::make_shared<internal::WatchState<T>>(std::make_shared<const T>(std::move(initial)));
    WatchReceiver<T> receiver(state, state->Subscribe());
    return {WatchSender<T>(std::move(state)), std::move(receiver)};
  }
};

template <typename T>
class WatchSender {
 public:
  WatchSender(WatchSender&&) noexcept = default;
  WatchSender& operator=(WatchSender&& other) noexcept {
    if (this != &other) {
      Close();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  WatchSender(const WatchSender&) = delete;
  WatchSender& operator=(const WatchSender&) = delete;
  ~WatchSender() { Close(); }

  // False once moved from (the one thing a moved-from handle may be asked).
  bool valid() const noexcept { return state_ != nullptr; }

  // Replaces the value and wakes every receiver waiting in Changed(). Never waits. The previous
  // value is destroyed once nobody borrows it (outside the channel's lock).
  void Send(T value) { Checked("Send on")->Send(std::make_shared<const T>(std::move(value))); }
  // The current value.
  std::shared_ptr<const T> Borrow() const { return Checked("Borrow on")->Borrow(); }
  // A new receiver, which has seen the current value.
  WatchReceiver<T> Subscribe() const {
    const std::shared_ptr<internal::WatchState<T>>& state = Checked("Subscribe on");
    return WatchReceiver<T>(state, state->Subscribe());
  }
  size_t receiver_count() const { return Checked("receiver_count on")->receiver_count(); }

 private:
  friend struct Watch<T>;
  explicit WatchSender(std::shared_ptr<internal::WatchState<T>> state) : state_(std::move(state)) {}

  const std::shared_ptr<internal::WatchState<T>>& Checked(const char* operation) const {
    if (state_ == nullptr) [[unlikely]]
      internal::WatchMovedFrom(operation, "coral::WatchSender");
    return state_;
  }
  void Close() {
    if (state_ != nullptr) std::exchange(state_, nullptr)->Close();
  }

  std::shared_ptr<internal::WatchState<T>> state_;
};

template <typename T>
class WatchReceiver {
 public:
  WatchReceiver(const WatchReceiver& other)
      : state_(other.Checked("copy of")), seen_((other.seen_.CheckIdle(), other.seen_.version)) {
    state_->AddReceiver();
  }
  WatchReceiver(WatchReceiver&& other) noexcept
      : state_(std::move(other.state_)), seen_(std::move(other.seen_)) {}
  WatchReceiver& operator=(WatchReceiver other) noexcept {
    Drop();
    state_ = std::move(other.state_);
    seen_ = std::move(other.seen_);
    return *this;
  }
  ~WatchReceiver() { Drop(); }

  // False once moved from (the one thing a moved-from handle may be asked).
  bool valid() const noexcept { return state_ != nullptr; }

  // co_await Changed(): absl::Status. OK once a value this receiver has not seen is there
  // (at once if it already is), and marks it seen; absl::OutOfRangeError if the sender is gone
  // and every value was seen.
  //
  // Cancellation: a waiting Changed() whose token is cancelled returns absl::CancelledError and
  // marks nothing seen (the next Changed() still reports the change). A Send that reached it at
  // the same moment wins: Changed() returns OK.
  internal::WatchChangedAwaiter<T> Changed() {
    Checked("Changed on");
    return internal::WatchChangedAwaiter<T>(state_.get(), &seen_);
  }

  // The current value; does not mark it seen.
  std::shared_ptr<const T> Borrow() const { return Checked("Borrow on")->Borrow(); }
  // The current value, marked seen.
  std::shared_ptr<const T> BorrowAndUpdate() {
    return Checked("BorrowAndUpdate on")->BorrowAndUpdate(&seen_);
  }
  // True if a value was sent since this receiver last marked one seen.
  bool HasChanged() const { return Checked("HasChanged on")->HasChanged(seen_); }

 private:
  friend struct Watch<T>;
  friend class WatchSender<T>;
  WatchReceiver(std::shared_ptr<internal::WatchState<T>> state, uint64_t version)
      : state_(std::move(state)), seen_(version) {}

  const std::shared_ptr<internal::WatchState<T>>& Checked(const char* operation) const {
    if (state_ == nullptr) [[unlikely]]
      internal::WatchMovedFrom(operation, "coral::WatchReceiver");
    return state_;
  }
  void Drop() {
    if (state_ == nullptr) return;
    // relaxed: see WatchSeen::busy.
    internal::LetBorrowersGoAtShutdown(
        [this] { return seen_.busy.load(std::memory_order_relaxed); });
    seen_.CheckIdle();
    std::exchange(state_, nullptr)->DropReceiver();
  }

  std::shared_ptr<internal::WatchState<T>> state_;
  internal::WatchSeen seen_;
};

}  // namespace coral

#endif  // CORAL_WATCH_H_
