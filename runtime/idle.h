// Copyright 2026 The coral Authors.
//
// Idle: which workers are searching for work and which are parked, so that a submitter wakes a
// worker only when none is already searching (scheduler.cc, "Parking"). The two counts share one
// atomic word so that a submitter reads both with one operation.

#ifndef CORAL_RUNTIME_IDLE_H_
#define CORAL_RUNTIME_IDLE_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "coral/internal/sync_primitives.h"
#include "runtime/mutex.h"

namespace coral::internal {

class Idle {
 public:
  explicit Idle(int num_workers);

  // A worker with nothing local asks to search (steal). Refused when half the workers already
  // search: more thieves would only contend on the same victims.
  bool TransitionToSearching();
  // A searching worker found work. Returns true if it was the last searcher: the caller must then
  // wake another worker, since more work may follow.
  bool TransitionFromSearching();
  // A worker is about to park. Returns true if it was the last searcher: the caller must re-check
  // every queue before sleeping.
  bool TransitionToParked(int worker, bool searching);
  // A worker returned from its park. Returns true if a notifier woke it (it now counts as
  // searching); false if it woke by itself (it now counts as running).
  bool TransitionFromParked(int worker);
  // Picks a parked worker to wake for new work and counts it as searching, or returns -1 if a
  // worker is already searching or none is parked.
  int WorkerToNotify();
  // Wakes every parked worker but `except`, counting each as searching (a paused clock's
  // confirmation round, scheduler.cc "Timers and the clock"). Returns the workers to unpark.
  std::vector<int> NotifyAllParked(int except);
  // True if every worker is parked (none notified or running). seq_cst: the monitor's side of
  // its sleep handshake (runtime/monitor.cc).
  bool AllParked() const { return Unparked(state_.load()) == 0; }

 private:
  // Reads state_ after the caller's earlier push with a StoreLoad barrier in between.
  uint32_t LoadAfterPush();

  static constexpr uint32_t kUnparkedOne = 1 << 16;
  static uint32_t Searching(uint32_t state) { return state & (kUnparkedOne - 1); }
  static uint32_t Unparked(uint32_t state) { return state >> 16; }

  const uint32_t num_workers_;
  // Searching count in the low 16 bits, unparked count above. Every access is seq_cst: it is
  // one side of the Dekker-style handshake between submitters and parkers.
  Atomic<uint32_t> state_;
  Mutex mu_;
  std::vector<int> sleepers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_IDLE_H_
