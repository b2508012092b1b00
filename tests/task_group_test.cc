// Copyright 2026 The coral Authors.
//
// TaskGroup: joining, borrowing, first failure, cancellation sources, misuse, owner teardown;
// WhenAll and WhenAny over packs and vectors.

#include "coral/task_group.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

TEST(TaskGroupTest, JoinWaitsForChildrenThatBorrowLocals) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<int> {
    std::atomic<int> sum{0};
    TaskGroup group;
    for (int i = 1; i <= 100; ++i) {
      group.Spawn([&sum, i]() -> Task<void> {
        (void)co_await SleepFor(absl::Microseconds(100 * (i % 7)));
        sum += i;
      });
    }
    absl::Status joined = co_await group.Join();
    EXPECT_TRUE(joined.ok()) << joined;
    co_return sum.load();
  };
  EXPECT_EQ(runtime.BlockOn(body()), 5050);
}

TEST(TaskGroupTest, ChildrenSpawnSiblings) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<int> {
    std::atomic<int> count{0};
    TaskGroup group;
    auto leaf = [&count]() -> Task<void> {
      ++count;
      co_return;
    };
    group.Spawn([&]() -> Task<void> {
      for (int i = 0; i < 10; ++i) {
        group.Spawn(leaf);
        co_await Yield();
      }
    });
    (void)co_await group.Join();
    co_return count.load();
  };
  EXPECT_EQ(runtime.BlockOn(body()), 10);
}

TEST(TaskGroupTest, FirstErrorCancelsSiblingsAndIsReported) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<void> {
    std::atomic<int> cancelled{0};
    TaskGroup group;
    for (int i = 0; i < 10; ++i) {
      group.Spawn([&cancelled]() -> Task<absl::Status> {
        absl::Status slept = co_await SleepFor(absl::Hours(1));
        if (absl::IsCancelled(slept)) ++cancelled;
        co_return slept;
      });
    }
    group.Spawn([]() -> Task<absl::Status> {
      (void)co_await SleepFor(absl::Milliseconds(5));
      co_return absl::NotFoundError("the first failure");
    });
    const absl::Time start = absl::Now();
    absl::Status joined = co_await group.Join();
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
    EXPECT_TRUE(absl::IsNotFound(joined)) << joined;
    EXPECT_EQ(cancelled.load(), 10);
    std::vector<absl::Status> errors = group.errors();
    EXPECT_EQ(errors.size(), 11u);
    if (errors.empty()) co_return;
    EXPECT_TRUE(absl::IsNotFound(errors[0]));
    for (size_t i = 1; i < errors.size(); ++i) EXPECT_TRUE(absl::IsCancelled(errors[i]));
  };
  runtime.BlockOn(body());
}

TEST(TaskGroupTest, ExceptionIsRethrownFromJoin) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<std::vector<absl::Status>> {
    TaskGroup group;
    group.Spawn([]() -> Task<void> {
      throw std::runtime_error("child exploded");
      co_return;
    });
    group.Spawn([]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Hours(1)); });
    bool threw = false;
    try {
      (void)co_await group.Join();
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()) == "child exploded";
    }
    EXPECT_TRUE(threw);
    co_return group.errors();
  };
  std::vector<absl::Status> errors = runtime.BlockOn(body());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code(), absl::StatusCode::kUnknown);
  EXPECT_NE(errors[0].message().find("child exploded"), absl::string_view::npos);
  EXPECT_TRUE(absl::IsCancelled(errors[1]));
}

TEST(TaskGroupTest, StatusOrErrorCountsAsFailure) {
  Runtime runtime({.num_workers = 1});
  auto body = []() -> Task<absl::Status> {
    TaskGroup group;
    group.Spawn([]() -> Task<absl::StatusOr<int>> { co_return absl::DataLossError("bad"); });
    group.Spawn([]() -> Task<int> { co_return 3; });  // Plain values are not failures.
    co_return co_await group.Join();
  };
  EXPECT_TRUE(absl::IsDataLoss(runtime.BlockOn(body())));
}

TEST(TaskGroupTest, CancelFromOutsideAndFromTheParentToken) {
  Runtime runtime({.num_workers = 2});
  CancellationSource parent;
  auto body = [&]() -> Task<absl::Status> {
    TaskGroup group;
    for (int i = 0; i < 50; ++i) {
      group.Spawn([]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Hours(1)); });
    }
    co_return co_await group.Join();
  };
  auto outer = [&]() -> Task<absl::Status> {
    co_return co_await WithCancellation(parent.token(), body());
  };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    parent.Cancel();
  });
  EXPECT_TRUE(absl::IsCancelled(runtime.BlockOn(outer())));
  canceller.join();

  auto self_cancel = []() -> Task<absl::Status> {
    TaskGroup group;
    group.Spawn([]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Hours(1)); });
    group.Cancel();
    EXPECT_TRUE(group.token().IsCancelled());
    EXPECT_FALSE(CurrentCancellationToken().IsCancelled());  // The owner is not cancelled.
    co_return co_await group.Join();
  };
  EXPECT_TRUE(absl::IsCancelled(runtime.BlockOn(self_cancel())));
}

