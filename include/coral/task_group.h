// Copyright 2026 The coral Authors.
//
// coral::TaskGroup: structured concurrency (a nursery).
//
//   Task<absl::Status> HandleRequest(Request request) {
//     Response response;
//     TaskGroup group;
//     group.Spawn([&]() -> Task<absl::Status> { return FetchUser(request, &response); });
//     group.Spawn([&]() -> Task<absl::Status> { return FetchFeed(request, &response); });
//     co_return co_await group.Join();   // both done; the first error, if any
//   }
//
// Children. group.Spawn(f, args...) starts f(args...) as a new task, from the group's owner or
// from any of its children, any number of times, on the runtime of the calling worker. Like
// coral::Spawn it decay-copies the callable and its arguments; unlike coral::Spawn, the children
// may borrow references to the enclosing coroutine's locals (capture by reference, or pass
// std::ref), because Join() is awaited before that scope ends. A finished child releases its
// memory at once, so a long-lived group (an accept loop) does not grow.
//
// Failure. A child fails when it throws, or returns a non-OK absl::Status or absl::StatusOr. The
// first failure cancels the group's token, so its siblings' waits end with CancelledError;
// Join() reports that first failure (rethrowing it if it was an exception), and errors() lists
// the failures in the order they happened. A group made with OnFailure::kKeepGoing only records
// failures (for an accept loop, where one failed connection must not stop the others). A child
// that cannot be created because memory for its frame cannot be allocated fails the same way, as
// if it had thrown std::bad_alloc: Spawn itself does not throw (a throw would skip the Join that
// must precede the group's destruction), and Join rethrows the std::bad_alloc if it was the
// first failure.
//
// Cancellation. The group's token is a child of the token of the task that created the group, and
// every child runs under it: cancelling the creator's token, calling Cancel(), or a first failure
// cancels all children. Join() itself does not end early when the awaiting task is cancelled: it
// always waits for every child, which is what makes borrowing safe; the children, being cancelled
// too, finish promptly.
//
// Misuse. Destroying a group while a child is still running aborts with a message, and so does
// destroying one into which a child was spawned after the last Join() returned (even if that
// child happens to have finished: the mistake is caught every time, not only when a child is
// slow). So a group that is joined and then spawned into again must be joined again. Destroying a
// group while a task is inside co_await Join() (also while that task yields its worker for the
// cooperative budget) aborts with a message too. When the group's owner is torn down instead
// (JoinHandle::Abort, runtime shutdown), the group is cancelled and the owner's teardown waits
// until the children have finished, so nothing they borrow is destroyed under them.
//
// WhenAll / WhenAny, below, are built on a group.

#ifndef CORAL_TASK_GROUP_H_
#define CORAL_TASK_GROUP_H_

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/cancellation.h"
#include "coral/internal/budget.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "coral/join_handle.h"
#include "coral/task.h"

namespace coral {

namespace internal {

// The shared state of a group: its children's count, the joiner, the failures, and the token.
// Owned by the TaskGroup; children hold no reference, since the group outlives them (its
// destructor aborts while one is live; runtime/task_group.cc).
class GroupState;

// Called before a child is submitted; returns the group's token, which the child borrows.
CancellationState* GroupChildStarting(GroupState* group);
void GroupChildFinished(GroupState* group);
void GroupChildFailed(GroupState* group, absl::Status status, std::exception_ptr exception);
// True on a thread that is tearing a task down (destroying its frame without resuming it).
bool InTeardown();

// A child's membership, owned by its wrapper frame: its destructor (at completion, or when the
// child is torn down) counts the child out. It holds no reference: the group outlives its live
// children (Join, or the owner's deferred teardown, waits for them).
class GroupMembership {
 public:
  explicit GroupMembership(GroupState* group) : group_(group) {}
  GroupMembership(GroupMembership&& other) noexcept
      : group_(std::exchange(other.group_, nullptr)) {}
  GroupMembership& operator=(GroupMembership&&) = delete;
  ~GroupMembership() {
    if (group_ != nullptr) GroupChildFinished(group_);
  }
  void Fail(absl::Status status, std::exception_ptr exception) const {
    GroupChildFailed(group_, std::move(status), std::move(exception));
  }

