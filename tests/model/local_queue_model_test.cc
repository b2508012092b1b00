// Copyright 2026 The coral Authors.
//
// Model of the local run queue (runtime/local_queue.cc) and its overflow into the global queue
// (runtime/global_queue.cc), the shipped sources compiled here with CORAL_MODEL_CHECK (4 slots).
// The owner pushes and pops; two thieves steal half into queues of their own and run what they
// got; the owner's pushes overflow into the global queue. Every task must be taken exactly once:
// none lost (a slot overwritten before a thief copied it), none twice (a slot read stale).

#include "runtime/global_queue.cc"
#include "runtime/local_queue.cc"
#include "tests/model/model.h"

namespace coral::internal {
namespace {

constexpr int kTasks = 5;

struct LocalQueueModel : rl::test_suite<LocalQueueModel, 3> {
  TaskHeader tasks[kTasks];
  LocalQueue owner_queue;
  LocalQueue thief_queues[2];
  GlobalQueue global;
  // Per task, how often some thread took it. Relacy runs the threads as fibers of one OS thread,
  // so this bookkeeping needs no synchronization of its own.
  int taken[kTasks] = {};

  void Take(TaskHeader* task) {
    const auto index = task - tasks;
    RL_ASSERT(index >= 0 && index < kTasks);
    ++taken[index];
  }

  void thread(unsigned index) {
    if (index == 0) {
      // Push two, pop one, push three: the last push finds the 4 slots full and overflows half
      // the queue (or, while a thief is mid-steal, the task alone) into the global queue, unless
      // thieves made room first.
      owner_queue.PushBack(&tasks[0], global);
      owner_queue.PushBack(&tasks[1], global);
      if (TaskHeader* task = owner_queue.Pop()) Take(task);
      for (int i = 2; i < kTasks; ++i) owner_queue.PushBack(&tasks[i], global);
    } else {
      LocalQueue& mine = thief_queues[index - 1];
      if (TaskHeader* task = owner_queue.StealHalfInto(mine)) Take(task);
      while (TaskHeader* task = mine.Pop()) Take(task);
    }
  }

  void after() {
    while (TaskHeader* task = owner_queue.Pop()) Take(task);
    LocalQueue sink;
    while (TaskHeader* task = global.PopBatchInto(sink, 2)) {
      Take(task);
      while (TaskHeader* queued = sink.Pop()) Take(queued);
    }
    for (int i = 0; i < kTasks; ++i) RL_ASSERT(taken[i] == 1);
  }
};

TEST(LocalQueueModel, EveryTaskTakenExactlyOnce) {
  EXPECT_TRUE(
      model_check::Explore<LocalQueueModel>({.preemption_bound = 2, .random_iterations = 20000}));
}

}  // namespace
}  // namespace coral::internal
