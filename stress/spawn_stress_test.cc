// Copyright 2026 The coral Authors.
//
// 1,000,000 spawns, half from outside the workers and half from inside, with an exact completion
// count; and steal churn: bursts of yielding tasks spawned from one worker, which the others must
// steal.

#include <atomic>
#include <chrono>
#include <vector>

#include "coral/runtime.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "stress/stress_util.h"

namespace coral::stress {
namespace {

constexpr int64_t kSpawns = 1'000'000;

Task<void> Trivial(CompletionCounter* counter, std::atomic<int64_t>* sum, int64_t value) {
  sum->fetch_add(value, std::memory_order_relaxed);
  counter->Arrive();
  co_return;
}

TEST(SpawnStress, MillionSpawnsInsideAndOutside) {
  Runtime runtime({.num_workers = 2});
  CompletionCounter counter(kSpawns);
  std::atomic<int64_t> sum{0};
  // Inside: a task spawns half of them from a worker...
  runtime
      .Spawn([&]() -> Task<void> {
        for (int64_t i = 0; i < kSpawns / 2; ++i) Spawn(Trivial, &counter, &sum, i).Detach();
        co_return;
      })
      .Detach();
  // ...while the main thread spawns the other half into the global queue.
  for (int64_t i = kSpawns / 2; i < kSpawns; ++i)
    runtime.Spawn(Trivial, &counter, &sum, i).Detach();
  ASSERT_TRUE(counter.Wait(std::chrono::seconds(120))) << counter.remaining() << " never ran";
  EXPECT_EQ(sum.load(), kSpawns * (kSpawns - 1) / 2);
}

TEST(SpawnStress, JoinedSpawnsFromManyThreads) {
  Runtime runtime({.num_workers = 2});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::atomic<int64_t> joined{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto body = [&]() -> Task<void> {
        std::vector<JoinHandle<int>> handles;
        for (int i = 0; i < kPerThread; ++i) {
          handles.push_back(Spawn([](int v) -> Task<int> { co_return v; }, i + t));
        }
        for (int i = 0; i < kPerThread; ++i) {
          absl::StatusOr<int> v = co_await std::move(handles[i]);
          if (v.ok() && *v == i + t) joined.fetch_add(1);
        }
      };
      runtime.BlockOn(body());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(joined.load(), kThreads * kPerThread);
}

TEST(SpawnStress, StealChurn) {
  Runtime runtime({.num_workers = 2});
  constexpr int kRounds = 200;
  constexpr int kBurst = 500;
  std::atomic<int64_t> yields{0};
  auto churn = [&]() -> Task<void> {
    Rng rng(7);
    for (int round = 0; round < kRounds; ++round) {
      std::vector<JoinHandle<void>> burst;
      for (int i = 0; i < kBurst; ++i) {
        const int n = static_cast<int>(rng.Next() % 8);
        burst.push_back(Spawn(
            [&yields](int count) -> Task<void> {
              for (int k = 0; k < count; ++k) {
                yields.fetch_add(1, std::memory_order_relaxed);
                co_await Yield();
              }
            },
            n));
      }
      for (auto& h : burst) {
        absl::Status s = co_await std::move(h);
        EXPECT_TRUE(s.ok());
      }
    }
  };
  runtime.BlockOn(churn());
  Rng replay(7);
  int64_t expected = 0;
  for (int i = 0; i < kRounds * kBurst; ++i) expected += replay.Next() % 8;
  EXPECT_EQ(yields.load(), expected);
}

}  // namespace
}  // namespace coral::stress
