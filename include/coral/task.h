// Copyright 2026 The coral Authors.
//
// coral::Task<T>: a lazy, move-only coroutine that produces a T (or throws).
//
// A Task does nothing until it is awaited (`co_await std::move(task)` or `co_await f()`), or handed
// to Runtime::Spawn / Runtime::BlockOn. Awaiting runs the task on the awaiting thread until it
// first suspends, and resumes the awaiter when it completes, on whatever thread that happens. An
// exception that escapes the task's body is captured and rethrown from the `co_await`.
//
//   coral::Task<int> Answer() { co_return 42; }
//   coral::Task<void> Caller() { int x = co_await Answer(); ... }
//
// Stack depth. gcc 12 does not turn symmetric transfer into a tail call at -O0 or under the
// sanitizers (measured: a loop of 1,000,000 awaits of completed tasks overflows an 8 MiB stack), so
// a Task's completion meets its awaiter at a rendezvous flag instead: whichever of the two arrives
// second resumes the awaiter. A task that completes synchronously therefore returns to its
// awaiter's loop without growing the stack, whatever the optimization level.
//
// The flag is a plain (non-atomic) bit, kept with the promise's other flags in the low bits of
// the awaiter's address: a Task always runs inside a spawned task, and coral resumes a spawned
// task only on the worker that holds it, after the previous resumption returned (see "Task state"
// in runtime/scheduler.cc). So the awaiter's Start and the task's completion never run at the same
// time, even when the task completes on another thread; the scheduler's hand-off orders them.
// Consequently a Task must suspend only on coral's awaitables.
//
// Out of memory: a Task's frame is allocated when the coroutine is called; if that fails, the call
// throws std::bad_alloc (as any C++ coroutine does), so `co_await f()` rethrows it in the awaiting
// coroutine and nothing of f ran.
//
// Misuse: awaiting a moved-from Task, awaiting one Task twice, or destroying a Task while it runs
// (awaited and not finished, other than by tearing down the task that awaits it) aborts with a
// message.
//
// gcc 12 and lambda temporaries. A lambda-expression (or a braced aggregate) written inside a
// co_await expression is copied into the awaiting coroutine's frame bitwise, and both copies are
// destroyed: a capture that is not trivially copyable (a std::string, a std::shared_ptr) is
// freed twice. It is the awaiting coroutine that gcc miscompiles, whatever the awaited function
// does, so no API can absorb it: capture by reference inside a co_await (`[&]`, the usual form
// for a task awaited in place, which is harmless), or name the lambda first:
//
//   auto fetch = [url]() -> coral::Task<int> { ... };          // captures a std::string
//   auto r = co_await coral::Timeout(absl::Seconds(1), fetch());
//
// SpawnBlocking, which receives the lambda itself, refuses the dangerous form at compile time.
//
// Cancellation: a Task has no cancellation of its own; it is destroyed together with the spawned
// task that (transitively) awaits it, running the destructors of its locals.

#ifndef CORAL_TASK_H_
#define CORAL_TASK_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/internal/task_header.h"

namespace coral {

template <typename T = void>
class Task;

namespace internal {

template <typename T>
class TaskPromise;
struct TaskAccess;

// State shared by every Task<T> promise: the awaiter, the rendezvous flag and the exception.
// Every Task frame holds one, so it is packed into two words: the flags ride in the low bits of
// the awaiter's address.
class TaskPromiseBase {
 public:
  // Every Task frame is allocated with room for a TaskHeader in front, so that a Task can become
  // a spawned task without a second frame around it (see "Task state" in runtime/scheduler.cc).
  // A Task that is only awaited leaves its header unused (reference count zero).
  static void* operator new(std::size_t size) { return TaskHeader::AllocateFrame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    TaskHeader::ReleaseFrameStorage(frame, size);
  }

  // An exception still here was never taken by an awaiter (TakeResult moves it out).
  ~TaskPromiseBase() {
    if ((continuation_ & kSpawned) && exception_) ReportUnobservedException(exception_);
  }

  // Runtime::Spawn: this Task is the root of a spawned task; its output is for the JoinHandle.
  void MarkSpawned() noexcept { continuation_ |= kSpawned; }

  std::suspend_always initial_suspend() noexcept { return {}; }

  // Final suspension: the second of {task completes, awaiter finished suspending} resumes the
  // awaiter.
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      TaskPromiseBase& promise = self.promise();
      if (promise.MarkAwaiterSuspended()) return promise.continuation();
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  // Whether an awaiter has started this task (it runs, or ran, on the awaiter's behalf).
  bool Awaited() const noexcept { return (continuation_ & ~kFlagMask) != 0; }

