// Copyright 2026 The coral Authors.
//
// Cooperative cancellation: CancellationSource, CancellationToken, CancellationCallback.
//
//   coral::CancellationSource source = coral::CancellationSource::WithDeadline(
//       coral::Now() + absl::Seconds(5));
//   coral::JoinHandle<void> h = coral::Spawn(Serve, std::move(conn));   // see "Inheritance"
//   ...
//   source.Cancel();
//
// A source cancels; its tokens observe. Both are cheap to copy (one reference-counted state) and
// safe to use from any thread. A source made from a parent token is cancelled with its parent
// (and never the other way round); a source made WithDeadline cancels itself when the deadline
// passes.
//
// Inheritance. Every task runs under a token: a task spawned from another task inherits the
// spawner's; a TaskGroup's children run under the group's token; a task spawned from outside any
// task runs under none (it is never cancelled). CurrentCancellationToken() returns it.
//
// What cancellation does. Nothing is interrupted abruptly. Every suspending operation of coral
// (sleep, socket reads, writes, accept and connect, readiness waits, join, lock and channel waits)
// observes the current task's token: once it is cancelled, an operation that would wait completes
// with absl::CancelledError instead, within microseconds of Cancel() (the canceller's thread wakes
// the waiting task). An operation that can finish without waiting still finishes. A task that
// computes without awaiting checks CurrentCancellationToken().IsCancelled() itself.
//
// Shielded(task) runs cleanup that must finish even though the task around it is cancelled;
// Shielded(awaitable) awaits anything else (a JoinHandle, a lock) with the cancellation masked.
//
// Callbacks. CancellationCallback registers a function to run when the token is cancelled: on the
// thread calling Cancel(), at once if the token is already cancelled. Its destructor deregisters
// the function; once the destructor returns the function is not running and never will, even
// when another thread is cancelling at that moment (the destructor then waits for it). A callback
// must not block.

#ifndef CORAL_CANCELLATION_H_
#define CORAL_CANCELLATION_H_

#include <coroutine>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coral/clock.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/cancellation_state.h"
#include "coral/internal/scheduling.h"
#include "coral/task.h"

namespace coral {

class CancellationSource;
class CancellationToken;

namespace internal {
class CancelledAwaiter;
CancellationState* StateOf(const CancellationToken& token);
CancellationToken MakeToken(CancellationState* adopted);
// Aborts: "<operation> a moved-from coral::CancellationToken".
[[noreturn]] void MovedFromToken(const char* operation);
// Aborts: "<operation> a moved-from coral::CancellationSource".
[[noreturn]] void MovedFromSource(const char* operation);

// A counted reference to a CancellationState (null: never cancelled).
class CancellationRef {
 public:
  CancellationRef() = default;
  // Adopts one reference the caller owns.
  explicit CancellationRef(CancellationState* state) noexcept : state_(state) {}
  CancellationRef(const CancellationRef& other) noexcept : state_(other.state_) {
    if (state_ != nullptr) state_->AddReference();
  }
  CancellationRef(CancellationRef&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)) {}
  CancellationRef& operator=(CancellationRef other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~CancellationRef() {
    if (state_ != nullptr) state_->DropReference();
  }

  CancellationState* get() const noexcept { return state_; }
  CancellationState* Release() noexcept { return std::exchange(state_, nullptr); }

 private:
  CancellationState* state_ = nullptr;
};
}  // namespace internal

// Observes cancellation. A default-constructed token is never cancelled. A moved-from token is
// not a default one: any use of it but assigning to it aborts with a message.
class CancellationToken {
 public:
  CancellationToken() = default;
  CancellationToken(const CancellationToken& other) : state_(other.Checked("copy of").state_) {}
  CancellationToken(CancellationToken&& other) noexcept
      : state_(std::move(other.state_)), moved_from_(std::exchange(other.moved_from_, true)) {}
  CancellationToken& operator=(const CancellationToken& other) {
    state_ = other.Checked("copy of").state_;
    moved_from_ = false;
    return *this;
  }
  CancellationToken& operator=(CancellationToken&& other) noexcept {
    state_ = std::move(other.state_);
    moved_from_ = std::exchange(other.moved_from_, true);
    return *this;
  }

