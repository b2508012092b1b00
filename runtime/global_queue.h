// Copyright 2026 The coral Authors.
//
// GlobalQueue: the injection queue for tasks spawned or woken off the workers, and for a local
// queue's overflow. A spin-lock-protected intrusive FIFO (TaskHeader::queue_next); workers take
// batches, so the lock is taken once per batch, not once per task. Closed at shutdown: pushes are
// then refused and the caller tears the task down.

#ifndef CORAL_RUNTIME_GLOBAL_QUEUE_H_
#define CORAL_RUNTIME_GLOBAL_QUEUE_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/sync_primitives.h"
#include "coral/internal/task_header.h"

namespace coral::internal {

class LocalQueue;

class GlobalQueue {
 public:
  GlobalQueue() = default;
  GlobalQueue(const GlobalQueue&) = delete;
  GlobalQueue& operator=(const GlobalQueue&) = delete;

  // Appends `task`. Returns false, leaving the task to the caller, once the queue is closed.
  [[nodiscard]] bool Push(TaskHeader* task);
  // Appends the `count` tasks linked from `first` to `last` (a worker's overflow; never after
  // Close, which runs once the workers have stopped).
  void PushBatch(TaskHeader* first, TaskHeader* last, uint32_t count);
  // Takes up to `max` tasks: returns the first, pushes the rest onto `local`. Null if empty.
  TaskHeader* PopBatchInto(LocalQueue& local, uint32_t max);
  // Refuses later pushes and returns everything queued, linked through queue_next.
  TaskHeader* Close();

  // Any thread, approximate.
  bool MaybeHasTasks() const {
    // seq_cst: the parker's side of the parking protocol (scheduler.cc, "Parking").
    return size_.load() != 0;
  }
  size_t ApproximateSize() const {
    // relaxed: a sizing hint only.
    return size_.load(std::memory_order_relaxed);
  }

 private:
  SpinLock mu_;
  TaskHeader* head_ ABSL_GUARDED_BY(mu_) = nullptr;
  TaskHeader* tail_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Mirrors the list length for lock-free emptiness checks; written only under mu_.
  Atomic<size_t> size_{0};
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_GLOBAL_QUEUE_H_
