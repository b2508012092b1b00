// Copyright 2026 The coral Authors.
//
// coral::Interval: a ticker for periodic work (heartbeats, flushes, cache refreshes).
//
//   coral::Interval heartbeat(absl::Seconds(1));
//   while ((co_await heartbeat.Tick()).ok()) {
//     co_await SendHeartbeat();
//   }
//
// Ticks fall on a fixed schedule, start + k * period, on the runtime's monotonic clock (clock.h:
// a step of the wall clock moves no tick; a paused runtime's clock is virtual), however long the
// work between them takes:
// the first Tick completes at `start` (at once, by default), and each later one at the next point
// of the schedule. A task that falls behind (a Tick called after the following tick was already
// due) gets what MissedTicks says:
//   - kSkip (the default, as Go's time.Ticker): the late tick completes at once, and the ticks
//     whose time has passed are dropped; the schedule is kept.
//   - kBurst (tokio's default): every tick whose time has passed completes at once, one per
//     Tick, until the task has caught up with the schedule.
//   - kDelay: the late tick completes at once, and the schedule restarts from then.
//
// `start` is an Instant, or an absl::Time converted to one once, when the Interval is made; the
// default, now, reads the clock of the runtime whose worker makes the Interval (the real clock
// elsewhere: make an Interval for a paused runtime inside one of its tasks).
//
// `co_await Tick()` yields absl::Status: OK at the tick, CancelledError if the task's token was
// cancelled first. Must be awaited inside a coral task; an Interval is for one task at a time
// and must outlive its Tick: two Ticks at once, or destroying the Interval while a task awaits
// its Tick, abort with a message. An Interval is neither copied nor moved.
//
// Cancellation: a cancelled Tick consumes no tick (the next Tick completes at the same point of
// the schedule), so Tick may race other waits (in a WhenAny, or under a Timeout).

#ifndef CORAL_INTERVAL_H_
#define CORAL_INTERVAL_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coral/clock.h"
#include "coral/task.h"

namespace coral {

class Interval {
 public:
  enum class MissedTicks { kSkip, kBurst, kDelay };

  // `period` must be positive (aborts otherwise).
  explicit Interval(absl::Duration period, MissedTicks missed = MissedTicks::kSkip)
      : Interval(period, missed, Now()) {}
  Interval(absl::Duration period, MissedTicks missed, Instant start);
  Interval(absl::Duration period, MissedTicks missed, absl::Time start)
      : Interval(period, missed, internal::FromWallTime(start)) {}
  Interval(const Interval&) = delete;
  Interval& operator=(const Interval&) = delete;
  ~Interval();  // Aborts if a task awaits Tick.

  // Completes at the next tick.
  Task<absl::Status> Tick();

  // Restarts the schedule: the next tick is one period from now.
  void Reset() { next_ = Now() + period_; }

  // When the next Tick completes (in the past if the task fell behind).
  Instant next_tick() const { return next_; }
  absl::Duration period() const { return period_; }

 private:
  // After a tick at next_ completed at `now`: moves next_ on, by MissedTicks.
  void Advance(Instant now);

  const absl::Duration period_;
  const MissedTicks missed_;
  Instant next_;  // When the next Tick completes.
  // A Tick is running. Set and cleared by the ticking task; read by the next Tick and by the
  // destructor, which a correct program orders after the Tick (one task at a time, outlives it).
  bool ticking_ = false;
};

}  // namespace coral

#endif  // CORAL_INTERVAL_H_
