// Copyright 2026 The coral Authors.

#include "coral/sleep.h"

#include <new>

#include "absl/cleanup/cleanup.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "runtime/scheduler.h"
#include "runtime/timer_queue.h"

namespace coral::internal {

bool SleepAwaiter::await_suspend(std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self)) return true;
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, "coral::SleepFor/SleepUntil awaited outside a coral task");
  if (CancellableWait::AlreadyCancelled(task)) {
    MarkCancelled();
    return false;
  }
  // Before anything is taken: await_suspend also runs from the budget retry's Resumer, where an
  // exception would have nowhere to go, so the failure is kept for await_resume.
  try {
    CurrentTimers().Reserve();
  } catch (const std::bad_alloc&) {
    out_of_memory_ = true;
    return false;
  }
  task->set_resume_point(self);
  task->AddReference();  // The waker reference: the timer's, or the cancellation's if it removes
                         // it.
  entry_.callback = [](void* target) { Wake(static_cast<TaskHeader*>(target)); };
  entry_.target = task;
  armed_ = true;
  CurrentTimers().Insert(&entry_);
  Arm(task, &OnCancel);
  return true;
}

void SleepAwaiter::OnCancel(CancellationNode* node) {
  auto* self = static_cast<SleepAwaiter*>(FromNode(node));
  if (self->entry_.queue->Remove(&self->entry_)) {
    auto* task = static_cast<TaskHeader*>(self->entry_.target);
    self->MarkCancelled(task);
    Wake(task);
  }
}

absl::Status SleepAwaiter::await_resume() noexcept {
  armed_ = false;
  Disarm();
  if (cancelled()) return absl::CancelledError("the sleeping task was cancelled");
  if (out_of_memory_)
    return absl::ResourceExhaustedError("coral sleep: out of memory for its timer");
  return absl::OkStatus();
}

SleepAwaiter::~SleepAwaiter() {
  Disarm();  // The callback is not running after this.
  // Destroyed while armed: the task is being torn down. If the timer has not fired, it never will.
  if (armed_ && entry_.queue->Remove(&entry_))
    static_cast<TaskHeader*>(entry_.target)->DropReference();
}

}  // namespace coral::internal

namespace coral {

Task<absl::Status> AdvanceTime(absl::Duration d) {
  internal::Scheduler* scheduler = internal::CurrentScheduler();
  CORAL_CHECK(scheduler != nullptr, "coral::AdvanceTime awaited outside a coral task");
  CORAL_CHECK(scheduler->clock().paused(),
              "coral::AdvanceTime on a runtime whose clock is not paused (Options::start_paused)");
  internal::Clock& clock = scheduler->clock();
  const Instant target = Now() + d;
  clock.AllowAdvanceTo(target);
  // However the sleep ends (at the target, cancelled, or torn down with the task): a cancelled
  // advance leaves the clock where it stands, and no limit behind.
  absl::Cleanup withdraw = [&clock, target] { clock.WithdrawAdvance(target); };
  co_return co_await SleepUntil(target);
}

}  // namespace coral
