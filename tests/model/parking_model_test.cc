// Copyright 2026 The coral Authors.
//
// Model of parking (scheduler.cc, "Parking and its memory-ordering rule"): the shipped Idle
// (runtime/idle.cc) and run queues, driven by two workers and an outside submitter that follow
// Worker::Run, Search, Park, RunTask and Scheduler::Submit / NotifyParked / NotifyIfWorkPending
// step for step (those live in scheduler.cc beside the reactors and threads, which the model
// cannot compile; each step below names its original). A reactor's Unpark is a flag that a later
// Park consumes, as the reactor remembers an Unpark that precedes its Park.
//
// The property: no task is stranded while the workers sleep. Each worker runs a bounded number
// of loop turns; one that parks with no Unpark pending sleeps for ever. At the end every task must
// have run, or some worker must still be awake (out of turns) or have an Unpark pending, which
// would wake it to find the task. (A task queued behind a worker stuck in a long task waits for
// the monitor, scheduler.cc "Stuck workers", which this model leaves out: its workers' tasks
// return.)
//
// Built twice: with the seq_cst fence of Idle::LoadAfterPush, and with CORAL_STORE_LOAD_BY_RMW,
// its ThreadSanitizer variant (an RMW of the state word).

#include "runtime/global_queue.cc"
#include "runtime/idle.cc"
#include "runtime/local_queue.cc"
#include "tests/model/model.h"

namespace coral::internal {
namespace {

constexpr int kWorkers = 2;
constexpr int kTasks = 2;
constexpr int kTurns = 3;

struct ParkingModel : rl::test_suite<ParkingModel, kWorkers + 1> {
  TaskHeader tasks[kTasks];
  Idle idle{kWorkers};
  GlobalQueue global;
  LocalQueue queues[kWorkers];
  Atomic<bool> unpark[kWorkers];  // Reactor::Unpark, remembered until the next Park.
  // Bookkeeping, not shared memory of the runtime: Relacy runs the threads as fibers of one OS
  // thread.
  int runs[kTasks] = {};
  bool asleep[kWorkers] = {};

  // Scheduler::NotifyParked.
  void NotifyParked() {
    const int worker = idle.WorkerToNotify();
    if (worker >= 0) unpark[worker].store(true);
  }

  // Scheduler::NotifyIfWorkPending.
  void NotifyIfWorkPending() {
    bool pending = global.MaybeHasTasks();
    for (auto& queue : queues) pending = pending || queue.MaybeHasTasks();
    if (pending) NotifyParked();
  }

  // Running a task. The first task spawns the second onto its worker's queue, an announced push
  // (Worker::PushBack and NotifyIfCrossed: the queue went from empty to non-empty).
  void Run(int worker, TaskHeader* task) {
    const auto index = task - tasks;
    RL_ASSERT(index >= 0 && index < kTasks);
    ++runs[index];
    if (index == 0) {
      queues[worker].PushBack(&tasks[1], global);
      NotifyParked();
    }
  }

  void Worker(int self) {
    LocalQueue& queue = queues[self];
    LocalQueue& other = queues[1 - self];
    bool searching = false;
    for (int turn = 0; turn < kTurns; ++turn) {
      // Worker::NextLocalTask.
      TaskHeader* task = queue.Pop();
      if (task == nullptr) task = global.PopBatchInto(queue, 1);
      // Worker::Search and StealOnce, one round.
      if (task == nullptr) {
        if (!searching) searching = idle.TransitionToSearching();
        if (searching) {
          task = other.StealHalfInto(queue);
          if (task == nullptr) task = global.PopBatchInto(queue, 1);
        }
      }
      if (task != nullptr) {
        // Worker::RunTask: the last searcher to find work wakes another worker.
        if (searching) {
          searching = false;
          if (idle.TransitionFromSearching()) NotifyParked();
        }
        Run(self, task);
        continue;
      }
      // Worker::Park.
      if (idle.TransitionToParked(self, std::exchange(searching, false))) {
        NotifyIfWorkPending();
      } else if (global.MaybeHasTasks()) {
        NotifyParked();
      }
      // Reactor::Park: returns at once if an Unpark came first; otherwise this worker sleeps
      // until one comes, which after() accounts for.
      if (!unpark[self].exchange(false)) {
        asleep[self] = true;
        return;
      }
      searching = idle.TransitionFromParked(self);
    }
  }

  void thread(unsigned index) {
    if (index < kWorkers) {
      Worker(static_cast<int>(index));
    } else {
      // Scheduler::Submit from outside the runtime.
      const bool pushed = global.Push(&tasks[0]);
      RL_ASSERT(pushed);
      NotifyParked();
    }
  }

  void after() {
    bool someone_will_run = false;
    for (int worker = 0; worker < kWorkers; ++worker) {
      someone_will_run = someone_will_run || !asleep[worker] || unpark[worker].load();
    }
    for (int i = 0; i < kTasks; ++i) RL_ASSERT(runs[i] <= 1);
    // Task 0 is pushed by the submitter; task 1 exists once task 0 ran.
    const bool all_ran = runs[0] == 1 && runs[1] == 1;
    RL_ASSERT(all_ran || someone_will_run);
  }
};

TEST(ParkingModel, NoTaskStrandedWhileWorkersSleep) {
  EXPECT_TRUE(
      model_check::Explore<ParkingModel>({.preemption_bound = 2, .random_iterations = 20000}));
}

}  // namespace
}  // namespace coral::internal
