// Copyright 2026 The coral Authors.
//
// Model of the task state word (runtime/task_header.cc, shipped, compiled with
// CORAL_MODEL_CHECK): a spawned task, not yet started, with a JoinHandle and a waker. A worker
// runs it (it yields once, then returns), the waker wakes it, and the handle aborts it and is
// dropped, all at once. Every transition is the shipped one; the worker's steps follow
// Worker::RunTask and Scheduler::TearDown (scheduler.cc), and a run queue is one slot (kScheduled
// admits one queue reference at a time).
//
// The frame is a real coroutine allocated like a coral::Task's (its promise calls
// TaskHeader::AllocateFrame and ReleaseFrameStorage), from Relacy's heap: Relacy reports a block
// freed twice or never. The property: the frame's locals are destroyed once if made, its block
// freed exactly once, and nothing is touched after the free (Relacy checks every access to the
// header's atomics against the freed block).

#include <coroutine>
#include <exception>

#include "runtime/task_header.cc"
#include "tests/model/model.h"

namespace coral::internal {

// The frame allocator is not this model's subject (docs/reliability.md); here a block comes
// from Relacy's heap, and frees are counted.
int frames_freed = 0;

void* AllocateFrameMemory(std::size_t size) { return ::operator new(size); }

void FreeFrameMemory(void* block, std::size_t) noexcept {
  ++frames_freed;
  // The shipped allocator reuses the bytes as they are; Relacy wants its atomics destroyed.
  static_cast<TaskHeader*>(block)->~TaskHeader();
  ::operator delete(block);
}

// The model's task has no token, no join waiter, and never registers as suspended (it only
// yields): these are linked in, and never reached.
void SuspendedTasks::Add(TaskHeader*) { RL_ASSERT(false); }
void SuspendedTasks::Remove(TaskHeader*) { RL_ASSERT(false); }
void CancellationState::DropReference() noexcept { RL_ASSERT(false); }
void Wake(TaskHeader*) { RL_ASSERT(false); }

namespace {

// A coroutine whose frame is laid out as a spawned task's: the header in front.
struct ModelTask {
  struct promise_type {
    // The frame's lifetime counts as one live object, as its local does below.
    explicit promise_type(int* live) : live(live) { ++*live; }
    ~promise_type() { --*live; }
    int* live;

    static void* operator new(std::size_t size) { return TaskHeader::AllocateFrame(size); }
    static void operator delete(void* frame, std::size_t size) noexcept {
      TaskHeader::ReleaseFrameStorage(frame, size);
    }
    ModelTask get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

// A local of the frame: counts its constructions and destructions (none if the task is torn
// down before it starts). A frame destroyed twice shows as a negative count.
struct Local {
  explicit Local(int* live) : live(live) { ++*live; }
  ~Local() { --*live; }
  int* live;
};

ModelTask Body(int* live) {
  Local local(live);
  co_await std::suspend_always{};  // A yield: the worker requeues the task.
}

struct TaskStateModel : rl::test_suite<TaskStateModel, 3> {
  TaskHeader* task = nullptr;
  Atomic<TaskHeader*> queue{nullptr};  // One run-queue slot.
  int live_objects = 0;

  void before() {
    frames_freed = 0;
    task = TaskHeader::FromFrame(Body(&live_objects).handle.address());
    // The JoinHandle's reference and the waker's.
    task->Initialize(/*scheduler=*/nullptr, task_state::kJoinInterest, 2);
  }

  void Push(TaskHeader* pushed) {
    // release: the worker that takes it (acquire) sees the task as the pusher left it.
    TaskHeader* previous = queue.exchange(pushed, std::memory_order_release);
    RL_ASSERT(previous == nullptr);
  }

  // Scheduler::TearDown, without TaskGroups.
  void TearDown(TaskHeader* torn) {
    if ((torn->LoadState() & task_state::kRunning) == 0) torn->TransitionToRunning();
    torn->root().destroy();
    torn->Complete(/*frame_destroyed=*/true);
  }

  // Worker::RunTask's state steps.
  void RunTask(TaskHeader* run) {
    if (!run->TransitionToRunning()) {
      TearDown(run);
      return;
    }
    run->Resume();
    if (run->root().done()) {
      run->Complete(/*frame_destroyed=*/false);
      return;
    }
    switch (run->TransitionToIdle(/*yielded=*/true)) {
      case TaskHeader::AfterRun::kReschedule:
        Push(run);
        return;
      case TaskHeader::AfterRun::kCancel:
        TearDown(run);
        return;
      case TaskHeader::AfterRun::kIdle:
        RL_ASSERT(false);  // A yield always reschedules.
        return;
    }
  }

  // acquire: pairs with Push.
  TaskHeader* Pop() { return queue.exchange(nullptr, std::memory_order_acquire); }

  void thread(unsigned index) {
    switch (index) {
      case 0:  // A worker: whatever the queue holds, a few times.
        for (int i = 0; i < 3; ++i) {
          if (TaskHeader* run = Pop()) {
            RunTask(run);
          } else {
            ThreadYield();
          }
        }
        break;
      case 1:  // The waker hands its reference over (scheduler.cc's Wake).
        if (task->TransitionToScheduled()) Push(task);
        break;
      case 2:  // The JoinHandle: Abort, then drop.
        if (task->TransitionToCancelled()) Push(task);
        task->DropJoinInterest();
        break;
    }
  }

  void after() {
    // The worker runs on: it takes what is still queued.
    while (TaskHeader* run = Pop()) RunTask(run);
    RL_ASSERT(live_objects == 0);
    RL_ASSERT(frames_freed == 1);
  }
};

TEST(TaskStateModel, FrameDestroyedOnceAndNeverTouchedAfter) {
  EXPECT_TRUE(
      model_check::Explore<TaskStateModel>({.preemption_bound = 3, .random_iterations = 50000}));
}

}  // namespace
}  // namespace coral::internal