  bool IsCancelled() const noexcept {
    const internal::CancellationState* state = Checked("IsCancelled on").state_.get();
    return state != nullptr && state->IsCancelled();
  }
  // False for a token that can never be cancelled.
  bool CanBeCancelled() const noexcept {
    return Checked("CanBeCancelled on").state_.get() != nullptr;
  }

  // co_await token.Cancelled(): waits until this token is cancelled; returns OkStatus then.
  // Cancellation: if the awaiting task's own token is cancelled first, returns CancelledError.
  internal::CancelledAwaiter Cancelled() const;

 private:
  friend class CancellationSource;
  friend class CancellationCallback;
  friend CancellationToken CurrentCancellationToken();
  friend internal::CancellationState* internal::StateOf(const CancellationToken& token);
  friend CancellationToken internal::MakeToken(internal::CancellationState* adopted);
  explicit CancellationToken(internal::CancellationRef state) : state_(std::move(state)) {}

  // *this, after checking that it was not moved from; `operation` prefixes the message.
  const CancellationToken& Checked(const char* operation) const noexcept {
    if (moved_from_) [[unlikely]]
      internal::MovedFromToken(operation);
    return *this;
  }

  internal::CancellationRef state_;
  bool moved_from_ = false;
};

// Cancels the tokens made from it. Any use of a moved-from source but assigning to it aborts with
// a message.
class CancellationSource {
 public:
  // A root source: cancelled only by Cancel().
  CancellationSource();
  // A child of `parent`: cancelled by Cancel() or when `parent` is cancelled.
  explicit CancellationSource(const CancellationToken& parent);
  CancellationSource(const CancellationSource& other) : state_(other.Checked("copy of")) {}
  CancellationSource(CancellationSource&&) noexcept = default;
  CancellationSource& operator=(const CancellationSource& other) {
    state_ = other.Checked("copy of");
    return *this;
  }
  CancellationSource& operator=(CancellationSource&&) noexcept = default;

  // A child of `parent` that also cancels itself at `deadline`, an Instant on the runtime's clock
  // (clock.h), or a wall-clock time converted to one once, at this call. The deadline is kept by a
  // timer on the calling worker's reactor, so this must be called from inside a coral task. The
  // timer is released as soon as the source is cancelled or the last source and token are dropped.
  static CancellationSource WithDeadline(Instant deadline, const CancellationToken& parent = {});
  static CancellationSource WithDeadline(absl::Time deadline, const CancellationToken& parent = {});

  CancellationToken token() const { return CancellationToken(Checked("token() of")); }
  bool IsCancelled() const noexcept { return Checked("IsCancelled on").get()->IsCancelled(); }

  // Cancels this source and its descendants (see the header comment). Any thread; idempotent.
  void Cancel() const;

 private:
  explicit CancellationSource(internal::CancellationRef state) : state_(std::move(state)) {}
  // state_, after checking that this was not moved from (only a moved-from source has none).
  const internal::CancellationRef& Checked(const char* operation) const noexcept {
    if (state_.get() == nullptr) [[unlikely]]
      internal::MovedFromSource(operation);
    return state_;
  }

  internal::CancellationRef state_;
};

// Runs a function when a token is cancelled, until destroyed (see the header comment).
class CancellationCallback {
 public:
  CancellationCallback(const CancellationToken& token, absl::AnyInvocable<void()> callback);
  CancellationCallback(const CancellationCallback&) = delete;
  CancellationCallback& operator=(const CancellationCallback&) = delete;
  ~CancellationCallback();

 private:
  static void Invoke(internal::CancellationNode* node);

