// Copyright 2026 The coral Authors.

#include "runtime/clock.h"

#include <time.h>

#include "absl/time/clock.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "runtime/scheduler.h"

namespace coral {

namespace internal {

Instant RealNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Instant::FromSinceOrigin(absl::DurationFromTimespec(ts));
}

Instant FromWallTime(absl::Time t) {
  if (t == absl::InfiniteFuture()) return Instant::InfiniteFuture();
  if (t == absl::InfinitePast()) return Instant::InfinitePast();
  return Now() + (t - absl::Now());
}

Clock::Clock(bool paused, bool auto_advance)
    : paused_(paused),
      auto_advance_(auto_advance),
      now_ns_(absl::ToInt64Nanoseconds(RealNow().SinceOrigin())) {}

uint64_t Clock::AllowAdvanceTo(Instant target) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.insert(target);
  return idle_reports_;
}

void Clock::WithdrawAdvance(Instant target) {
  std::lock_guard<std::mutex> lock(mu_);
  targets_.erase(targets_.find(target));
}

void Clock::WaitUntilIdleAt(Instant target, uint64_t ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  idle_changed_.wait(lock,
                     [&] { return shut_down_ || (idle_reports_ > ticket && idle_at_ >= target); });
}

void Clock::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
  }
  idle_changed_.notify_all();
}

void Clock::Set(Instant now) {
  // release: pairs with Now's acquire.
  now_ns_.store(absl::ToInt64Nanoseconds(now.SinceOrigin()), std::memory_order_release);
}

void Clock::ReportIdle() {
  idle_at_ = Now();
  ++idle_reports_;
  idle_changed_.notify_all();
}

}  // namespace internal

Instant Now() {
  if (internal::Scheduler* scheduler = internal::CurrentScheduler()) {
    return scheduler->clock().Now();
  }
  return internal::RealNow();
}

}  // namespace coral
