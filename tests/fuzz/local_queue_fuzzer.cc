// Copyright 2026 The coral Authors.
//
// Operation-sequence fuzzer of a worker's run queue (runtime/local_queue.h) with the global
// injection queue it overflows into (runtime/global_queue.h), single-threaded, against a model of
// std::deques. Three local queues and one global queue; the input is a program of
//   push k tasks onto local queue q      (PushBack; overflow moves the oldest half and the new
//                                         task to the global queue, in order)
//   pop from q                           (Pop: the oldest task, or null)
//   steal from q into an empty r         (StealHalfInto: the oldest ceil(n/2) tasks move, the
//                                         last of them is returned to run, the others queue in r)
//   take up to m from global into q      (PopBatchInto: the oldest is returned, the others are
//                                         pushed onto q, overflowing as a push does)
// After every operation each queue's Size() and MaybeHasTasks() match the model; at the end every
// queue is drained (the global one by Close) and must yield exactly the model's tasks in the
// model's order. Tasks are fake headers from a pool, never run: a task taken out is "run" and
// returns to the pool, so each task is in at most one place and none is lost or duplicated.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "coral/internal/task_header.h"
#include "runtime/global_queue.h"
#include "runtime/local_queue.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"

namespace coral::internal {
namespace {

constexpr uint32_t kCapacity = LocalQueue::kCapacity;
constexpr size_t kQueues = 3;
// Enough for every local queue to overflow more than once.
constexpr size_t kPoolSize = 4 * kCapacity * kQueues;

class Harness {
 public:
  explicit Harness(std::vector<TaskHeader>& pool) : pool_(pool), queued_(kPoolSize, false) {
    for (size_t i = kPoolSize; i-- > 0;) free_.push_back(&pool_[i]);
  }

  void Push(size_t q, uint32_t count) {
    for (uint32_t i = 0; i < count && !free_.empty(); ++i) {
      TaskHeader* task = free_.back();
      free_.pop_back();
      queued_[task - pool_.data()] = true;
      local_[q].PushBack(task, global_);
      ModelPush(q, task);
    }
  }

  void Pop(size_t q) {
    TaskHeader* task = local_[q].Pop();
    if (model_local_[q].empty()) {
      FUZZ_CHECK(task == nullptr, "Pop of an empty queue returns null");
      return;
    }
    FUZZ_CHECK(task == model_local_[q].front(), "Pop returns the oldest task");
    model_local_[q].pop_front();
    Run(task);
  }

  void Steal(size_t q, size_t r) {
    if (q == r || !model_local_[r].empty()) return;  // The thief's queue must be empty.
    TaskHeader* task = local_[q].StealHalfInto(local_[r]);
    std::deque<TaskHeader*>& source = model_local_[q];
    const size_t count = source.size() - source.size() / 2;
    if (count == 0) {
      FUZZ_CHECK(task == nullptr, "stealing from an empty queue returns null");
      return;
    }
    for (size_t i = 0; i + 1 < count; ++i) {
      model_local_[r].push_back(source.front());
      source.pop_front();
    }
    FUZZ_CHECK(task == source.front(), "a steal returns the last task it took");
    source.pop_front();
    Run(task);
  }

  void TakeGlobal(size_t q, uint32_t max) {
    TaskHeader* task = global_.PopBatchInto(local_[q], max);
    if (model_global_.empty()) {
      FUZZ_CHECK(task == nullptr, "taking from an empty global queue returns null");
      return;
    }
    FUZZ_CHECK(task == model_global_.front(), "the global queue returns its oldest task first");
    model_global_.pop_front();
    // The rest of the batch, oldest first, are pushed onto q one by one, after the whole batch
    // left the global queue: a push that overflows appends behind what remains there.
    std::deque<TaskHeader*> batch;
    for (uint32_t i = 1; i < max && !model_global_.empty(); ++i) {
      batch.push_back(model_global_.front());
      model_global_.pop_front();
    }
    for (TaskHeader* next : batch) ModelPush(q, next);
    Run(task);
  }