  internal::CancellationNode node_;
  internal::CancellationRef state_;  // Null if the callback ran at construction or never can.
  absl::AnyInvocable<void()> callback_;
};

// The token of the task calling; a never-cancelled token outside any task.
CancellationToken CurrentCancellationToken();

namespace internal {

inline CancellationState* StateOf(const CancellationToken& token) {
  return token.Checked("use of").state_.get();
}
// A token adopting one reference the caller owns.
inline CancellationToken MakeToken(CancellationState* adopted) {
  return CancellationToken(CancellationRef(adopted));
}

class [[nodiscard]] CancelledAwaiter : private CancellableWait {
 public:
  explicit CancelledAwaiter(CancellationRef watched) : watched_(std::move(watched)) {}
  CancelledAwaiter(const CancelledAwaiter&) = delete;
  CancelledAwaiter& operator=(const CancelledAwaiter&) = delete;
  ~CancelledAwaiter();

  bool await_ready() const noexcept {
    return SpendBudget() && watched_.get() != nullptr && watched_.get()->IsCancelled();
  }
  bool await_suspend(std::coroutine_handle<> self);
  absl::Status await_resume();

 private:
  static void OnWatchedCancelled(CancellationNode* node);
  static void OnOwnTokenCancelled(CancellationNode* node);

  CancellationRef watched_;
  struct WatchedNode : CancellationNode {
    CancelledAwaiter* owner;
  };
  WatchedNode watched_node_;
  bool watching_ = false;
  bool waiting_ = false;  // Suspended, holding a waker reference until a cancellation claims it.
  std::atomic<bool> claimed_{false};  // Whichever cancellation claims it wakes the task.
  TaskHeader* task_ = nullptr;
  BudgetRetry<CancelledAwaiter> budget_;
};

}  // namespace internal

inline internal::CancelledAwaiter CancellationToken::Cancelled() const {
  return internal::CancelledAwaiter(Checked("Cancelled() on").state_);
}

namespace internal {
// Swaps the current task's token for the lifetime of the scope (WithCancellation, Shielded).
class ScopedTaskCancellation {
 public:
  explicit ScopedTaskCancellation(CancellationState* replacement);
  ScopedTaskCancellation(const ScopedTaskCancellation&) = delete;
  ScopedTaskCancellation& operator=(const ScopedTaskCancellation&) = delete;
  ~ScopedTaskCancellation();

 private:
  TaskHeader* task_;
  CancellationState* saved_;
};

// In a task that runs part of another task's work (a WhenAll or WhenAny child), for `awaiter`,
// the task awaiting it: a wait of this task that the deadline of one of the awaiter's Timeouts
// cuts short while the scope lives is recorded, and Forward() hands it on, so that Timeout treats
// the work as if it had run in place (CancellationState::MarkObserved). Swaps the task's token
// for a child of it when such a Timeout is above (else does nothing), like ScopedTaskCancellation:
// the work must be a local declared after the scope.
class WorkOnBehalf {
 public:
  explicit WorkOnBehalf(const TaskHeader* awaiter);
  WorkOnBehalf(const WorkOnBehalf&) = delete;
  WorkOnBehalf& operator=(const WorkOnBehalf&) = delete;
  ~WorkOnBehalf();

  // After the work, when its result is the one the awaiter receives.
  void Forward() noexcept;

