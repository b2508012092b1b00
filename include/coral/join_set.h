// Copyright 2026 The coral Authors.
//
// coral::JoinSet<T>: a set of spawned tasks whose results are collected in the order they finish
// (tokio's JoinSet).
//
//   coral::JoinSet<Reply> calls;
//   for (const Backend& b : backends) calls.Spawn(Call, b.address, request);
//   while (std::optional<absl::StatusOr<Reply>> reply = co_await calls.JoinNext()) {
//     if (reply->ok()) co_return **reply;   // The first good reply; the rest are aborted when
//   }                                        // `calls` goes out of scope.
//
// Spawning. Spawn(f, args...) starts f(args...) as a new task on the calling worker's runtime,
// like coral::Spawn (runtime.h): the callable and its arguments are decay-copied into the task,
// which owns them (borrowing the spawner's locals needs std::ref, and then the spawner must
// outlive the task: prefer a TaskGroup for borrowing). Each task runs under the spawner's
// cancellation token. Every task of the set returns Task<T>.
//
// Joining. co_await JoinNext() yields the result of whichever task finished first and has not
// been joined yet, as a JoinResult<T> (join_handle.h: absl::StatusOr<T>; absl::Status for void;
// a status-like T as it is), and removes that task from the set. A task that threw has its
// exception rethrown from the co_await. A task aborted (AbortAll, the set's destruction) or torn
// down by runtime shutdown before it finished yields absl::CancelledError. JoinNext returns
// std::nullopt when the set is empty. A finished task's frame is freed at once; its result waits
// in the set until joined.
//
// Ownership. Destroying the set aborts every task still in it (JoinHandle::Abort: a task that has
// not started never runs; a suspended one is destroyed at its suspension point) and discards the
// results not joined; it does not wait for them. The set is movable; any use of a moved-from set
// (but destroying or assigning to it) aborts with a message.
//
// Thread-safety. Like a local variable: one task at a time uses a JoinSet (its tasks finish
// concurrently on any worker; that side is synchronized). A second task awaiting JoinNext while
// one waits, and destroying or moving the set while a task is inside co_await JoinNext(), abort
// with a message.
//
// Fairness: results are delivered in the order the tasks finished.

#ifndef CORAL_JOIN_SET_H_
#define CORAL_JOIN_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "coral/internal/check.h"
#include "coral/internal/join_set_state.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/internal/scheduling.h"
#include "coral/join_handle.h"
#include "coral/task.h"

namespace coral {

template <typename T>
class JoinSet {
 public:
  JoinSet() : state_(std::make_shared<internal::JoinSetState<T>>()) {}
  // The check runs before state_ leaves `other` (it reads other.state_).
  JoinSet(JoinSet&& other) noexcept
      : state_((other.CheckNotJoining("moved"), std::move(other.state_))),
        tasks_(std::move(other.tasks_)),
        next_id_(other.next_id_) {
    other.tasks_.clear();
  }
  JoinSet& operator=(JoinSet&& other) noexcept {
    if (this != &other) {
      other.CheckNotJoining("moved");
      AbortAndDrop();
      state_ = std::move(other.state_);
      tasks_ = std::move(other.tasks_);
      next_id_ = other.next_id_;
      other.tasks_.clear();
    }
    return *this;
  }
  JoinSet(const JoinSet&) = delete;
  JoinSet& operator=(const JoinSet&) = delete;
  ~JoinSet() { AbortAndDrop(); }

  // Starts f(args...) as a task of the set (see the header comment). Must be called from a coral
  // worker (aborts otherwise).
  template <typename F, typename... Args>
  void Spawn(F&& f, Args&&... args) {
    static_assert(internal::CheckSpawnable<F, Args...>());
    using R = typename internal::SpawnedTaskType<F, Args...>::value_type;
    static_assert(std::is_same_v<R, T>, "coral::JoinSet<T>::Spawn: the task must return Task<T>");
    Checked("Spawn on");
    internal::Scheduler* scheduler = internal::CurrentScheduler();
    CORAL_CHECK(scheduler != nullptr,
                "JoinSet::Spawn called from a thread that is not a coral worker");
    const uint64_t id = next_id_++;
    internal::TaskHeader* task = internal::CreateAndSubmit<void>(
        scheduler, {internal::InheritedCancellation()},
        &internal::RunJoinSetChild<T, std::decay_t<F>, std::decay_t<Args>...>,
        internal::JoinSetSlot<T>(state_, id), std::forward<F>(f), std::forward<Args>(args)...);
    tasks_.emplace(id, internal::JoinHandleFactory::Adopt<void>(task));
  }

  // co_await JoinNext(): std::optional<JoinResult<T>>, the result of the next task to finish (see
  // the header comment); std::nullopt once the set is empty.
  //
  // Cancellation: if the awaiting task's token is cancelled while it waits, JoinNext returns
  // std::nullopt although the set is not empty (size() says how many tasks remain; they keep
  // running, and are aborted when the set is destroyed). No result is lost: a task that finished
  // meanwhile is still in the set, and a later JoinNext yields it.
  [[nodiscard]] Task<std::optional<JoinResult<T>>> JoinNext() {
    Checked("JoinNext on");
    return JoinNextImpl();
  }

  // Aborts every task in the set; each yields absl::CancelledError from JoinNext unless it had
  // already finished. The tasks stay in the set until joined.
  void AbortAll() {
    Checked("AbortAll on");
    for (auto& [id, handle] : tasks_) handle.Abort();
  }

  // The tasks spawned and not yet joined (running, or finished with their result waiting).
  size_t size() const {
    Checked("size on");
    return tasks_.size();
  }
  bool empty() const { return size() == 0; }

 private:
  Task<std::optional<JoinResult<T>>> JoinNextImpl() {
    internal::JoiningScope joining(&state_->joining);
    for (;;) {
      if (tasks_.empty()) co_return std::nullopt;
      internal::JoinSetCompletion<T> done;
      if (state_->Pop(&done)) {
        tasks_.erase(done.id);
        if (done.exception) std::rethrow_exception(done.exception);
        co_return std::move(done.result);
      }
      // Every completion notifies after queueing, and the queue is read again after each wake-up
      // (a notification stored before the wait makes it return at once): none is missed.
      absl::Status woken = co_await state_->finished.Notified();
      if (!woken.ok()) co_return std::nullopt;
    }
  }

  void Checked(const char* operation) const {
    if (state_ == nullptr) [[unlikely]]
      internal::JoinSetMovedFrom(operation);
  }
  void CheckNotJoining(const char* what) const {
    if (state_ != nullptr) internal::CheckNotJoining(state_->joining, what);
  }
  void AbortAndDrop() {
    if (state_ == nullptr) return;
    // relaxed: see JoinSetState::joining.
    internal::LetBorrowersGoAtShutdown(
        [this] { return state_->joining.load(std::memory_order_relaxed); });
    CheckNotJoining("destroyed");
    for (auto& [id, handle] : tasks_) handle.Abort();
    tasks_.clear();
    state_.reset();
  }

  std::shared_ptr<internal::JoinSetState<T>> state_;
  // The tasks not joined yet, by id. Used only by the set's owner.
  absl::flat_hash_map<uint64_t, JoinHandle<void>> tasks_;
  uint64_t next_id_ = 0;
};

}  // namespace coral

#endif  // CORAL_JOIN_SET_H_
