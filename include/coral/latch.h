// Copyright 2026 The coral Authors.
//
// coral::Latch: a single-use countdown for tasks (std::latch for coroutines).
//
//   coral::Latch done(3);
//   ... each of 3 tasks:  done.CountDown();
//   ... a waiter:         absl::Status s = co_await done.Wait();
//
// Wait() completes once the count has reached zero. CountDown may be called from any thread;
// counting below zero is a misuse and aborts.
//
// Cancellation: a waiter whose token is cancelled stops waiting; Wait() returns
// absl::CancelledError. Reaching zero at the same moment wins (Wait() returns OK).
//
// Misuse: destroying a Latch while a task waits on it aborts with a message (a task inside
// co_await Wait() counts as waiting from the start, also while it yields its worker for the
// cooperative budget).

#ifndef CORAL_LATCH_H_
#define CORAL_LATCH_H_

#include <atomic>
#include <cstdint>

#include "coral/internal/check.h"
#include "coral/internal/gate.h"

namespace coral {

class Latch {
 public:
  explicit Latch(int64_t count) : count_(count), gate_(count == 0) {
    CORAL_CHECK(count >= 0, "coral::Latch needs a count >= 0");
  }
  Latch(const Latch&) = delete;
  Latch& operator=(const Latch&) = delete;

  void CountDown(int64_t n = 1) {
    // acq_rel: the last decrement sees every earlier counter's work, and publishes it by opening.
    const int64_t before = count_.fetch_sub(n, std::memory_order_acq_rel);
    CORAL_CHECK(before >= n, "coral::Latch counted down below zero");
    if (before == n) gate_.Open();
  }
  bool TryWait() const noexcept { return gate_.IsOpen(); }
  // co_await Wait(): absl::Status, OK once the count is zero.
  internal::Gate::Awaiter Wait() { return gate_.Wait(); }

 private:
  std::atomic<int64_t> count_;
  internal::Gate gate_;
};

}  // namespace coral

#endif  // CORAL_LATCH_H_
