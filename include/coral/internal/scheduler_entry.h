// Copyright 2026 The coral Authors.
//
// The scheduler core's entry points for the layers above it (tasks, awaitables, primitives, I/O).
// Private to coral. Every function is defined out of line in the core (runtime/scheduler.cc,
// runtime/cancellation.cc), so a coroutine that migrates between threads never reuses a
// thread-local address computed on the thread it left.

#ifndef CORAL_INTERNAL_SCHEDULER_ENTRY_H_
#define CORAL_INTERNAL_SCHEDULER_ENTRY_H_

#include "coral/internal/cancellation_state.h"
#include "coral/internal/task_header.h"

namespace coral::internal {

// The scheduler of the worker thread calling, or null on any other thread.
Scheduler* CurrentScheduler() noexcept;
// The spawned task the calling worker is running, or null.
TaskHeader* CurrentTask() noexcept;
// True on a thread that is tearing a task down (destroying its frame without resuming it).
bool InTeardown();
// Hands a waker's reference on `task` to the scheduler: queues the task if it is idle.
void Wake(TaskHeader* task);
// The current task's token with a new reference for a task it spawns, or null outside a task.
CancellationState* InheritedCancellation();
// Pushes a newly spawned task (holding one queue reference): on the calling worker's queues if it
// belongs to `scheduler`, else on the global injection queue. After shutdown the task is torn down
// at once, and its JoinHandle reports cancellation.
void SubmitNewTask(Scheduler* scheduler, TaskHeader* task);

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_SCHEDULER_ENTRY_H_
