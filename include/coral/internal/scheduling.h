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
// Hands a waker's reference on `task` to the scheduler: queues the task if it is idle.
void Wake(TaskHeader* task);
// The current task's token with a new reference for a task it spawns, or null outside a task.
CancellationState* InheritedCancellation();
// Pushes a newly spawned task (holding one queue reference): on the calling worker's queues if it
// belongs to `scheduler`, else on the global injection queue. After shutdown the task is torn down
// at once, and its JoinHandle reports cancellation.
void SubmitNewTask(Scheduler* scheduler, TaskHeader* task);

// The root of a spawned task when the callable must be kept: its frame owns fn and the args
// (by-value coroutine parameters) until the task is destroyed, and it awaits the Task fn returns.
template <typename R, typename Fn, typename... Args>
Task<R> RunSpawned(Fn fn, Args... args) {
  co_return co_await std::invoke(fn, std::move(args)...);
}

// A plain function whose parameters are all taken by value needs no wrapper: the Task it returns
// already owns copies of the arguments, so its frame becomes the task's root (one frame instead
// of two). A reference parameter, a member function or a callable object takes the wrapper.
template <typename F>
struct TakesAllByValue : std::false_type {};
template <typename R, typename... Params>
struct TakesAllByValue<R (*)(Params...)>
    : std::bool_constant<(!std::is_reference_v<Params> && ...)> {};

template <typename R, typename F, typename... Args>
Task<R> MakeRootTask(F&& f, Args&&... args) {
  if constexpr (TakesAllByValue<std::decay_t<F>>::value) {
    return f(std::forward<Args>(args)...);
  } else {
    return RunSpawned<R, std::decay_t<F>, std::decay_t<Args>...>(std::forward<F>(f),
                                                                  std::forward<Args>(args)...);
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

// How CreateAndSubmit sets a task up.
struct SpawnOptions {
  CancellationState* cancellation;  // The task's token: one reference adopted, unless borrowed.
  bool borrow_cancellation = false;
  bool joinable = true;  // Whether a JoinHandle reference is created (kJoinInterest).
};

// Creates the task (kScheduled, with a queue reference, and a JoinHandle reference if joinable)
// and submits it.
template <typename R, typename F, typename... Args>
TaskHeader* CreateAndSubmit(Scheduler* scheduler, SpawnOptions options, F&& f, Args&&... args) {
  Task<R> task = MakeRootTask<R>(std::forward<F>(f), std::forward<Args>(args)...);
  std::coroutine_handle<TaskPromise<R>> root = TaskAccess::Release(task);
  root.promise().MarkSpawned();
  TaskHeader* header = TaskHeader::FromFrame(root.address());
  if (options.joinable) {
    header->Initialize(scheduler, task_state::kScheduled | task_state::kJoinInterest, 2);
  } else {
    header->Initialize(scheduler, task_state::kScheduled, 1);
  }
  header->InitializeCancellation(options.cancellation, options.borrow_cancellation);
  SubmitNewTask(scheduler, header);
  return header;
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_SCHEDULING_H_