TEST(TaskGroupTest, GroupUnderADeadline) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  const Instant start = runtime.Now();
  auto body = []() -> Task<absl::Status> {
    CancellationSource deadline = CancellationSource::WithDeadline(Now() + absl::Milliseconds(20),
                                                                   CurrentCancellationToken());
    auto serve = []() -> Task<absl::Status> {
      TaskGroup group;
      group.Spawn([]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Hours(1)); });
      co_return co_await group.Join();
    };
    co_return co_await WithCancellation(deadline.token(), serve());
  };
  EXPECT_TRUE(absl::IsCancelled(runtime.BlockOn(body())));
  EXPECT_EQ(runtime.Now() - start, absl::Milliseconds(20));  // Paused clock: exact.
}

TEST(TaskGroupDeathTest, DestroyedWithoutJoin) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          TaskGroup group;
          group.Spawn([]() -> Task<void> { co_return; });
          co_return;
        }());
      },
      "TaskGroup with children was destroyed without co_await group.Join");
}

// The sequence: Join, then a second child, then the group goes while the child sleeps.
// Before, Join() marked the group joined when called, the destructor's check passed, and the
// child later counted itself out of the freed state (heap-use-after-free under ASan).
TEST(TaskGroupDeathTest, DestroyedWithAChildSpawnedAfterJoin) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 2});
        runtime.BlockOn([]() -> Task<void> {
          TaskGroup group;
          group.Spawn([]() -> Task<void> { co_return; });
          (void)co_await group.Join();
          group.Spawn([]() -> Task<void> { (void)co_await SleepFor(absl::Seconds(2)); });
          co_return;
        }());
      },
      "TaskGroup with children was destroyed without co_await group.Join\\(\\) after the last "
      "Spawn \\(a child is still running\\)");
}

// The same mistake when the late child has finished by then: still caught, every time.
TEST(TaskGroupDeathTest, DestroyedWithAFinishedChildSpawnedAfterJoin) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 2});
        runtime.BlockOn([]() -> Task<void> {
          TaskGroup group;
          (void)co_await group.Join();
          std::atomic<bool> ran{false};
          group.Spawn([&ran]() -> Task<void> {
            ran = true;
            co_return;
          });
          while (!ran) (void)co_await SleepFor(absl::Milliseconds(1));
          (void)co_await SleepFor(absl::Milliseconds(10));  // It counts itself out after `ran`.
          // (Whether or not it has by now, the destructor aborts.)
        }());
      },
      "TaskGroup with children was destroyed without co_await group.Join\\(\\) after the last "
      "Spawn");
}

// The pattern the header allows: join, spawn more, join again.
TEST(TaskGroupTest, JoinAgainAfterSpawningMore) {
  Runtime runtime({.num_workers = 2});
  std::atomic<int> finished{0};
  runtime.BlockOn([&finished]() -> Task<void> {
    TaskGroup group;
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 4; ++i) {
        group.Spawn([&finished]() -> Task<void> {
          (void)co_await SleepFor(absl::Milliseconds(2));
          ++finished;
        });
      }
      EXPECT_TRUE((co_await group.Join()).ok());
      EXPECT_EQ(finished.load(), 4 * (round + 1));
    }
  }());
}

// A guard whose destructor checks that every child has finished: the owner's frame (holding it)
// must outlive the children that borrow from it.
struct OutlivesChildren {
  std::atomic<int>* live;
  std::atomic<int>* violations;
  ~OutlivesChildren() {
    if (live->load() != 0) violations->fetch_add(1);
  }
};

