// Copyright 2026 The coral Authors.
//
// TaskGroup's shared state.
//
// live_ is one atomic word: the number of live children times kChild, plus two flags. kWaiting:
// joiner_ holds a task to hand over when the count reaches zero. kTeardown: that task is the
// group's owner being torn down (JoinHandle::Abort, runtime shutdown) rather than a task awaiting
// Join(); the last child then finishes the owner's teardown itself (Scheduler::TearDown) instead of
// waking it. The owner is held "running" meanwhile, so nothing else resumes or destroys it. Both
// hand-overs are decided by one RMW on live_ against the last child's decrement, so exactly one of
// "the registration saw no live child" and "the last child saw the registration" happens.
//
// A child counts itself out in the destructor of its GroupMembership, the first parameter of its
// root frame, so the last thing to die with the child's frame: nothing the child borrowed is
// touched after Join() returns. The state belongs to the TaskGroup object, whose destructor aborts
// if a child is live (Join waits for them; so does a torn-down owner), so children hold no
// reference to it, and borrow its token without one. A canceller on another thread holds a
// reference to the token while it runs the callbacks (TaskGroup::Cancel): the last child they
// wake may finish, and the owner destroy the group, before Cancel returns.

#include "coral/task_group.h"

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "runtime/mutex.h"
#include "runtime/scheduler.h"

namespace coral {
namespace internal {

class GroupState final : public OwnedScope {
 public:
  static constexpr uint64_t kWaiting = 1;
  static constexpr uint64_t kTeardown = 2;
  static constexpr uint64_t kChild = 4;
  // A long-lived kKeepGoing group (an accept loop) must not grow with every failed child.
  static constexpr size_t kMaxRecordedFailures = 256;

  GroupState(bool cancel_on_failure, TaskHeader* owner)
      : cancel_on_failure_(cancel_on_failure),
        owner_(owner),
        cancellation_(
            CancellationState::Create(owner != nullptr ? owner->cancellation() : nullptr)) {
    if (owner_ != nullptr) {
      next_owned = owner_->scopes();
      owner_->set_scopes(this);
    }
  }

  ~GroupState() { cancellation_->DropReference(); }

  CancellationState* cancellation() const { return cancellation_; }

  CancellationState* ChildStarting() {
    // relaxed: the spawner is the owner or a live child, so the count cannot reach zero under us;
    // the child's submission (a queue push) publishes it.
    live_.fetch_add(kChild, std::memory_order_relaxed);
    // relaxed: a child's store happens before its own decrement, which the joiner acquires before
    // it clears the flag (JoinCompleted); the owner's are sequenced before its Join.
    unjoined_.store(true, std::memory_order_relaxed);
    return cancellation_;
  }

  // A Join returned: every child spawned so far has finished.
  void JoinCompleted() {
    unjoined_.store(false, std::memory_order_relaxed);  // relaxed: see ChildStarting.
  }
  // True if a child was spawned after the last Join returned. The owner's check before it
  // destroys the group: the loads see every child's store (see ChildStarting).
  bool Unjoined() const { return unjoined_.load(std::memory_order_relaxed); }

  // The last access of a child to the group: once the count drops, the owner may destroy it.
  void ChildFinished() {
    // acq_rel: the child's work happens before the joiner's resumption; acquire pairs with the
    // joiner's release of joiner_.
    const uint64_t previous = live_.fetch_sub(kChild, std::memory_order_acq_rel);
    if (previous / kChild != 1 || !(previous & kWaiting)) return;
    // relaxed: nobody else can change live_ now: no child is left to spawn, the joiner waits.
    live_.store(0, std::memory_order_relaxed);
    TaskHeader* joiner = std::exchange(joiner_, nullptr);
    if (previous & kTeardown) {
      Scheduler::TearDown(joiner);
    } else {
      Wake(joiner);
    }
  }

  void ChildFailed(absl::Status status, std::exception_ptr exception) {
    if (exception) status = ExceptionStatus(exception);
    bool first;
    {
      MutexLock lock(&mu_);
      first = failures_.empty();
      if (first) first_exception_ = exception;
      if (failures_.size() < kMaxRecordedFailures) failures_.push_back(std::move(status));
    }
    if (first && cancel_on_failure_) cancellation_->Cancel();
  }

  bool NoLiveChildren() const {
    // acquire: pairs with the children's acq_rel decrements; their work is visible after.
    return live_.load(std::memory_order_acquire) / kChild == 0;
  }

  // Join's suspension: registers `joiner` (holding a reference for us). False if no child is
  // left (the caller keeps its reference and does not suspend).
  bool RegisterJoiner(TaskHeader* joiner) {
    joiner_ = joiner;
    // acq_rel: releases joiner_ to the last child; acquires the children's work if none is left.
    const uint64_t previous = live_.fetch_or(kWaiting, std::memory_order_acq_rel);
    CORAL_CHECK(!(previous & kWaiting), "two tasks awaited the same TaskGroup::Join at once");
    if (previous / kChild != 0) return true;
    live_.store(0, std::memory_order_relaxed);  // relaxed: no child left to race with.
    joiner_ = nullptr;
    return false;
  }

