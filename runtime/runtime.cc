// Copyright 2026 The coral Authors.
//
// coral::Runtime and the out-of-line halves of JoinHandle and Yield.

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

bool JoinAwaiterBase::await_suspend(std::coroutine_handle<> awaiter) {
  TaskHeader* self = CurrentTask();
  CORAL_CHECK(self != nullptr,
              "a coral::JoinHandle was awaited outside a coral task (use Runtime::BlockOn)");
  self->set_resume_point(awaiter);
  registered_ = joined_->RegisterJoinWaiter(self);
  return registered_;
}

bool JoinAwaiterBase::JoinedWithoutOutput() noexcept {
  registered_ = false;  // Resumed: the joined task completed and released us.
  return joined_->LoadState() & task_state::kFrameDestroyed;
}

absl::Status CancelledJoinStatus() {
  return absl::CancelledError("task was aborted or its runtime shut down before it finished");
}

void AbortTask(TaskHeader* task) {
  if (task->TransitionToCancelled()) task->scheduler()->Submit(task);
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
          options.num_workers > 0 ? options.num_workers : DefaultWorkerCount())) {}

Runtime::~Runtime() { Shutdown(); }

int Runtime::num_workers() const noexcept { return scheduler_->num_workers(); }

void Runtime::Shutdown() { scheduler_->Shutdown(); }

void Runtime::CheckBlockOnAllowed() const {
  CORAL_CHECK(internal::CurrentScheduler() == nullptr,
              "Runtime::BlockOn called from a coral worker thread; it would block the worker "
              "(co_await the task instead)");
}

}  // namespace coral
