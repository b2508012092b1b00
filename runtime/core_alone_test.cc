// Copyright 2026 The coral Authors.
//
// The scheduler core on its own: a program made of //runtime:core and nothing above it links and
// runs. A function that the core calls but leaves to a layer above to define (as the TaskGroup
// teardown hook once was) fails this link; .ci/check_layers checks the build graph itself.

#include <memory>

#include "coral/clock.h"
#include "coral/internal/cancellation_state.h"
#include "coral/internal/scheduler_entry.h"
#include "gtest/gtest.h"
#include "runtime/scheduler.h"

namespace coral::internal {
namespace {

TEST(CoreAloneTest, SchedulerStartsAndShutsDown) {
  // On the heap, as Runtime holds it: the scheduler is over-aligned (64), which a stack frame of
  // ASan's use-after-return mode does not provide.
  auto scheduler = std::make_unique<Scheduler>(2);
  EXPECT_EQ(scheduler->num_workers(), 2);
  EXPECT_EQ(CurrentScheduler(), nullptr);  // This thread is not one of its workers.
  const Instant before = scheduler->clock().Now();
  EXPECT_LE(before, scheduler->clock().Now());
  scheduler->Shutdown();
}

TEST(CoreAloneTest, CancellingAParentCancelsItsChild) {
  CancellationState* parent = CancellationState::Create(nullptr);
  CancellationState* child = CancellationState::Create(parent);
  parent->Cancel();
  EXPECT_TRUE(child->IsCancelled());
  EXPECT_TRUE(child->CancelledByParent());
  child->DropReference();
  parent->DropReference();
}

}  // namespace
}  // namespace coral::internal
