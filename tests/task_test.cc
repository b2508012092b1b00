// Copyright 2026 The coral Authors.
//
// coral::Task<T>: results, exceptions, move-only values, and await chains that must not grow the
// stack. Built twice: as configured, and at -O0 (task_test_O0), where gcc keeps frames.

#include "coral/task.h"

#include <memory>
#include <stdexcept>
#include <string>

#include "coral/runtime.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

Task<int> Constant(int x) { co_return x; }
Task<void> Nothing() { co_return; }
Task<int> Thrower() {
  throw std::runtime_error("boom");
  co_return 0;
}
Task<std::unique_ptr<std::string>> MoveOnly() { co_return std::make_unique<std::string>("owned"); }

Task<int> Add(int a, int b) { co_return co_await Constant(a) + co_await Constant(b); }

class TaskTest : public ::testing::Test {
 protected:
  Runtime runtime_{{.num_workers = 2}};
};

TEST_F(TaskTest, ReturnsValue) { EXPECT_EQ(runtime_.BlockOn(Add(2, 3)), 5); }

TEST_F(TaskTest, VoidTaskCompletes) {
  int runs = 0;
  auto body = [&]() -> Task<void> {
    co_await Nothing();
    ++runs;
  };
  runtime_.BlockOn(body());
  EXPECT_EQ(runs, 1);
}

TEST_F(TaskTest, IsLazy) {
  bool started = false;
  auto body = [&]() -> Task<void> {
    started = true;
    co_return;
  };
  Task<void> task = body();
  EXPECT_FALSE(started);
  runtime_.BlockOn(std::move(task));
  EXPECT_TRUE(started);
}

TEST_F(TaskTest, ExceptionIsRethrownAtAwait) {
  auto body = []() -> Task<std::string> {
    try {
      co_await Thrower();
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not thrown";
  };
  EXPECT_EQ(runtime_.BlockOn(body()), "caught boom");
}

TEST_F(TaskTest, BlockOnRethrows) { EXPECT_THROW(runtime_.BlockOn(Thrower()), std::runtime_error); }

TEST_F(TaskTest, MoveOnlyResult) {
  std::unique_ptr<std::string> value = runtime_.BlockOn(MoveOnly());
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, "owned");
}

TEST_F(TaskTest, UnawaitedTaskIsDestroyedWithoutRunning) {
  bool started = false;
  auto body = [&]() -> Task<void> {
    started = true;
    co_return;
  };
  { Task<void> task = body(); }
  EXPECT_FALSE(started);
}

// 1,000,000 sequential awaits of tasks that complete synchronously: the stack must not grow with
// the loop count (this overflows with naive resumption, and with symmetric transfer under gcc -O0).
TEST_F(TaskTest, MillionCompletedAwaitsDoNotGrowTheStack) {
  auto body = []() -> Task<long> {
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await Constant(1);
    co_return sum;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 1'000'000);
}

// The same with tasks that suspend (yield) first, so completion happens on a later resumption,
// possibly on another worker.
TEST_F(TaskTest, AwaitsOfSuspendingTasksCompleteAcrossWorkers) {
  auto suspending = [](int x) -> Task<int> {
    co_await Yield();
    co_return x;
  };
  auto body = [&]() -> Task<long> {
    long sum = 0;
    for (int i = 0; i < 10'000; ++i) sum += co_await suspending(i);
    co_return sum;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 10'000L * 9'999 / 2);
}

Task<int> Depth(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await Depth(n - 1);
}

TEST_F(TaskTest, DeepRecursion) { EXPECT_EQ(runtime_.BlockOn(Depth(2000)), 2000); }

}  // namespace
}  // namespace coral
