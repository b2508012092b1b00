// Copyright 2026 The coral Authors.
//
// coral::Runtime, the out-of-line half of JoinHandle (awaiting and aborting a task), and
// FatalMisuse (coral/internal/check.h). Yield's lives with the scheduler (runtime/scheduler.cc).

#include "coral/runtime.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "coral/join_handle.h"
#include "runtime/scheduler.h"

namespace coral {
namespace internal {

void FatalMisuse(const char* message, const char* file, int line) {
  std::fprintf(stderr, "coral: fatal misuse: %s (%s:%d)\n", message, file, line);
  std::fflush(stderr);
  std::abort();
}

JoinAwaiterBase::~JoinAwaiterBase() {
  Disarm();
  if (registered_) {
    if (TaskHeader* waiter = joined_->UnregisterJoinWaiter()) waiter->DropReference();
  }
  if (referenced_) joined_->DropReference();
}

bool JoinAwaiterBase::await_suspend(std::coroutine_handle<> awaiter) {
  // A budget yield (budget.h) holds the joined task as a wait does: the join retries next turn.
  if (budget_.YieldIfSpent(this, awaiter)) {
    HoldJoined();
    return true;
  }
  TaskHeader* self = CurrentTask();
  CORAL_CHECK(self != nullptr,
              "a coral::JoinHandle was awaited outside a coral task (use Runtime::BlockOn)");
  if (CancellableWait::AlreadyCancelled(self)) {
    MarkCancelled();
    return false;
  }
  self->set_resume_point(awaiter);
  // Our own reference: the handle we were made from may be dropped while we wait.
  HoldJoined();
  registered_ = joined_->RegisterJoinWaiter(self);
  if (!registered_) return false;
  Arm(self, &OnCancel);
  return true;
}

void JoinAwaiterBase::HoldJoined() {
  if (!referenced_) joined_->AddReference();
  referenced_ = true;
}

void JoinAwaiterBase::OnCancel(CancellationNode* node) {
  auto* self = static_cast<JoinAwaiterBase*>(FromNode(node));
  if (TaskHeader* waiter = self->joined_->UnregisterJoinWaiter()) {
    self->MarkCancelled(waiter);
    Wake(waiter);  // The waiter's reference, taken back from the joined task.
  }
}

bool JoinAwaiterBase::WaitCancelled() noexcept {
  Disarm();
  registered_ = false;  // Resumed: released by the joined task's completion or by the cancellation.
  return cancelled();
}

bool JoinAwaiterBase::JoinedWithoutOutput() noexcept {
  return joined_->LoadState() & task_state::kFrameDestroyed;
}

absl::Status CancelledWaitStatus() {
  return absl::CancelledError("the awaiting task was cancelled");
}

absl::Status CancelledJoinStatus() {
  return absl::CancelledError("task was aborted or its runtime shut down before it finished");
}

void AbortTask(TaskHeader* task) {
  if (task->TransitionToCancelled()) task->scheduler()->SubmitWoken(task);
}

}  // namespace internal

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
          options.start_paused, options.auto_advance)) {}

Runtime::~Runtime() { Shutdown(); }

int Runtime::num_workers() const noexcept { return scheduler_->num_workers(); }

void Runtime::Shutdown() { scheduler_->Shutdown(); }

Instant Runtime::Now() const { return scheduler_->clock().Now(); }

void Runtime::AdvanceTime(absl::Duration d) {
  CORAL_CHECK(internal::CurrentScheduler() == nullptr,
              "Runtime::AdvanceTime called from a coral worker thread; it would wait for itself "
              "(co_await coral::AdvanceTime instead)");
  internal::Clock& clock = scheduler_->clock();
  CORAL_CHECK(clock.paused(),
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