 private:
  GroupState* group_;
};

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

// The root of a group child: runs f(args...) and reports a failure to the group. The callable and
// its arguments move into a local, which dies with the body; the membership parameter counts the
// child out only when the frame is destroyed (gcc destroys parameters in declaration order, so
// without the move `fn` and `args` would die after the owner may have returned from Join).
template <typename R, typename Fn, typename... Args>
Task<void> RunGroupChild(GroupMembership membership, Fn fn, Args... args) {
  auto call = [fn = std::move(fn), ... args = std::move(args)]() mutable {
    return std::invoke(fn, std::move(args)...);
  };
  try {
    if constexpr (std::is_void_v<R>) {
      co_await call();
    } else if constexpr (IsStatusLike<R>::value) {
      R result = co_await call();
      if (!result.ok()) membership.Fail(StatusOf(result), nullptr);
    } else {
      (void)co_await call();
    }
  } catch (...) {
    membership.Fail(absl::OkStatus(), std::current_exception());
  }
}

class [[nodiscard]] GroupJoinAwaiter {
 public:
  explicit GroupJoinAwaiter(GroupState* group) : group_(group) {}
  bool await_ready() const noexcept;
  bool await_suspend(std::coroutine_handle<> self);
  absl::Status await_resume();

 private:
  GroupState* group_;
  BudgetRetry<GroupJoinAwaiter> budget_;
};

}  // namespace internal

class TaskGroup {
 public:
  // What a child's failure does to its siblings.
  enum class OnFailure {
    kCancelSiblings,  // The default: the first failure cancels the group.
    kKeepGoing,       // Failures are only recorded (WhenAll).
  };

  explicit TaskGroup(OnFailure on_failure = OnFailure::kCancelSiblings);
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  // Starts f(args...) as a child (see the header comment). Must be called from a coral worker.
  template <typename F, typename... Args>
  void Spawn(F&& f, Args&&... args) {
    static_assert(internal::CheckSpawnable<F, Args...>());
    using R = typename internal::SpawnedTaskType<F, Args...>::value_type;
    internal::Scheduler* scheduler = internal::CurrentScheduler();
    CORAL_CHECK(scheduler != nullptr,
                "TaskGroup::Spawn called from a thread that is not a coral worker");
    // Nobody joins a child by handle: the group counts it.
    try {
      internal::CreateAndSubmitDetached<void>(
          scheduler,
          {.cancellation = internal::GroupChildStarting(state_), .borrow_cancellation = true},
          &internal::RunGroupChild<R, std::decay_t<F>, std::decay_t<Args>...>,
          internal::GroupMembership(state_), std::forward<F>(f), std::forward<Args>(args)...);
    } catch (const std::bad_alloc&) {
      // No child was created (its membership counted it out again): it fails as if it had
      // thrown, so that the spawner's scope still reaches its Join (see "Failure").
      internal::GroupChildFailed(state_, absl::OkStatus(), std::current_exception());
    }
  }

  // co_await group.Join(): waits until every child has finished; returns OkStatus, or the first
  // failure (rethrown if it was an exception). May be awaited again, to wait for children spawned
  // since (and must be, before the group is destroyed), but by one task at a time (two concurrent
  // joins are a fatal misuse). Calling Join() without awaiting the result does nothing, and does
  // not compile ([[nodiscard]]).
  internal::GroupJoinAwaiter Join() { return internal::GroupJoinAwaiter(state_); }

  // Cancels every child (and children spawned later). Any thread, while the group exists: Cancel
  // may still be running the children's callbacks when the owner, its children finished, returns
  // from Join and destroys the group; it touches nothing the group frees.
  void Cancel();
  // The token the children run under.
  CancellationToken token() const;
  // The failures so far, in order (the first 256: a long-lived group does not grow with them); an
  // exception appears as absl::UnknownError with its what().
  std::vector<absl::Status> errors() const;

