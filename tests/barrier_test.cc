// Copyright 2026 The coral Authors.
//
// Barrier: n arrivals release a generation with exactly one leader, generations reuse the
// barrier, and a cancelled or aborted waiter withdraws its arrival.

#include "coral/barrier.h"

#include <atomic>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/cancellation.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

TEST(BarrierTest, GenerationsReleaseTogetherWithOneLeaderEach) {
  constexpr int kTasks = 6;
  constexpr int kRounds = 50;
  Runtime runtime({.num_workers = 4});
  Barrier barrier(kTasks);
  std::vector<std::atomic<int>> arrived(kRounds);
  std::vector<std::atomic<int>> leaders(kRounds);
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int t = 0; t < kTasks; ++t) {
      group.Spawn([&]() -> Task<void> {
        for (int round = 0; round < kRounds; ++round) {
          ++arrived[round];
          absl::StatusOr<BarrierWaitResult> met = co_await barrier.Wait();
          EXPECT_TRUE(met.ok()) << met.status();
          // Nobody passes a round before everyone arrived at it.
          EXPECT_EQ(arrived[round].load(), kTasks);
          if (met->is_leader) ++leaders[round];
        }
      });
    }
    (void)co_await group.Join();
  }());
  for (int round = 0; round < kRounds; ++round) EXPECT_EQ(leaders[round].load(), 1) << round;
  EXPECT_EQ(barrier.generation(), static_cast<uint64_t>(kRounds));
}

TEST(BarrierTest, SingleParticipantLeadsEveryTime) {
  Runtime runtime({.num_workers = 1});
  Barrier barrier(1);
  runtime.BlockOn([&]() -> Task<void> {
    for (int i = 0; i < 3; ++i) EXPECT_TRUE((co_await barrier.Wait())->is_leader);
  }());
  EXPECT_EQ(barrier.generation(), 3u);
}

TEST(BarrierTest, CancelledWaiterWithdrawsItsArrival) {
  Runtime runtime({.num_workers = 1});
  Barrier barrier(2);
  runtime.BlockOn([&]() -> Task<void> {
    CancellationSource source;
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      absl::StatusOr<BarrierWaitResult> met = co_await WithCancellation(
          source.token(), [&]() -> Task<absl::StatusOr<BarrierWaitResult>> {
            co_return co_await barrier.Wait();
          }());
      EXPECT_TRUE(absl::IsCancelled(met.status())) << met.status();
    });
    co_await Yield();  // One worker: the other task now waits at the barrier.
    source.Cancel();
    (void)co_await group.Join();
    // Its arrival was withdrawn: this one waits for a second arrival instead of leading.
    group.Spawn([&]() -> Task<void> {
      absl::StatusOr<BarrierWaitResult> met = co_await barrier.Wait();
      EXPECT_FALSE(met->is_leader);
    });
    co_await Yield();
    absl::StatusOr<BarrierWaitResult> met = co_await barrier.Wait();
    EXPECT_TRUE(met->is_leader);
    (void)co_await group.Join();
    EXPECT_EQ(barrier.generation(), 1u);
  }());
}

TEST(BarrierTest, AbortedWaiterWithdrawsItsArrival) {
  Runtime runtime({.num_workers = 1});
  Barrier barrier(2);
  runtime.BlockOn([&]() -> Task<void> {
    JoinHandle<void> waiter =
        Spawn([](Barrier* barrier) -> Task<void> { (void)co_await barrier->Wait(); }, &barrier);
    co_await Yield();
    waiter.Abort();
    (void)co_await std::move(waiter);
    TaskGroup group;
    group.Spawn([&]() -> Task<void> { EXPECT_FALSE((co_await barrier.Wait())->is_leader); });
    co_await Yield();
    EXPECT_TRUE((co_await barrier.Wait())->is_leader);
    (void)co_await group.Join();
  }());
}

void DestroyWhileWaiting() {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([&]() -> Task<void> {
    auto* barrier = new Barrier(2);
    Spawn([](Barrier* barrier) -> Task<void> { (void)co_await barrier->Wait(); }, barrier).Detach();
    co_await Yield();
    delete barrier;
  }());
}

TEST(BarrierDeathTest, MisuseAbortsWithAMessage) {
  EXPECT_DEATH(Barrier(0), "at least one participant");
  EXPECT_DEATH(DestroyWhileWaiting(), "Barrier destroyed while a task waits on it");
}

}  // namespace
}  // namespace coral
