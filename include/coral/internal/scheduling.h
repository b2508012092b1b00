// Copyright 2026 The coral Authors.
//
// The scheduler entry points that coral's public templates call. Private to coral. Every function
// is defined out of line in runtime/, so a coroutine that migrates between threads never reuses a
// thread-local address computed on the thread it left.

#ifndef CORAL_INTERNAL_SCHEDULING_H_
#define CORAL_INTERNAL_SCHEDULING_H_

#include <functional>
#include <type_traits>
#include <utility>

#include "coral/internal/task_header.h"
#include "coral/task.h"

namespace coral::internal {

// The scheduler of the worker thread calling, or null on any other thread.
Scheduler* CurrentScheduler() noexcept;
// The spawned task the calling worker is running, or null.
TaskHeader* CurrentTask() noexcept;
// Pushes a newly spawned task (holding one queue reference): on the calling worker's queues if it
// belongs to `scheduler`, else on the global injection queue. After shutdown the task is torn down
// at once, and its JoinHandle reports cancellation.
void SubmitNewTask(Scheduler* scheduler, TaskHeader* task);

template <typename R, typename Fn, typename... Args>
SpawnedRoot<R> RunSpawned(Fn fn, Args... args) {
  // The frame owns fn and args (by-value coroutine parameters) until the task is destroyed.
  if constexpr (std::is_void_v<R>) {
    co_await std::invoke(fn, std::move(args)...);
  } else {
    co_return co_await std::invoke(fn, std::move(args)...);
  }
}

// The coral::Task<R> that invoking F with the decay-copied Args yields.
template <typename F, typename... Args>
using SpawnedTaskType = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>;

template <typename F, typename... Args>
constexpr bool IsSpawnable() {
  if constexpr (std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&&...>) {
    return IsTask<SpawnedTaskType<F, Args...>>::value;
  } else {
    return false;
  }
}

template <typename F, typename... Args>
constexpr bool CheckSpawnable() {
  static_assert(std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&&...>,
                "coral::Spawn decay-copies the callable and its arguments into the task (like "
                "std::thread); a reference parameter must be passed as std::ref(x) or "
                "std::cref(x), or borrowed under a TaskGroup");
  if constexpr (std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&&...>) {
    static_assert(IsTask<SpawnedTaskType<F, Args...>>::value,
                  "coral::Spawn: the callable must return a coral::Task<T>");
  }
  return true;
}

// Creates the task (kScheduled, with a queue reference and a JoinHandle reference) and submits it.
template <typename R, typename F, typename... Args>
TaskHeader* CreateAndSubmit(Scheduler* scheduler, F&& f, Args&&... args) {
  SpawnedRoot<R> root = RunSpawned<R, std::decay_t<F>, std::decay_t<Args>...>(
      std::forward<F>(f), std::forward<Args>(args)...);
  TaskHeader* header = TaskHeader::FromFrame(root.handle.address());
  header->Initialize(scheduler, task_state::kScheduled | task_state::kJoinInterest, 2);
  SubmitNewTask(scheduler, header);
  return header;
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_SCHEDULING_H_