TEST(TaskGroupTest, AbortedOwnerWaitsForItsChildren) {
  std::atomic<int> live[2] = {0, 0};  // Per owner.
  std::atomic<int> violations{0};
  std::atomic<int> cancelled{0};
  {
    Runtime runtime({.num_workers = 2});
    // join: the owner is aborted while awaiting Join; otherwise while sleeping elsewhere.
    auto owner = [&](bool join) -> Task<void> {
      std::atomic<int>* mine = &live[join ? 1 : 0];
      OutlivesChildren guard{mine, &violations};
      TaskGroup group;
      for (int i = 0; i < 20; ++i) {
        ++*mine;
        group.Spawn([&cancelled, mine]() -> Task<void> {
          absl::Status slept = co_await SleepFor(absl::Hours(1));
          if (absl::IsCancelled(slept)) ++cancelled;
          auto cleanup = []() -> Task<absl::Status> {
            co_return co_await SleepFor(absl::Milliseconds(2));
          };
          (void)co_await Shielded(cleanup());  // Slow cleanup.
          --*mine;
        });
      }
      if (join) {
        (void)co_await group.Join();
      } else {
        (void)co_await SleepFor(absl::Hours(1));
      }
    };
    JoinHandle<void> joining = runtime.Spawn(owner, true);
    JoinHandle<void> sleeping = runtime.Spawn(owner, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    joining.Abort();
    sleeping.Abort();
    runtime.BlockOn([&]() -> Task<void> {
      EXPECT_TRUE(absl::IsCancelled(co_await joining));
      EXPECT_TRUE(absl::IsCancelled(co_await sleeping));
    }());
    EXPECT_EQ(live[0].load() + live[1].load(), 0);
    EXPECT_EQ(cancelled.load(), 40);
  }
  EXPECT_EQ(violations.load(), 0);
}

TEST(TaskGroupTest, ShutdownWithLiveGroups) {
  constexpr int kOwners = 10;
  std::atomic<int> live[kOwners] = {};
  std::atomic<int> violations{0};
  {
    Runtime runtime({.num_workers = 2});
    for (int owner = 0; owner < kOwners; ++owner) {
      runtime
          .Spawn(
              [&violations](std::atomic<int>* mine) -> Task<void> {
                OutlivesChildren guard{mine, &violations};
                TaskGroup group;
                for (int i = 0; i < 10; ++i) {
                  ++*mine;
                  group.Spawn([mine]() -> Task<void> {
                    struct Leave {
                      std::atomic<int>* live;
                      ~Leave() { --*live; }
                    } leave{mine};
                    (void)co_await SleepFor(absl::Hours(1));
                  });
                }
                (void)co_await group.Join();
              },
              &live[owner])
          .Detach();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& count : live) EXPECT_EQ(count.load(), 0);
  EXPECT_EQ(violations.load(), 0);
}

TEST(WhenAllTest, PackAndVector) {
  Runtime runtime({.num_workers = 2});
  auto value = [](int v) -> Task<int> {
    (void)co_await SleepFor(absl::Milliseconds(v));
    co_return v;
  };
  auto nothing = []() -> Task<void> { co_return; };
  auto failing = []() -> Task<absl::Status> { co_return absl::AbortedError("no"); };
  auto body = [&]() -> Task<void> {
    auto [a, b, c] = co_await WhenAll(value(3), nothing(), failing());
    EXPECT_EQ(*a, 3);
    EXPECT_TRUE(b.ok());
    EXPECT_TRUE(absl::IsAborted(c)) << c;  // An absl::Status task's result is its own status.
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(value(i));
    std::vector<absl::StatusOr<int>> results = co_await WhenAll(std::move(tasks));
    EXPECT_EQ(results.size(), 10u);
    for (size_t i = 0; i < results.size(); ++i) EXPECT_EQ(*results[i], static_cast<int>(i));
  };
  runtime.BlockOn(body());
}

TEST(WhenAllTest, RethrowsAfterAllFinished) {
  Runtime runtime({.num_workers = 2});
  std::atomic<bool> slow_finished{false};
  auto slow = [&]() -> Task<void> {
    (void)co_await SleepFor(absl::Milliseconds(20));
    slow_finished = true;
  };
  auto thrower = []() -> Task<int> {
    throw std::logic_error("boom");
    co_return 0;
  };
  auto body = [&]() -> Task<void> { (void)co_await WhenAll(slow(), thrower()); };
  EXPECT_THROW(runtime.BlockOn(body()), std::logic_error);
  EXPECT_TRUE(slow_finished.load());
}

TEST(WhenAnyTest, FirstWinsLosersAreCancelledAndAwaited) {
  Runtime runtime({.num_workers = 2});
  std::atomic<int> losers_finished{0};
  auto slow = [&]() -> Task<absl::Status> {
    absl::Status s = co_await SleepFor(absl::Hours(1));
    ++losers_finished;
    co_return s;
  };
  auto fast = []() -> Task<std::string> {
    (void)co_await SleepFor(absl::Milliseconds(5));
    co_return "fast";
  };
  auto body = [&]() -> Task<void> {
    const absl::Time start = absl::Now();
    WhenAnyResult<absl::Status, std::string, absl::Status> any =
        co_await WhenAny(slow(), fast(), slow());
    EXPECT_EQ(any.index, 1u);
    EXPECT_EQ(*std::get<1>(any.result), "fast");
    EXPECT_EQ(losers_finished.load(), 2);  // Awaited before WhenAny returned.
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));
    std::vector<Task<absl::Status>> tasks;
    tasks.push_back(slow());
    tasks.push_back([]() -> Task<absl::Status> { co_return absl::OkStatus(); }());
    auto [index, result] = co_await WhenAny(std::move(tasks));
    EXPECT_EQ(index, 1u);
    EXPECT_TRUE(result.ok());
    EXPECT_EQ(losers_finished.load(), 3);
  };
  runtime.BlockOn(body());
}

}  // namespace
}  // namespace coral