  // Runs `self` until it first suspends or completes. Returns true if the awaiter must stay
  // suspended (the task will resume it), false if the task already completed.
  bool Start(std::coroutine_handle<> self, std::coroutine_handle<> awaiter) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(awaiter.address());
    CORAL_CHECK((address & kFlagMask) == 0, "a coroutine frame aligned to less than 4 bytes");
    continuation_ = address | (continuation_ & kSpawned);
    self.resume();
    // Not yet set: the task suspended (it will resume the awaiter when it completes). Already
    // set: the task completed during resume().
    return !MarkAwaiterSuspended();
  }

 protected:
  void RethrowIfFailed() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
  }

 private:
  // Flags in the low bits of continuation_, which a coroutine frame's address has clear (a frame
  // holds pointers; Start checks). kAwaiterSuspended is the rendezvous flag: set by whichever of
  // {Start after resume(), final suspension} runs first. kSpawned: see MarkSpawned.
  static constexpr uintptr_t kAwaiterSuspended = 1;
  static constexpr uintptr_t kSpawned = 2;
  static constexpr uintptr_t kFlagMask = kAwaiterSuspended | kSpawned;

  // Sets the rendezvous flag; returns whether it was already set.
  bool MarkAwaiterSuspended() noexcept {
    const bool was_set = continuation_ & kAwaiterSuspended;
    continuation_ |= kAwaiterSuspended;
    return was_set;
  }
  std::coroutine_handle<> continuation() const noexcept {
    return std::coroutine_handle<>::from_address(
        reinterpret_cast<void*>(continuation_ & ~kFlagMask));
  }

  // The awaiting coroutine's address, and the flags above.
  uintptr_t continuation_ = 0;
  std::exception_ptr exception_;
};
static_assert(sizeof(TaskPromiseBase) == 2 * sizeof(void*), "every Task frame holds one");

template <typename T>
class TaskPromise final : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;

  template <typename U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) { value_.emplace(std::forward<U>(value)); }

  T TakeResult() {
    RethrowIfFailed();
    CORAL_CHECK(value_.has_value(), "coral::JoinHandle awaited twice");
    T out = std::move(*value_);
    value_.reset();
    return out;
  }

 private:
  std::optional<T> value_;
};

template <>
class TaskPromise<void> final : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void TakeResult() { RethrowIfFailed(); }
};

}  // namespace internal

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::TaskPromise<T>;
  using value_type = T;

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  // True unless this Task was moved from.
  bool valid() const noexcept { return handle_ != nullptr; }

  // Awaiting starts the task; the result (or the exception it threw) is delivered here. A Task may
  // be awaited once.
  auto operator co_await() && noexcept { return Awaiter{this}; }
  auto operator co_await() & noexcept { return Awaiter{this}; }

 private:
  friend class internal::TaskPromise<T>;
  friend struct internal::TaskAccess;
  explicit Task(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}

  void Reset() noexcept {
    if (!handle_) return;
    // Teardown destroys a suspended awaiter's frame, and with it the Task it awaits.
    CORAL_CHECK(handle_.done() || !handle_.promise().Awaited() || internal::InTeardown(),
                "a coral::Task destroyed while a task awaits it");
    std::exchange(handle_, nullptr).destroy();
  }

  struct Awaiter {
    Task* task;
    bool await_ready() const noexcept {
      CORAL_CHECK(task->handle_, "co_await on a moved-from coral::Task");
      CORAL_CHECK(!task->handle_.done(), "co_await on a coral::Task that was already awaited");
      return false;
    }
    bool await_suspend(std::coroutine_handle<> awaiter) {
      return task->handle_.promise().Start(task->handle_, awaiter);
    }
    T await_resume() { return task->handle_.promise().TakeResult(); }
  };

  std::coroutine_handle<promise_type> handle_;
};

namespace internal {

template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise>::from_promise(*this));
}

inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise>::from_promise(*this));
}

// Lets Spawn take over a Task's frame as the root of a spawned task.
struct TaskAccess {
  template <typename T>
  static std::coroutine_handle<TaskPromise<T>> Release(Task<T>& task) noexcept {
    return std::exchange(task.handle_, nullptr);
  }
};

template <typename T>
struct IsTask : std::false_type {};
template <typename T>
struct IsTask<Task<T>> : std::true_type {};

}  // namespace internal
}  // namespace coral

#endif  // CORAL_TASK_H_
