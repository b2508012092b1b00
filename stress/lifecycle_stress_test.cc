// Copyright 2026 The coral Authors.
//
// Runtimes created and destroyed with work pending, and aborts racing completion: every frame is
// destroyed exactly once, and each JoinHandle reports exactly one outcome.

#include <atomic>
#include <vector>

#include "coral/runtime.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "stress/stress_util.h"

namespace coral::stress {
namespace {

Task<void> YieldNTimes(DropCounter guard, int n) {
  DropCounter local(std::move(guard));
  for (int i = 0; i < n; ++i) co_await Yield();
}

TEST(LifecycleStress, CreateAndDestroyRuntimeWithPendingWork) {
  std::atomic<int64_t> drops{0};
  int64_t spawned = 0;
  for (int iteration = 0; iteration < 100; ++iteration) {
    Runtime runtime({.num_workers = 2});
    Rng rng(iteration);
    std::vector<JoinHandle<void>> kept;
    for (int i = 0; i < 200; ++i) {
      // Some finish quickly, some would run for a long time, some wait on others.
      JoinHandle<void> h = runtime.Spawn(YieldNTimes, DropCounter(&drops),
                                         static_cast<int>(rng.Next() % 3 == 0 ? 1'000'000 : 5));
      ++spawned;
      if (i % 4 == 0) {
        runtime
            .Spawn([](DropCounter,
                      JoinHandle<void> inner) -> Task<void> { co_await std::move(inner); },
                   DropCounter(&drops), std::move(h))
            .Detach();
        ++spawned;
      } else if (i % 4 == 1) {
        kept.push_back(std::move(h));  // Outlives the runtime.
      }
    }
    // The runtime is destroyed here with work pending; `kept` handles survive it.
  }
  EXPECT_EQ(drops.load(), spawned);
}

TEST(LifecycleStress, AbortsRaceCompletion) {
  Runtime runtime({.num_workers = 2});
  constexpr int kTasks = 100'000;
  std::atomic<int64_t> drops{0};
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> cancelled{0};
  auto body = [&]() -> Task<void> {
    Rng rng(42);
    std::vector<JoinHandle<int>> handles;
    handles.reserve(kTasks);
    for (int i = 0; i < kTasks; ++i) {
      handles.push_back(Spawn(
          [](DropCounter guard, int yields) -> Task<int> {
            DropCounter local(std::move(guard));
            for (int k = 0; k < yields; ++k) co_await Yield();
            co_return 1;
          },
          DropCounter(&drops), static_cast<int>(rng.Next() % 3)));
      if (rng.Next() % 2 == 0) handles[rng.Next() % handles.size()].Abort();
      if (i % 64 == 0) co_await Yield();
    }
    for (auto& h : handles) {
      absl::StatusOr<int> r = co_await std::move(h);
      if (r.ok()) {
        EXPECT_EQ(*r, 1);
        completed.fetch_add(1);
      } else {
        EXPECT_TRUE(absl::IsCancelled(r.status()));
        cancelled.fetch_add(1);
      }
    }
  };
  runtime.BlockOn(body());
  EXPECT_EQ(completed.load() + cancelled.load(), kTasks);
  EXPECT_GT(cancelled.load(), 0);
  EXPECT_GT(completed.load(), 0);
  runtime.Shutdown();
  EXPECT_EQ(drops.load(), kTasks);
}

}  // namespace
}  // namespace coral::stress
