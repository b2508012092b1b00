// Copyright 2026 The coral Authors.
//
// The templates that make a Task a spawned task (Runtime::Spawn, coral::Spawn, TaskGroup::Spawn),
// over the scheduler core's entry points (scheduler_entry.h, included here). Private to coral.

#ifndef CORAL_INTERNAL_SCHEDULING_H_
#define CORAL_INTERNAL_SCHEDULING_H_

#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "coral/internal/scheduler_entry.h"
#include "coral/internal/task_header.h"
#include "coral/task.h"

namespace coral::internal {

// The root of a spawned task when the callable must be kept: its frame owns fn and the args
// (by-value coroutine parameters) until the task is destroyed, and it awaits the Task fn returns.
template <typename R, typename Fn, typename... Args>
Task<R> RunSpawned(Fn fn, Args... args) {
  co_return co_await std::invoke(fn, std::move(args)...);
}

// A plain function whose every parameter has exactly the type of its decay-copied argument needs
// no wrapper: the Task it returns owns those copies as its by-value parameters, so its frame
// becomes the task's root (one frame instead of two). Any other parameter type takes the wrapper:
// a reference parameter, and also a by-value one that merely converts from the argument (a
// std::string_view or absl::Span parameter bound to a std::string or std::vector argument would
// view the spawner's object, not a copy the task owns). So does a member function or a callable
// object.
template <typename F, typename... Args>
struct TakesDecayedArgs : std::false_type {};
template <typename R, typename... Params, typename... Args>
requires(sizeof...(Params) == sizeof...(Args)) struct TakesDecayedArgs<R (*)(Params...), Args...>
    : std::bool_constant<(std::is_same_v<Params, std::decay_t<Args>> && ...)> {
};

template <typename R, typename F, typename... Args>
Task<R> MakeRootTask(F&& f, Args&&... args) {
  if constexpr (TakesDecayedArgs<std::decay_t<F>, Args...>::value) {
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

// How a spawned task is set up.
struct SpawnOptions {
  CancellationState* cancellation;  // The task's token: one reference adopted, unless borrowed.
  bool borrow_cancellation = false;
};

// The root Task of a new task. If it cannot be made (its frame cannot be allocated, or copying
// an argument throws), the exception propagates to the spawner and the token reference the task
// would have adopted is dropped: nothing was created.
template <typename R, typename F, typename... Args>
Task<R> MakeRootTaskOrDropToken(const SpawnOptions& options, F&& f, Args&&... args) {
  try {
    return MakeRootTask<R>(std::forward<F>(f), std::forward<Args>(args)...);
  } catch (...) {
    if (!options.borrow_cancellation && options.cancellation != nullptr) {
      options.cancellation->DropReference();
    }
    throw;
  }
}

// Creates the task (kScheduled, holding `refs` references, `flags` set) without submitting it.
template <typename R, typename F, typename... Args>
TaskHeader* CreateTask(Scheduler* scheduler, SpawnOptions options, uint64_t flags, uint64_t refs,
                       F&& f, Args&&... args) {
  Task<R> task =
      MakeRootTaskOrDropToken<R>(options, std::forward<F>(f), std::forward<Args>(args)...);
  std::coroutine_handle<TaskPromise<R>> root = TaskAccess::Release(task);
  root.promise().MarkSpawned();
  TaskHeader* header = TaskHeader::FromFrame(root.address());
  header->Initialize(scheduler, task_state::kScheduled | flags, refs);
  header->InitializeCancellation(options.cancellation, options.borrow_cancellation);
  return header;
}

// Creates a joinable task and submits it. Returns the task holding a JoinHandle reference
// (kJoinInterest), which the caller owns: the task cannot be freed before the caller drops it, so
// the pointer stays valid however soon the task finishes.
template <typename R, typename F, typename... Args>
[[nodiscard]] TaskHeader* CreateAndSubmit(Scheduler* scheduler, SpawnOptions options, F&& f,
                                          Args&&... args) {
  TaskHeader* header = CreateTask<R>(scheduler, options, task_state::kJoinInterest, 2,
                                     std::forward<F>(f), std::forward<Args>(args)...);
  SubmitNewTask(scheduler, header);
  return header;
}

// Creates a task that nobody joins by handle (a TaskGroup child) and submits it. Returns nothing:
// once submitted, the task may run, finish and be freed before this returns.
template <typename R, typename F, typename... Args>
void CreateAndSubmitDetached(Scheduler* scheduler, SpawnOptions options, F&& f, Args&&... args) {
  SubmitNewTask(scheduler, CreateTask<R>(scheduler, options, /*flags=*/0, 1, std::forward<F>(f),
                                         std::forward<Args>(args)...));
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_SCHEDULING_H_
