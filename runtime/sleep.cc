// Copyright 2026 The coral Authors.

#include "coral/sleep.h"

#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "runtime/scheduler.h"
#include "runtime/timer_queue.h"

namespace coral::internal {

void SleepAwaiter::await_suspend(std::coroutine_handle<> self) {
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, "coral::SleepFor/SleepUntil awaited outside a coral task");
  task->set_resume_point(self);
  task->AddReference();  // The timer's waker reference, consumed by the callback.
  entry_.callback = [](void* target) { Wake(static_cast<TaskHeader*>(target)); };
  entry_.target = task;
  armed_ = true;
  CurrentTimers().Insert(&entry_);
}

SleepAwaiter::~SleepAwaiter() {
  // Destroyed while armed: the task is being torn down. If the timer has not fired, it never will.
  if (armed_ && entry_.queue->Remove(&entry_)) static_cast<TaskHeader*>(entry_.target)->DropReference();
}

DeadlineAlarm::DeadlineAlarm(TaskHeader* task, absl::Time deadline) {
  task->AddReference();  // Keeps the task alive until the callback (or Disarm) releases it.
  entry_.deadline = deadline;
  entry_.callback = [](void* target) {
    auto* task = static_cast<TaskHeader*>(target);
    AbortTask(task);
    task->DropReference();
  };
  entry_.target = task;
  CurrentTimers().Insert(&entry_);
}

bool DeadlineAlarm::Disarm() {
  if (armed_) {
    armed_ = false;
    if (entry_.queue->Remove(&entry_)) {
      static_cast<TaskHeader*>(entry_.target)->DropReference();
    } else {
      fired_ = true;
    }
  }
  return fired_;
}

}  // namespace coral::internal
