// Copyright 2026 The coral Authors.

#include "coral/interval.h"

#include <cstdint>

#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/sleep.h"

namespace coral {

Interval::Interval(absl::Duration period, MissedTicks missed, Instant start)
    : period_(period), missed_(missed), next_(start) {
  CORAL_CHECK(period > absl::ZeroDuration(), "coral::Interval needs a positive period");
}

Interval::~Interval() {
  internal::LetBorrowersGoAtShutdown([this] { return ticking_; });
  CORAL_CHECK(!ticking_, "a coral::Interval destroyed while a task awaits its Tick");
}

Task<absl::Status> Interval::Tick() {
  CORAL_CHECK(!ticking_, "coral::Interval::Tick awaited by two tasks at once");
  ticking_ = true;
  // Cleared however the Tick ends, also when its task is torn down while it sleeps.
  struct TickingScope {
    bool* ticking;
    ~TickingScope() { *ticking = false; }
  } scope{&ticking_};
  absl::Status slept = co_await SleepUntil(next_);
  if (!slept.ok()) co_return slept;  // Nothing consumed: next_ is still due.
  Advance(Now());
  co_return absl::OkStatus();
}

void Interval::Advance(Instant now) {
  // Whole periods between the tick's due time and now: 0 unless the task fell behind.
  absl::Duration remainder;
  const int64_t behind = absl::IDivDuration(now - next_, period_, &remainder);
  if (behind == 0) {
    next_ += period_;
    return;
  }
  switch (missed_) {
    case MissedTicks::kSkip:
      next_ += (behind + 1) * period_;
      break;
    case MissedTicks::kBurst:
      next_ += period_;
      break;
    case MissedTicks::kDelay:
      next_ = now + period_;
      break;
  }
}

}  // namespace coral
