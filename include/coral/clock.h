// Copyright 2026 The coral Authors.
//
// coral's clock: coral::Instant, coral::Now(), and paused time for tests.
//
//   const coral::Instant start = coral::Now();
//   co_await coral::SleepFor(absl::Milliseconds(10));
//   absl::Duration took = coral::Now() - start;   // >= 10 ms
//
// Contract:
//   - Every timer of a runtime (SleepFor, SleepUntil, Timeout, Interval, deadlines, connect
//     timeouts) runs on one monotonic clock: the runtime's clock. It never goes back and is
//     not moved by a step of the wall clock (NTP, settimeofday, a VM resumed). Its readings are
//     coral::Instants: nanoseconds since an unspecified origin (boot, for the real clock), with no
//     relation to wall time. Durations are absl::Duration throughout.
//   - coral::Now() reads the clock of the runtime whose worker is calling; on any other thread
//     (main, a SpawnBlocking call, a thread of your own) it reads the real monotonic clock
//     (CLOCK_MONOTONIC). Runtime::Now() reads a given runtime's clock from any thread.
//   - APIs that take an absolute wall-clock time (SleepUntil(absl::Time), Interval's absl::Time
//     start, CancellationSource::WithDeadline(absl::Time)) convert it once, at the call, to the
//     Instant as far from Now() as the time is from absl::Now(); a later step of the wall clock
//     does not move it. absl::InfiniteFuture() and absl::InfinitePast() map to the infinite
//     Instants. Prefer the Instant and Duration forms.
//
// Paused time (a test clock). A runtime made with Options{.start_paused = true} has a virtual
// clock: it starts at the real monotonic now and moves only as described here, so a test of
// timer logic can assert exact times, and a sleep of an hour takes no real time.
//   - Auto-advance (Options::auto_advance, on by default, tokio::time::pause's rule): when the
//     runtime is idle and a timer is pending, the clock jumps to the earliest deadline and the
//     timers due then fire; the tasks they wake run, and only when the runtime is idle again
//     does it jump to the next. Timers therefore fire in deadline order, each at exactly its
//     deadline as the woken task sees Now().
//   - Idle means all of: every worker is parked (none runs or holds a task, none searches, the
//     global queue is empty), no SpawnBlocking call is in flight (its completion may wake a task),
//     and a non-blocking poll of every worker's fds finds none ready; with several workers, this
//     must hold again after every worker has been woken once more and parked without starting
//     a task (so that fd events a worker took from epoll just before are not lost). The last
//     worker to park checks this; a SpawnBlocking call that completes while every worker is
//     parked has one check again. Work from outside the runtime does not hold the clock back:
//     a wake from a thread of your own, a Runtime::Spawn, or an fd that becomes ready only after
//     the check (a peer in another process, a real network) may come after the clock jumped, as
//     in tokio. Loopback traffic between tasks of the runtime is ready by the time the writer
//     parks, so it is exact.
//   - With auto_advance = false the clock moves only when told: Runtime::AdvanceTime(d) from
//     outside the runtime, co_await AdvanceTime(d) from a task (coral/sleep.h). Either moves it
//     to now + d in the same steps as auto-advance (deadline by deadline, waiting for idle at
//     each), then to now + d.
//   - A step costs every worker a wake-up (tens of microseconds), not the time stepped over.
//   - All workers see one virtual now. Sleeps, timeouts and deadlines that begin in a task read
//     it; the kernel's own timeouts (SO_RCVTIMEO, TCP retransmission) and absl::Now() do not.

#ifndef CORAL_CLOCK_H_
#define CORAL_CLOCK_H_

#include <ostream>

#include "absl/time/time.h"

namespace coral {

// A point on the runtime's monotonic clock (see the contract above). A value type, 16 bytes;
// arithmetic saturates at the infinite Instants as absl::Duration's does.
class Instant {
 public:
  // The clock's origin.
  constexpr Instant() = default;

  static constexpr Instant InfiniteFuture() { return Instant(absl::InfiniteDuration()); }
  static constexpr Instant InfinitePast() { return Instant(-absl::InfiniteDuration()); }

  // The time since the clock's origin (for logging and tests; the origin has no meaning).
  constexpr absl::Duration SinceOrigin() const { return since_origin_; }
  static constexpr Instant FromSinceOrigin(absl::Duration d) { return Instant(d); }

  Instant& operator+=(absl::Duration d) {
    since_origin_ += d;
    return *this;
  }
  Instant& operator-=(absl::Duration d) {
    since_origin_ -= d;
    return *this;
  }
  friend Instant operator+(Instant t, absl::Duration d) { return t += d; }
  friend Instant operator+(absl::Duration d, Instant t) { return t += d; }
  friend Instant operator-(Instant t, absl::Duration d) { return t -= d; }
  friend absl::Duration operator-(Instant a, Instant b) {
    return a.since_origin_ - b.since_origin_;
  }

  friend bool operator==(Instant a, Instant b) { return a.since_origin_ == b.since_origin_; }
  friend bool operator!=(Instant a, Instant b) { return a.since_origin_ != b.since_origin_; }
  friend bool operator<(Instant a, Instant b) { return a.since_origin_ < b.since_origin_; }
  friend bool operator<=(Instant a, Instant b) { return a.since_origin_ <= b.since_origin_; }
  friend bool operator>(Instant a, Instant b) { return a.since_origin_ > b.since_origin_; }
  friend bool operator>=(Instant a, Instant b) { return a.since_origin_ >= b.since_origin_; }

  friend std::ostream& operator<<(std::ostream& os, Instant t) {
    return os << "Instant(" << t.since_origin_ << ")";
  }

 private:
  explicit constexpr Instant(absl::Duration since_origin) : since_origin_(since_origin) {}

  absl::Duration since_origin_;
};

// The current Instant of the calling worker's runtime clock (virtual in a paused runtime), or of
// the real monotonic clock off the workers. Never goes back.
Instant Now();

namespace internal {
// The real monotonic clock (CLOCK_MONOTONIC), whatever runtime is calling.
Instant RealNow();
// The Instant as far from Now() as `t` is from absl::Now(); infinite times stay infinite.
Instant FromWallTime(absl::Time t);
}  // namespace internal

}  // namespace coral

#endif  // CORAL_CLOCK_H_
