// Copyright 2026 The coral Authors.
//
// For a model that compiles runtime/cancellation.cc: the clock and the timer queue behind its
// deadlines. The models make no token with a deadline, so these are linked in and never reached;
// reaching one fails the execution. Include after tests/model/model.h, once per model.

#ifndef CORAL_TESTS_MODEL_UNREACHED_DEADLINES_H_
#define CORAL_TESTS_MODEL_UNREACHED_DEADLINES_H_

#include <cstdlib>

#include "absl/time/time.h"
#include "coral/clock.h"
#include "runtime/timer_queue.h"

namespace coral {

Instant Now() {
  RL_ASSERT(false);
  std::abort();
}

}  // namespace coral

namespace coral::internal {

Instant FromWallTime(absl::Time) {
  RL_ASSERT(false);
  std::abort();
}
TimerQueue& CurrentTimers() {
  RL_ASSERT(false);
  std::abort();
}
void TimerQueue::Reserve() { RL_ASSERT(false); }
void TimerQueue::Insert(TimerEntry*) { RL_ASSERT(false); }
bool TimerQueue::Remove(TimerEntry*) {
  RL_ASSERT(false);
  return false;
}

}  // namespace coral::internal

#endif  // CORAL_TESTS_MODEL_UNREACHED_DEADLINES_H_
