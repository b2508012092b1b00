// Copyright 2026 The coral Authors.

#include "coral/spawn_blocking.h"

#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "runtime/scheduler.h"

namespace coral::internal {

void BlockingCallState::SetWaiter(TaskHeader* task) {
  task->AddReference();  // The waker reference, handed to Wake by Complete.
  std::lock_guard<std::mutex> lock(mu_);
  waiter_ = task;
}

void BlockingCallState::Complete() {
  TaskHeader* waiter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiter = std::exchange(waiter_, nullptr);
  }
  if (waiter != nullptr) Wake(waiter);
}

void BlockingCallState::Abandon() {
  TaskHeader* waiter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiter = std::exchange(waiter_, nullptr);
  }
  if (waiter != nullptr) waiter->DropReference();
}

TaskHeader* CurrentTaskForBlocking() {
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, "coral::SpawnBlocking awaited outside a coral task");
  return task;
}

bool SubmitBlocking(absl::AnyInvocable<void() &&> job) {
  Worker* worker = CurrentWorker();
  CORAL_CHECK(worker != nullptr, "coral::SpawnBlocking awaited outside a coral worker");
  return worker->scheduler()->blocking_pool().Submit(std::move(job));
}

}  // namespace coral::internal