 private:
  const TaskHeader* awaiter_;
  TaskHeader* task_;
  CancellationState* saved_ = nullptr;  // The task's token outside the scope.
  CancellationState* scope_ = nullptr;  // One reference; observed by task_. Null: nothing to do.
};
}  // namespace internal

// Runs `task` in place under `token` instead of the current task's token: its operations, and
// the tasks it spawns, observe `token`. To add a reason to stop rather than replace the current
// one, pass a token of a CancellationSource made from CurrentCancellationToken(). Must be awaited
// inside a coral task.
//
// Cancellation: `task` observes `token` only; the current token is observed again afterwards.
template <typename T>
Task<T> WithCancellation(CancellationToken token, Task<T> task) {
  internal::ScopedTaskCancellation scope(internal::StateOf(token));
  // A local declared after the scope: a teardown destroys locals in reverse order and parameters
  // last, so the task (and the scopes nested in it, which restore the token to ours) must be a
  // local to go before this scope restores the token it replaced.
  Task<T> inner = std::move(task);
  co_return co_await std::move(inner);
}

// Runs `task` to completion with cancellation switched off: its operations do not observe the
// surrounding task's token (nor do tasks it spawns). For cleanup that must finish, such as
// sending a goodbye frame or releasing a remote lease. Must be awaited inside a coral task.
//
// Cancellation: none inside; the surrounding token is observed again after it returns.
template <typename T>
Task<T> Shielded(Task<T> task) {
  return WithCancellation(CancellationToken(), std::move(task));
}

namespace internal {

// The awaiter an awaitable yields: its operator co_await() if it has a member one, else itself
// (by reference: the awaitable is a temporary of the co_await expression, or an lvalue).
template <typename A>
decltype(auto) AwaiterOf(A&& awaitable) {
  if constexpr (requires { std::forward<A>(awaitable).operator co_await(); }) {
    return std::forward<A>(awaitable).operator co_await();
  } else {
    return static_cast<std::remove_reference_t<A>&>(awaitable);
  }
}

// co_await Shielded(awaitable), for any awaitable but a Task: the inner awaiter's protocol with
// the task's token swapped for none from await_ready to await_resume (or to the teardown).
template <typename A>
class [[nodiscard]] ShieldedAwaiter {
 public:
  explicit ShieldedAwaiter(A&& awaitable) : inner_(AwaiterOf(std::forward<A>(awaitable))) {}
  ShieldedAwaiter(const ShieldedAwaiter&) = delete;
  ShieldedAwaiter& operator=(const ShieldedAwaiter&) = delete;

  bool await_ready() {
    scope_.emplace(nullptr);
    return inner_.await_ready();
  }
  template <typename Handle>
  decltype(auto) await_suspend(Handle awaiting) {
    return inner_.await_suspend(awaiting);
  }
  decltype(auto) await_resume() {
    RestoreOnExit restore{&scope_};
    return inner_.await_resume();
  }

 private:
  struct RestoreOnExit {
    std::optional<ScopedTaskCancellation>* scope;
    ~RestoreOnExit() { scope->reset(); }
  };

  // Declared first, destroyed last: a teardown destroys the inner awaiter (which deregisters its
  // wait) before the task's token is restored.
  std::optional<ScopedTaskCancellation> scope_;
  decltype(AwaiterOf(std::declval<A>())) inner_;
};

}  // namespace internal

// Awaits `awaitable` (a JoinHandle, a lock, a channel receive, ...: anything co_await accepts
// but a Task, which has the overload above) with the current task's cancellation masked: the
// awaited operation does not observe the task's token, so it runs to its normal end, e.g. joining
// a child whose result must be collected while the task is being cancelled:
//
//   absl::StatusOr<Lease> lease = co_await coral::Shielded(std::move(release_handle));
//
// Await the result in the same expression (it refers to `awaitable`, which is usually a
// temporary of that expression). Must be awaited inside a coral task.
//
// Cancellation: none inside. Afterwards the task's token is observed again, as it is: a
// cancellation that happened during the shielded await is not lost, and the task's next
// operation that would wait returns absl::CancelledError at once. Shielded masks the token only:
// JoinHandle::Abort and runtime shutdown still tear the task down, destroying the awaitable.
template <typename A>
requires(!internal::IsTask<std::remove_cvref_t<A>>::value) internal::ShieldedAwaiter<A> Shielded(
    A&& awaitable) {
  return internal::ShieldedAwaiter<A>(std::forward<A>(awaitable));
}

}  // namespace coral

#endif  // CORAL_CANCELLATION_H_
