// Copyright 2026 The coral Authors.
//
// coral::Runtime. JoinHandle's out-of-line half is in join_handle.cc, FatalMisuse in check.cc.

#include "coral/runtime.h"

#include <memory>
#include <thread>

#include "runtime/scheduler.h"

namespace coral {

namespace {

int DefaultWorkerCount() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace

Runtime::Runtime() : Runtime(Options{}) {}

Runtime::Runtime(Options options)
    : scheduler_(std::make_unique<internal::Scheduler>(
          options.num_workers > 0 ? options.num_workers : DefaultWorkerCount(),
          options.start_paused, options.auto_advance, options.schedule_seed,
          options.deterministic)) {}

Runtime::~Runtime() { Shutdown(); }

int Runtime::num_workers() const noexcept { return scheduler_->num_workers(); }

void Runtime::Shutdown() { scheduler_->Shutdown(); }

Instant Runtime::Now() const { return scheduler_->clock().Now(); }

void Runtime::AdvanceTime(absl::Duration d) {
  CORAL_CHECK(internal::CurrentScheduler() == nullptr,
              "Runtime::AdvanceTime called from a coral worker thread; it would wait for itself "
              "(co_await coral::AdvanceTime instead)");
  internal::Clock& clock = scheduler_->clock();
  CORAL_CHECK(
      clock.paused(),
      "Runtime::AdvanceTime on a runtime whose clock is not paused (Options::start_paused)");
  const Instant target = clock.Now() + d;
  const uint64_t ticket = clock.AllowAdvanceTo(target);
  scheduler_->RequestIdleCheck();
  clock.WaitUntilIdleAt(target, ticket);
  clock.WithdrawAdvance(target);
}

void Runtime::CheckBlockOnAllowed() const {
  CORAL_CHECK(internal::CurrentScheduler() == nullptr,
              "Runtime::BlockOn called from a coral worker thread; it would block the worker "
              "(co_await the task instead)");
}

}  // namespace coral
