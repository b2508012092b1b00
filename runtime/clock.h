// Copyright 2026 The coral Authors.
//
// Clock: a runtime's clock (include/coral/clock.h has the contract). Real, it reads
// CLOCK_MONOTONIC. Paused, it holds a virtual now that only the scheduler's idle check
// (Scheduler::AdvancePausedClock, see "Timers and the clock" in scheduler.cc) moves, up to a
// limit: infinite with auto-advance, else the furthest target of an AdvanceTime under way.

#ifndef CORAL_RUNTIME_CLOCK_H_
#define CORAL_RUNTIME_CLOCK_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

#include "coral/clock.h"

namespace coral::internal {

class Clock {
 public:
  Clock(bool paused, bool auto_advance);
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  bool paused() const { return paused_; }
  // Any thread.
  Instant Now() const {
    if (!paused_) return RealNow();
    // acquire: pairs with Set's release. (Tasks that run after an advance are also ordered
    // after it by the queue hand-off that started them; a stale read elsewhere is a past Instant.)
    return Instant::FromSinceOrigin(absl::Nanoseconds(now_ns_.load(std::memory_order_acquire)));
  }

  // --- Paused clocks only. ---
  // Lets the clock move up to `target`, and moves it there when the runtime is idle with nothing
  // due before, until WithdrawAdvance(target). Returns a ticket for WaitUntilIdleAt.
  uint64_t AllowAdvanceTo(Instant target);
  // Ends one AllowAdvanceTo(target): the clock stays where it is, unless another one is under way.
  void WithdrawAdvance(Instant target);
  // Blocks until an idle check that began after the AllowAdvanceTo call that returned `ticket`
  // found the runtime idle at `target` or later, or until Shutdown.
  void WaitUntilIdleAt(Instant target, uint64_t ticket);
  // Releases every WaitUntilIdleAt, now and later.
  void Shutdown();

  // The idle check holds this lock across its decision and the advance.
  std::mutex& mu() { return mu_; }
  // With mu() held: how far the clock may advance (infinite with auto-advance, else the furthest
  // target under way, or now), and how far an idle runtime's clock is moved even with no timer
  // due (the furthest target under way; InfinitePast if none).
  Instant limit() const {
    return auto_advance_ ? Instant::InfiniteFuture() : std::max(Now(), advance_to());
  }
  Instant advance_to() const {
    return targets_.empty() ? Instant::InfinitePast() : *targets_.rbegin();
  }
  void Set(Instant now);
  // The runtime was found idle at Now(): wakes the WaitUntilIdleAt calls it satisfies.
  void ReportIdle();

 private:
  const bool paused_;
  const bool auto_advance_;
  // The virtual now, in nanoseconds since the origin; written with mu_ held.
  std::atomic<int64_t> now_ns_;
  std::mutex mu_;
  std::condition_variable idle_changed_;
  std::multiset<Instant> targets_;             // Guarded by mu_: AllowAdvanceTo's, not withdrawn.
  Instant idle_at_ = Instant::InfinitePast();  // Guarded by mu_.
  uint64_t idle_reports_ = 0;                  // Guarded by mu_.
  bool shut_down_ = false;                     // Guarded by mu_.
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_CLOCK_H_