  void CheckSizes() const {
    for (size_t q = 0; q < kQueues; ++q) {
      FUZZ_CHECK(local_[q].Size() == model_local_[q].size(), "Size() is the number queued");
      FUZZ_CHECK(local_[q].MaybeHasTasks() == !model_local_[q].empty(),
                 "MaybeHasTasks() is exact without concurrency");
    }
    FUZZ_CHECK(global_.ApproximateSize() == model_global_.size(),
               "the global size is exact without concurrency");
    FUZZ_CHECK(global_.MaybeHasTasks() == !model_global_.empty(),
               "the global MaybeHasTasks() is exact without concurrency");
  }

  // Empties every queue, checking contents and order, then checks that every task is accounted
  // for.
  void DrainAndCheck() {
    for (size_t q = 0; q < kQueues; ++q) {
      while (TaskHeader* task = local_[q].Pop()) {
        FUZZ_CHECK(!model_local_[q].empty() && task == model_local_[q].front(),
                   "draining a local queue yields the model's tasks in order");
        model_local_[q].pop_front();
        Run(task);
      }
      FUZZ_CHECK(model_local_[q].empty(), "a drained local queue held every task of the model");
    }
    TaskHeader* task = global_.Close();
    while (task != nullptr) {
      TaskHeader* next = task->queue_next;
      FUZZ_CHECK(!model_global_.empty() && task == model_global_.front(),
                 "closing the global queue yields the model's tasks in order");
      model_global_.pop_front();
      Run(task);
      task = next;
    }
    FUZZ_CHECK(model_global_.empty(), "the closed global queue held every task of the model");
    FUZZ_CHECK(free_.size() == kPoolSize, "every task pushed was taken out exactly once");
  }

 private:
  // What PushBack does, on the model: append, or when full, move the oldest half and the task to
  // the global queue.
  void ModelPush(size_t q, TaskHeader* task) {
    std::deque<TaskHeader*>& local = model_local_[q];
    if (local.size() < kCapacity) {
      local.push_back(task);
      return;
    }
    for (uint32_t i = 0; i < kCapacity / 2; ++i) {
      model_global_.push_back(local.front());
      local.pop_front();
    }
    model_global_.push_back(task);
  }

  // A task taken out of a queue: it must be one of ours and not already free.
  void Run(TaskHeader* task) {
    FUZZ_CHECK(task >= pool_.data() && task < pool_.data() + pool_.size(),
               "a queue returns only tasks pushed onto it");
    FUZZ_CHECK(queued_[task - pool_.data()], "a task is taken out twice");
    queued_[task - pool_.data()] = false;
    free_.push_back(task);
  }

  std::vector<TaskHeader>& pool_;
  std::vector<TaskHeader*> free_;
  // Indexed like pool_: whether the task is in some queue.
  std::vector<bool> queued_;
  std::array<LocalQueue, kQueues> local_;
  GlobalQueue global_;
  std::array<std::deque<TaskHeader*>, kQueues> model_local_;
  std::deque<TaskHeader*> model_global_;
};

}  // namespace
}  // namespace coral::internal

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  coral::fuzz::FuzzInput input(data, size);
  // The fake tasks, made once: constructing them for every input would dominate the run time.
  // Their queue_next is the only field the queues touch, and it is rewritten on every push.
  static std::vector<coral::internal::TaskHeader> pool(coral::internal::kPoolSize);
  coral::internal::Harness harness(pool);
  using coral::internal::kQueues;
  while (!input.done()) {
    switch (input.Below(4)) {
      case 0: {
        const size_t q = input.Below(kQueues);
        // Up to 255 in one operation, so that short inputs reach overflow.
        harness.Push(q, input.Byte());
        break;
      }
      case 1:
        harness.Pop(input.Below(kQueues));
        break;
      case 2: {
        const size_t q = input.Below(kQueues);
        harness.Steal(q, input.Below(kQueues));
        break;
      }
      case 3: {
        const size_t q = input.Below(kQueues);
        harness.TakeGlobal(q, 1 + input.Byte());
        break;
      }
    }
    harness.CheckSizes();
  }
  harness.DrainAndCheck();
  return 0;
}