  // The owner's teardown (OwnedScope): cancels the live children, if any, and returns true if
  // the teardown was handed to the last of them.
  bool DeferOwnerTeardown(TaskHeader* owner) override {
    if (NoLiveChildren()) return false;
    cancellation_->Cancel();
    uint64_t state = live_.load(std::memory_order_acquire);  // acquire: as NoLiveChildren.
    for (;;) {
      if (state / kChild == 0) return false;
      // Owner aborted while awaiting Join: it is registered already, with a reference we drop
      // (the last child finishes the teardown instead of waking it).
      const bool was_joining = state & kWaiting;
      if (!was_joining) joiner_ = owner;
      // acq_rel: releases joiner_ to the last child (as RegisterJoiner); acquire on failure:
      // the reloaded count is read as NoLiveChildren reads it.
      if (live_.compare_exchange_weak(state, state | kWaiting | kTeardown,
                                      std::memory_order_acq_rel, std::memory_order_acquire)) {
        if (was_joining) owner->DropReference();
        return true;
      }
    }
  }

  void Unlink() {
    if (owner_ == nullptr) return;
    if (owner_->scopes() == this) {
      owner_->set_scopes(next_owned);
      return;
    }
    OwnedScope* previous = owner_->scopes();
    while (previous->next_owned != this) previous = previous->next_owned;
    previous->next_owned = next_owned;
  }

  // The first failure as a status, or rethrows it if it was an exception.
  absl::Status FirstFailure() {
    MutexLock lock(&mu_);
    if (first_exception_) std::rethrow_exception(first_exception_);
    return failures_.empty() ? absl::OkStatus() : failures_.front();
  }

  std::vector<absl::Status> Failures() {
    MutexLock lock(&mu_);
    return failures_;
  }

  // Tasks in a budget yield inside Join (budget.h), for the group's destructor.
  BudgetYielders* budget_yielders() { return &budget_yielders_; }

 private:
  static absl::Status ExceptionStatus(const std::exception_ptr& exception) {
    try {
      std::rethrow_exception(exception);
    } catch (const std::exception& e) {
      return absl::UnknownError(absl::StrCat("a TaskGroup child threw: ", e.what()));
    } catch (...) {
      return absl::UnknownError("a TaskGroup child threw a non-std exception");
    }
  }

  std::atomic<uint64_t> live_{0};
  // A child was spawned since the last Join returned (set by spawners, cleared by the joiner).
  std::atomic<bool> unjoined_{false};
  BudgetYielders budget_yielders_;
  // Written by the joiner (or the owner's teardown) before the RMW that sets kWaiting, read by
  // the last child after the RMW that sees it.
  TaskHeader* joiner_ = nullptr;
  const bool cancel_on_failure_;
  TaskHeader* const owner_;
  CancellationState* const cancellation_;  // Owns one reference.
  Mutex
      mu_;  // std::mutex underneath: ThreadSanitizer sees it (Debian's Abseil is not instrumented).
  std::vector<absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  std::exception_ptr first_exception_ ABSL_GUARDED_BY(mu_);
};

CancellationState* GroupChildStarting(GroupState* group) { return group->ChildStarting(); }
void GroupChildFinished(GroupState* group) { group->ChildFinished(); }
void GroupChildFailed(GroupState* group, absl::Status status, std::exception_ptr exception) {
  group->ChildFailed(std::move(status), std::move(exception));
}

bool GroupJoinAwaiter::await_ready() const noexcept {
  return SpendBudget() && group_->NoLiveChildren();
}

bool GroupJoinAwaiter::await_suspend(std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self, group_->budget_yielders())) return true;
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, "TaskGroup::Join awaited outside a coral task");
  task->set_resume_point(self);
  task->AddReference();  // The joiner's reference, handed to the scheduler by the last child.
  if (group_->RegisterJoiner(task)) return true;
  task->DropReference();
  return false;
}

absl::Status GroupJoinAwaiter::await_resume() {
  group_->JoinCompleted();
  return group_->FirstFailure();
}

}  // namespace internal

TaskGroup::TaskGroup(OnFailure on_failure)
    : state_(new internal::GroupState(on_failure == OnFailure::kCancelSiblings,
                                      internal::CurrentTask())) {}

TaskGroup::~TaskGroup() {
  // A live child would count itself out of the freed state and read its token. Never so on the
  // owner's teardown path: it waits for the children before destroying the frame (Scheduler::
  // TearDown, DeferOwnerTeardown).
  CORAL_CHECK(state_->NoLiveChildren(),
              "a coral::TaskGroup with children was destroyed without co_await group.Join() "
              "after the last Spawn (a child is still running)");
  // The same mistake when the children happen to have finished already: caught every time, not
  // only when a child is slow. A torn-down owner never reaches its Join, and need not.
  CORAL_CHECK(!state_->Unjoined() || internal::InTeardown(),
              "a coral::TaskGroup with children was destroyed without co_await group.Join() "
              "after the last Spawn");
  // A task inside co_await Join() would read the freed state when it resumed.
  internal::LetBorrowersGoAtShutdown([this] { return !state_->budget_yielders()->none(); });
  CORAL_CHECK(state_->budget_yielders()->none(),
              "a coral::TaskGroup destroyed while a task awaits its Join");
  state_->Unlink();
  delete state_;
}

void TaskGroup::Cancel() {
  // Pinned, as CancellationSource::Cancel pins: a callback wakes a child, and once the last child
  // finishes the owner may return from Join and destroy the group (dropping the group's
  // reference) while this thread still runs the rest of the list.
  internal::CancellationState* state = state_->cancellation();
  state->AddReference();
  internal::CancellationRef pin(state);
  state->Cancel();
}

CancellationToken TaskGroup::token() const {
  state_->cancellation()->AddReference();
  return internal::MakeToken(state_->cancellation());
}

std::vector<absl::Status> TaskGroup::errors() const { return state_->Failures(); }

}  // namespace coral
