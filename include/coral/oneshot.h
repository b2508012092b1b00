// Copyright 2026 The coral Authors.
//
// coral::Oneshot<T>: a channel for exactly one value, from one task to one other.
//
//   auto [tx, rx] = coral::Oneshot<int>::Make();
//   coral::Spawn([](coral::OneshotSender<int> tx) -> coral::Task<void> {
//     (void)tx.Send(42);
//     co_return;
//   }, std::move(tx));
//   absl::StatusOr<int> v = co_await rx.Recv();   // 42
//
// Send never waits; it fails with absl::FailedPreconditionError, returning the value, if the
// receiver is gone or a value was sent already. Dropping the sender without sending closes the
// oneshot: Recv returns absl::OutOfRangeError (also when it happens while Recv waits). Both
// handles are move-only; using a moved-from one aborts with a message. One task at a time waits in
// Recv: a second task awaiting the same receiver while one waits aborts with a message.
//
// Cancellation: a waiting Recv whose token is cancelled returns absl::CancelledError; the value,
// if it arrives later, is still there for the next Recv.

#ifndef CORAL_ONESHOT_H_
#define CORAL_ONESHOT_H_

#include <atomic>
#include <coroutine>
#include <memory>
#include <utility>

#include "coral/channel.h"
#include "coral/internal/check.h"

namespace coral {

namespace internal {

// A Oneshot's Recv: the channel's, checking that one task at a time waits.
template <typename T>
class [[nodiscard]] OneshotRecvAwaiter {
 public:
  OneshotRecvAwaiter(Receiver<T>& receiver, std::shared_ptr<std::atomic<bool>> waiting)
      : inner_(receiver.Recv()), waiting_(std::move(waiting)) {}
  OneshotRecvAwaiter(const OneshotRecvAwaiter&) = delete;
  OneshotRecvAwaiter& operator=(const OneshotRecvAwaiter&) = delete;
  ~OneshotRecvAwaiter() { StopWaiting(); }  // Torn down while waiting.

  bool await_ready() { return inner_.await_ready(); }
  bool await_suspend(std::coroutine_handle<> self) {
    // One read-modify-write: of two tasks racing here, exactly one reads false, in every
    // interleaving. relaxed: the flag only detects a second waiter; the channel's wait orders
    // everything else.
    CORAL_CHECK(!waiting_->exchange(true, std::memory_order_relaxed),
                "a coral::OneshotReceiver was awaited by two tasks at once (Recv has one waiter)");
    registered_ = true;
    if (inner_.await_suspend(self)) return true;
    StopWaiting();
    return false;
  }
  absl::StatusOr<T> await_resume() {
    StopWaiting();
    return inner_.await_resume();
  }

 private:
  void StopWaiting() {
    // relaxed: as in await_suspend.
    if (std::exchange(registered_, false)) waiting_->store(false, std::memory_order_relaxed);
  }

  RecvAwaiter<T> inner_;
  // Shared with the receiver, which may be dropped while we wait (the wait keeps the channel).
  std::shared_ptr<std::atomic<bool>> waiting_;
  bool registered_ = false;
};

}  // namespace internal

template <typename T>
class OneshotSender {
 public:
  OneshotSender(OneshotSender&&) noexcept = default;
  OneshotSender& operator=(OneshotSender&&) noexcept = default;

  // Delivers the value and closes the oneshot.
  SendResult<T> Send(T value) {
    CORAL_CHECK(sender_.valid(), "Send on a moved-from coral::OneshotSender");
    SendResult<T> result = sender_.TrySend(std::move(value));
    if (!result.ok() && !absl::IsFailedPrecondition(result.status)) {
      result.status = absl::FailedPreconditionError("coral::Oneshot: a value was sent already");
    }
    sender_.Close();
    return result;
  }

 private:
  template <typename U>
  friend struct Oneshot;
  explicit OneshotSender(Sender<T> sender) : sender_(std::move(sender)) {}

  Sender<T> sender_;
};

template <typename T>
class OneshotReceiver {
 public:
  OneshotReceiver(OneshotReceiver&&) noexcept = default;
  OneshotReceiver& operator=(OneshotReceiver&&) noexcept = default;

  // co_await Recv(): absl::StatusOr<T>. One waiting task at a time (see the header comment).
  internal::OneshotRecvAwaiter<T> Recv() {
    CORAL_CHECK(receiver_.valid(), "Recv on a moved-from coral::OneshotReceiver");
    return internal::OneshotRecvAwaiter<T>(receiver_, waiting_);
  }

 private:
  template <typename U>
  friend struct Oneshot;
  explicit OneshotReceiver(Receiver<T> receiver) : receiver_(std::move(receiver)) {}

  Receiver<T> receiver_;
  // A task waits in Recv. Shared with that wait's awaiter.
  std::shared_ptr<std::atomic<bool>> waiting_ = std::make_shared<std::atomic<bool>>(false);
};

template <typename T>
struct Oneshot {
  static std::pair<OneshotSender<T>, OneshotReceiver<T>> Make() {
    auto [sender, receiver] = Channel<T>::Bounded(1);
    return {OneshotSender<T>(std::move(sender)), OneshotReceiver<T>(std::move(receiver))};
  }
};

}  // namespace coral

#endif  // CORAL_ONESHOT_H_
