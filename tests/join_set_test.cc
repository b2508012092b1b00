// Copyright 2026 The coral Authors.
//
// JoinSet: results in finish order, empty indication, abort on destruction and AbortAll,
// exceptions, cancellation of the joiner, and misuse.

#include "coral/join_set.h"

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/cancellation.h"
#include "coral/event.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

// Counts its destructions: shows when a task's frame (which owns it) was destroyed.
class DestroyCounter {
 public:
  explicit DestroyCounter(std::atomic<int>* count) : count_(count) {}
  DestroyCounter(DestroyCounter&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  DestroyCounter& operator=(DestroyCounter&&) = delete;
  ~DestroyCounter() {
    if (count_ != nullptr) ++*count_;
  }

 private:
  std::atomic<int>* count_;
};

Task<int> ValueAfter(Event* event, int value) {
  (void)co_await event->Wait();
  co_return value;
}

TEST(JoinSetTest, YieldsResultsInFinishOrderThenNullopt) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([]() -> Task<void> {
    JoinSet<int> set;
    std::vector<std::unique_ptr<Event>> events;
    for (int i = 0; i < 3; ++i) {
      events.push_back(std::make_unique<Event>());
      set.Spawn(ValueAfter, events.back().get(), i * 10);
    }
    EXPECT_EQ(set.size(), 3u);
    for (int i : {2, 0, 1}) {
      events[i]->Set();
      std::optional<absl::StatusOr<int>> next = co_await set.JoinNext();
      EXPECT_TRUE(next.has_value());
      EXPECT_EQ(**next, i * 10);
    }
    EXPECT_TRUE(set.empty());
    EXPECT_EQ(co_await set.JoinNext(), std::nullopt);
  }());
}

TEST(JoinSetTest, VoidAndStatusTasks) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([]() -> Task<void> {
    JoinSet<void> done;
    std::atomic<int> ran{0};
    for (int i = 0; i < 10; ++i) {
      done.Spawn([&ran]() -> Task<void> {
        ++ran;
        co_return;
      });
    }
    int joined = 0;
    while (std::optional<absl::Status> result = co_await done.JoinNext()) {
      EXPECT_TRUE(result->ok());
      ++joined;
    }
    EXPECT_EQ(joined, 10);
    EXPECT_EQ(ran.load(), 10);

    JoinSet<absl::Status> statuses;
    statuses.Spawn([]() -> Task<absl::Status> { co_return absl::NotFoundError("x"); });
    std::optional<absl::Status> failed = co_await statuses.JoinNext();
    EXPECT_TRUE(absl::IsNotFound(*failed)) << *failed;
  }());
}

TEST(JoinSetTest, DestructionAbortsAndFreesTheTasks) {
  Runtime runtime({.num_workers = 2});
  std::atomic<int> destroyed{0};
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    {
      JoinSet<int> set;
      for (int i = 0; i < 5; ++i) {
        set.Spawn(
            [](Event* never, DestroyCounter) -> Task<int> {
              (void)co_await never->Wait();
              co_return 1;
            },
            &never, DestroyCounter(&destroyed));
      }
      co_await Yield();
    }  // Aborts all five.
    while (destroyed.load() < 5) co_await Yield();
  }());
  EXPECT_EQ(destroyed.load(), 5);
}

TEST(JoinSetTest, AbortAllYieldsCancelledExceptForFinished) {
  Runtime runtime({.num_workers = 2});
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    JoinSet<int> set;
    set.Spawn([]() -> Task<int> { co_return 7; });
    std::optional<absl::StatusOr<int>> first = co_await set.JoinNext();
    EXPECT_EQ(**first, 7);
    set.Spawn([]() -> Task<int> { co_return 8; });
    std::optional<absl::StatusOr<int>> second = co_await set.JoinNext();
    EXPECT_EQ(**second, 8);
    for (int i = 0; i < 3; ++i) set.Spawn(ValueAfter, &never, i);
    set.AbortAll();
    int cancelled = 0;
    while (std::optional<absl::StatusOr<int>> next = co_await set.JoinNext()) {
      EXPECT_TRUE(absl::IsCancelled(next->status())) << next->status();
      ++cancelled;
    }
    EXPECT_EQ(cancelled, 3);
  }());
}

TEST(JoinSetTest, ExceptionIsRethrownFromJoinNext) {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    JoinSet<int> set;
    set.Spawn([]() -> Task<int> {
      throw std::runtime_error("boom");
      co_return 0;
    });
    bool caught = false;
    try {
      (void)co_await set.JoinNext();
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "boom";
    }
    EXPECT_TRUE(caught);
    EXPECT_TRUE(set.empty());
  }());
}

TEST(JoinSetTest, CancelledJoinerGetsNulloptAndLosesNothing) {
  Runtime runtime({.num_workers = 2});
  Event release;
  runtime.BlockOn([&]() -> Task<void> {
    JoinSet<int> set;
    set.Spawn(ValueAfter, &release, 5);
    CancellationSource source;
    source.Cancel();
    std::optional<absl::StatusOr<int>> none =
        co_await WithCancellation(source.token(), set.JoinNext());
    EXPECT_EQ(none, std::nullopt);
    EXPECT_EQ(set.size(), 1u);
    release.Set();
    std::optional<absl::StatusOr<int>> five = co_await set.JoinNext();
    EXPECT_EQ(**five, 5);
  }());
}

TEST(JoinSetTest, TasksInheritTheSpawnersToken) {
  Runtime runtime({.num_workers = 2});
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    CancellationSource source;
    JoinSet<int> set;
    co_await WithCancellation(source.token(), [&]() -> Task<void> {
      set.Spawn(ValueAfter, &never, 1);
      co_return;
    }());
    source.Cancel();
    // The task's wait ends with CancelledError; it then returns its value.
    std::optional<absl::StatusOr<int>> result = co_await set.JoinNext();
    EXPECT_EQ(**result, 1);
  }());
}

void SpawnOnMovedFrom() {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    JoinSet<int> set;
    JoinSet<int> other = std::move(set);
    set.Spawn([]() -> Task<int> { co_return 1; });
    co_return;
  }());
}

void TwoJoiners() {
  Runtime runtime({.num_workers = 1});
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    JoinSet<int> set;
    set.Spawn(ValueAfter, &never, 1);
    TaskGroup group;
    group.Spawn([&]() -> Task<void> { (void)co_await set.JoinNext(); });
    co_await Yield();
    (void)co_await set.JoinNext();
  }());
}

// The move constructor, while a task is inside co_await JoinNext() on the source.
void MoveConstructWhileJoining() {
  Runtime runtime({.num_workers = 1});
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    JoinSet<int> set;
    set.Spawn(ValueAfter, &never, 1);
    TaskGroup group;
    group.Spawn([&]() -> Task<void> { (void)co_await set.JoinNext(); });
    co_await Yield();
    JoinSet<int> other(std::move(set));
  }());
}

TEST(JoinSetDeathTest, MisuseAbortsWithAMessage) {
  EXPECT_DEATH(SpawnOnMovedFrom(), "Spawn on a moved-from coral::JoinSet");
  EXPECT_DEATH(TwoJoiners(), "two tasks await JoinNext\\(\\) on one coral::JoinSet");
  EXPECT_DEATH(MoveConstructWhileJoining(),
               "a coral::JoinSet moved while a task awaits its JoinNext\\(\\)");
}

}  // namespace
}  // namespace coral