 private:
  internal::GroupState* state_;
};

namespace internal {

// A WhenAll child: runs `task` for `awaiter` (WorkOnBehalf), and leaves its result in `slot`.
template <typename T>
Task<void> StoreResult(Task<T> task, std::optional<JoinResult<T>>* slot,
                       const TaskHeader* awaiter) {
  WorkOnBehalf on_behalf(awaiter);
  Task<T> inner = std::move(task);  // A local, to go before the scope (see WithCancellation).
  if constexpr (std::is_void_v<T>) {
    co_await std::move(inner);
    slot->emplace(absl::OkStatus());
  } else {
    slot->emplace(co_await std::move(inner));
  }
  on_behalf.Forward();
}

}  // namespace internal

// Runs the tasks concurrently (each as a child task, so on any worker) and waits for all of them.
// Each result is the task's JoinResult (join_handle.h: absl::StatusOr<T>; absl::Status for void;
// a status-like value as it is); one task's error does not cancel the others. If a task throws, the
// others still run to the end and the first exception is rethrown. Cancellation: the tasks run
// under the awaiting task's token; inside a Timeout they count as the awaited work (sleep.h,
// Timeout).
template <typename... Ts>
Task<std::tuple<JoinResult<Ts>...>> WhenAll(Task<Ts>... tasks) {
  std::tuple<std::optional<JoinResult<Ts>>...> slots;
  TaskGroup group(TaskGroup::OnFailure::kKeepGoing);
  const internal::TaskHeader* self = internal::CurrentTask();
  std::apply(
      [&](auto&... slot) {
        (group.Spawn(&internal::StoreResult<Ts>, std::move(tasks), &slot, self), ...);
      },
      slots);
  (void)co_await group.Join();  // Rethrows the first exception; StoreResult fails no other way.
  co_return std::apply([](auto&... slot) { return std::make_tuple(*std::move(slot)...); }, slots);
}

template <typename T>
Task<std::vector<JoinResult<T>>> WhenAll(std::vector<Task<T>> tasks) {
  std::vector<std::optional<JoinResult<T>>> slots(tasks.size());
  TaskGroup group(TaskGroup::OnFailure::kKeepGoing);
  const internal::TaskHeader* self = internal::CurrentTask();
  for (size_t i = 0; i < tasks.size(); ++i) {
    group.Spawn(&internal::StoreResult<T>, std::move(tasks[i]), &slots[i], self);
  }
  (void)co_await group.Join();  // As above.
  std::vector<JoinResult<T>> results;
  results.reserve(slots.size());
  for (auto& slot : slots) results.push_back(*std::move(slot));
  co_return results;
}

namespace internal {

// Where the first finisher of a WhenAny leaves its result.
template <typename Result>
struct FirstFinisher {
  std::atomic<bool> decided{false};
  size_t index = 0;
  std::optional<Result> result;
  std::exception_ptr exception;
};

// A WhenAny child: runs `task` for `awaiter` (WorkOnBehalf); the first to finish wins the race.
template <typename Result, size_t kIndex, typename T>
Task<void> RaceOne(Task<T> task, FirstFinisher<Result>* race, size_t index, TaskGroup* group,
                   const TaskHeader* awaiter) {
  WorkOnBehalf on_behalf(awaiter);
  Task<T> inner = std::move(task);  // A local, to go before the scope (see WithCancellation).
  std::optional<Result> result;
  std::exception_ptr exception;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(inner);
      result.emplace(std::in_place_index<kIndex>, absl::OkStatus());
    } else {
      result.emplace(std::in_place_index<kIndex>, co_await std::move(inner));
    }
  } catch (...) {
    exception = std::current_exception();
  }
  // relaxed: only decides the winner; the group's Join orders the winner's writes before the read.
  if (race->decided.exchange(true, std::memory_order_relaxed)) co_return;
  on_behalf.Forward();  // Only the winner's result reaches the awaiter.
  race->index = index;
  race->result = std::move(result);
  race->exception = std::move(exception);
  group->Cancel();
}

template <typename Result>
Task<Result> AwaitWinner(TaskGroup& group, FirstFinisher<Result>& race) {
  (void)co_await group.Join();
  if (race.exception) std::rethrow_exception(race.exception);
  co_return *std::move(race.result);
}

}  // namespace internal

// The outcome of WhenAny over a pack: which task finished first, and its result.
template <typename... Ts>
struct WhenAnyResult {
  size_t index;
  std::variant<JoinResult<Ts>...> result;
};

// Runs the tasks concurrently and returns the first to finish (rethrowing if it threw). The
// others are cancelled, and WhenAny returns only after they have finished too; their results
// are discarded. Cancellation: the tasks run under a child of the awaiting task's token; inside a
// Timeout the winner counts as the awaited work (sleep.h, Timeout).
template <typename... Ts>
Task<WhenAnyResult<Ts...>> WhenAny(Task<Ts>... tasks) {
  using Result = std::variant<JoinResult<Ts>...>;
  TaskGroup group;
  internal::FirstFinisher<Result> race;
  const internal::TaskHeader* self = internal::CurrentTask();
  [&]<size_t... kIndex>(std::index_sequence<kIndex...>) {
    (group.Spawn(&internal::RaceOne<Result, kIndex, Ts>, std::move(tasks), &race, kIndex, &group,
                 self),
     ...);
  }
  (std::index_sequence_for<Ts...>{});
  Result result = co_await internal::AwaitWinner(group, race);
  co_return WhenAnyResult<Ts...>{race.index, std::move(result)};
}

template <typename T>
Task<std::pair<size_t, JoinResult<T>>> WhenAny(std::vector<Task<T>> tasks) {
  CORAL_CHECK(!tasks.empty(), "coral::WhenAny over an empty vector never finishes");
  using Result = std::variant<JoinResult<T>>;
  TaskGroup group;
  internal::FirstFinisher<Result> race;
  const internal::TaskHeader* self = internal::CurrentTask();
  for (size_t i = 0; i < tasks.size(); ++i) {
    group.Spawn(&internal::RaceOne<Result, 0, T>, std::move(tasks[i]), &race, i, &group, self);
  }
  Result result = co_await internal::AwaitWinner(group, race);
  co_return std::make_pair(race.index, std::get<0>(std::move(result)));
}

}  // namespace coral

#endif  // CORAL_TASK_GROUP_H_
