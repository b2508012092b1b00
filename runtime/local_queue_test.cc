// Copyright 2026 The coral Authors.
//
// White-box tests of LocalQueue and GlobalQueue with fake task headers (never run).

#include "runtime/local_queue.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/global_queue.h"

namespace coral::internal {
namespace {

std::vector<TaskHeader> MakeTasks(size_t n) { return std::vector<TaskHeader>(n); }

TEST(LocalQueueTest, PopsInFifoOrder) {
  auto tasks = MakeTasks(10);
  LocalQueue queue;
  GlobalQueue global;
  for (auto& t : tasks) queue.PushBack(&t, global);
  EXPECT_EQ(queue.Size(), 10u);
  for (auto& t : tasks) EXPECT_EQ(queue.Pop(), &t);
  EXPECT_EQ(queue.Pop(), nullptr);
  EXPECT_FALSE(queue.MaybeHasTasks());
}

TEST(LocalQueueTest, WrapsAroundManyTimes) {
  auto tasks = MakeTasks(3);
  LocalQueue queue;
  GlobalQueue global;
  for (int round = 0; round < 10'000; ++round) {
    for (auto& t : tasks) queue.PushBack(&t, global);
    for (auto& t : tasks) ASSERT_EQ(queue.Pop(), &t);
  }
  EXPECT_FALSE(global.MaybeHasTasks());
}

TEST(LocalQueueTest, OverflowMovesHalfPlusNewTaskToGlobal) {
  auto tasks = MakeTasks(LocalQueue::kCapacity + 1);
  LocalQueue queue;
  GlobalQueue global;
  for (auto& t : tasks) queue.PushBack(&t, global);
  EXPECT_EQ(queue.Size(), LocalQueue::kCapacity / 2);
  EXPECT_EQ(global.ApproximateSize(), LocalQueue::kCapacity / 2 + 1);
  // The oldest half went global, in order, followed by the task that overflowed.
  LocalQueue sink;
  GlobalQueue unused;
  for (uint32_t i = 0; i < LocalQueue::kCapacity / 2; ++i) {
    EXPECT_EQ(global.PopBatchInto(sink, 1), &tasks[i]);
  }
  EXPECT_EQ(global.PopBatchInto(sink, 1), &tasks[LocalQueue::kCapacity]);
  for (uint32_t i = LocalQueue::kCapacity / 2; i < LocalQueue::kCapacity; ++i) {
    EXPECT_EQ(queue.Pop(), &tasks[i]);
  }
}

TEST(LocalQueueTest, StealTakesHalfRoundedUp) {
  auto tasks = MakeTasks(7);
  LocalQueue victim;
  LocalQueue thief;
  GlobalQueue global;
  for (auto& t : tasks) victim.PushBack(&t, global);
  // 4 of 7 are stolen: tasks 0..3; the thief runs task 3 and keeps 0..2 queued.
  EXPECT_EQ(victim.StealHalfInto(thief), &tasks[3]);
  EXPECT_EQ(thief.Size(), 3u);
  EXPECT_EQ(victim.Size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(thief.Pop(), &tasks[i]);
  for (int i = 4; i < 7; ++i) EXPECT_EQ(victim.Pop(), &tasks[i]);
  EXPECT_EQ(victim.StealHalfInto(thief), nullptr);
}

TEST(LocalQueueTest, StealSingleTask) {
  auto tasks = MakeTasks(1);
  LocalQueue victim;
  LocalQueue thief;
  GlobalQueue global;
  victim.PushBack(&tasks[0], global);
  EXPECT_EQ(victim.StealHalfInto(thief), &tasks[0]);
  EXPECT_EQ(thief.Size(), 0u);
  EXPECT_EQ(victim.Pop(), nullptr);
}

TEST(GlobalQueueTest, BatchPopMovesRestToLocal) {
  auto tasks = MakeTasks(10);
  GlobalQueue global;
  LocalQueue local;
  for (auto& t : tasks) ASSERT_TRUE(global.Push(&t));
  EXPECT_EQ(global.PopBatchInto(local, 4), &tasks[0]);
  EXPECT_EQ(local.Size(), 3u);
  EXPECT_EQ(global.ApproximateSize(), 6u);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(local.Pop(), &tasks[i]);
}

TEST(GlobalQueueTest, CloseRefusesPushesAndReturnsQueued) {
  auto tasks = MakeTasks(3);
  GlobalQueue global;
  ASSERT_TRUE(global.Push(&tasks[0]));
  ASSERT_TRUE(global.Push(&tasks[1]));
  TaskHeader* all = global.Close();
  ASSERT_EQ(all, &tasks[0]);
  EXPECT_EQ(all->queue_next, &tasks[1]);
  EXPECT_EQ(tasks[1].queue_next, nullptr);
  EXPECT_FALSE(global.Push(&tasks[2]));
  EXPECT_FALSE(global.MaybeHasTasks());
}

// One owner pushing and popping while thieves steal: every task is taken exactly once.
TEST(LocalQueueTest, ConcurrentStealsTakeEachTaskOnce) {
  constexpr int kTasks = 200'000;
  constexpr int kThieves = 2;
  auto tasks = MakeTasks(kTasks);
  LocalQueue victim;
  GlobalQueue global;
  std::vector<std::atomic<int>> taken(kTasks);
  std::atomic<bool> done{false};
  auto take = [&](TaskHeader* t) { taken[t - tasks.data()].fetch_add(1); };
  std::vector<std::thread> thieves;
  for (int i = 0; i < kThieves; ++i) {
    thieves.emplace_back([&] {
      LocalQueue mine;
      while (!done.load()) {
        if (TaskHeader* t = victim.StealHalfInto(mine)) {
          take(t);
          while (TaskHeader* rest = mine.Pop()) take(rest);
        }
      }
    });
  }
  for (int i = 0; i < kTasks; ++i) {
    victim.PushBack(&tasks[i], global);
    if (i % 3 == 0) {
      if (TaskHeader* t = victim.Pop()) take(t);
    }
  }
  while (TaskHeader* t = victim.Pop()) take(t);
  done.store(true);
  for (auto& t : thieves) t.join();
  LocalQueue sink;
  while (TaskHeader* t = global.PopBatchInto(sink, 64)) {
    take(t);
    while (TaskHeader* rest = sink.Pop()) take(rest);
  }
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(taken[i].load(), 1) << "task " << i;
}

}  // namespace
}  // namespace coral::internal
