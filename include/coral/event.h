// Copyright 2026 The coral Authors.
//
// coral::Event: a manual-reset event for tasks.
//
//   coral::Event ready;
//   ... in one task:   ready.Set();
//   ... in others:     absl::Status s = co_await ready.Wait();
//
// Set() releases every waiter and lets later Wait()s through until Reset(). Waiters are
// scheduled, never resumed inside Set(). Set and Reset may be called from any thread.
//
// Cancellation: a waiter whose token is cancelled stops waiting; Wait() returns
// absl::CancelledError. A Set() that races the cancellation wins (Wait() returns OK).
//
// Misuse: destroying an Event while a task waits on it aborts with a message (a task inside
// co_await Wait() counts as waiting from the start, also while it yields its worker for the
// cooperative budget).

#ifndef CORAL_EVENT_H_
#define CORAL_EVENT_H_

#include "coral/internal/gate.h"

namespace coral {

class Event {
 public:
  explicit Event(bool set = false) : gate_(set) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void Set() { gate_.Open(); }
  void Reset() { gate_.Close(); }
  bool IsSet() const noexcept { return gate_.IsOpen(); }
  // co_await Wait(): absl::Status, OK once the event is set.
  internal::Gate::Awaiter Wait() { return gate_.Wait(); }

 private:
  internal::Gate gate_;
};

}  // namespace coral

#endif  // CORAL_EVENT_H_
