// Copyright 2026 The coral Authors.
//
// Runtime, Spawn and JoinHandle: the task lifecycle (complete, throw, abort before start, abort
// while suspended, abort while running, handle dropped before and after completion), ownership of
// arguments, yielding, stealing, shutdown with pending work, and idleness.

#include "coral/runtime.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "coral/join_handle.h"
#include "coral/sleep.h"
#include "coral/yield.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace coral {
namespace {

using ::coral::testing::DropCounter;
using ::coral::testing::Eventually;
using ::testing::HasSubstr;

// Yields until `release` is set: a task that stays alive, suspended between runs.
Task<void> SpinUntil(const std::atomic<bool>* release) {
  while (!release->load()) co_await Yield();
}

TEST(RuntimeTest, DefaultsToHardwareConcurrency) {
  Runtime runtime;
  EXPECT_EQ(runtime.num_workers(),
            static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(RuntimeTest, SpawnFromOutsideAndJoinInside) {
  Runtime runtime({.num_workers = 2});
  JoinHandle<int> handle = runtime.Spawn([]() -> Task<int> { co_return 42; });
  auto join = [](JoinHandle<int> h) -> Task<absl::StatusOr<int>> {
    co_return co_await std::move(h);
  };
  absl::StatusOr<int> result = runtime.BlockOn(join(std::move(handle)));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
}

Task<long> SumRange(long lo, long hi) {
  if (hi - lo <= 1000) {
    long sum = 0;
    for (long i = lo; i < hi; ++i) sum += i;
    co_return sum;
  }
  const long mid = lo + (hi - lo) / 2;
  JoinHandle<long> left = Spawn(SumRange, lo, mid);
  const long right = co_await SumRange(mid, hi);
  absl::StatusOr<long> left_sum = co_await std::move(left);
  co_return *left_sum + right;
}

TEST(RuntimeTest, RecursiveSpawnFromInside) {
  Runtime runtime({.num_workers = 2});
  EXPECT_EQ(runtime.BlockOn(SumRange(0, 1'000'000)), 999'999L * 1'000'000 / 2);
}

TEST(RuntimeTest, JoinRethrowsTaskException) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<std::string> {
    JoinHandle<void> h = Spawn([]() -> Task<void> {
      throw std::runtime_error("child failed");
      co_return;
    });
    try {
      co_await std::move(h);
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no exception";
  };
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(runtime.BlockOn(body()), "child failed");
  // The joiner took the exception: nothing is reported as unobserved.
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(RuntimeTest, AbortBeforeStartNeverRuns) {
  Runtime runtime({.num_workers = 1});
  std::atomic<bool> ran{false};
  std::atomic<int> drops{0};
  auto body = [&]() -> Task<absl::Status> {
    // One worker, and this task is running on it: the child cannot start before we await.
    JoinHandle<void> child = Spawn(
        [&ran](DropCounter) -> Task<void> {
          ran = true;
          co_return;
        },
        DropCounter(&drops));
    child.Abort();
    co_return co_await std::move(child);
  };
  absl::Status status = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(drops.load(), 1);  // The argument owned by the task was destroyed.
}

TEST(RuntimeTest, AnAbortedStatusTaskJoinsAsCancelled) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<absl::Status> {
    JoinHandle<absl::Status> child = Spawn([]() -> Task<absl::Status> {
      co_await SleepFor(absl::Hours(1));
      co_return absl::OkStatus();
    });
    co_await SleepFor(absl::Milliseconds(5));  // Let it start sleeping.
    child.Abort();
    // One Status, not an absl::StatusOr<absl::Status> whose ok() would hide the abort.
    const absl::Status joined = co_await std::move(child);
    co_return joined;
  };
  absl::Status status = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
}

TEST(RuntimeTest, AbortWhileSuspendedDestroysFrame) {
  Runtime runtime({.num_workers = 2});
  std::atomic<bool> release{false};
  std::atomic<int> drops{0};
  std::atomic<bool> waiting{false};
  auto body = [&]() -> Task<absl::Status> {
    JoinHandle<void> blocker = Spawn(SpinUntil, &release);
    // The victim suspends awaiting the blocker's handle (it is idle, owned by a waker).
    JoinHandle<void> victim = Spawn(
        [&waiting](DropCounter guard, JoinHandle<void> inner) -> Task<void> {
          DropCounter local(std::move(guard));
          waiting = true;
          co_await std::move(inner);
          ADD_FAILURE() << "resumed after abort";
        },
        DropCounter(&drops), std::move(blocker));
    while (!waiting.load()) co_await Yield();
    victim.Abort();
    absl::Status status = co_await std::move(victim);
    release = true;
    co_return status;
  };
  absl::Status status = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_EQ(drops.load(), 1);
}

TEST(RuntimeTest, AbortWhileRunningTearsDownAtNextSuspension) {
  Runtime runtime({.num_workers = 2});
  std::atomic<int> drops{0};
  std::atomic<long> iterations{0};
  auto body = [&]() -> Task<absl::Status> {
    JoinHandle<void> spinner = Spawn(
        [&iterations](DropCounter guard) -> Task<void> {
          DropCounter local(std::move(guard));
          for (;;) {
            iterations.fetch_add(1);
            co_await Yield();
          }
        },
        DropCounter(&drops));
    while (iterations.load() < 100) co_await Yield();
    spinner.Abort();
    co_return co_await std::move(spinner);
  };
  absl::Status status = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsCancelled(status));
  EXPECT_EQ(drops.load(), 1);
}

TEST(RuntimeTest, AbortAfterCompletionKeepsOutput) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<absl::StatusOr<int>> {
    JoinHandle<int> h = Spawn([]() -> Task<int> { co_return 7; });
    while (!h.IsFinished()) co_await Yield();
    h.Abort();
    co_return co_await std::move(h);
  };
  absl::StatusOr<int> result = runtime.BlockOn(body());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 7);
}

TEST(RuntimeTest, DroppedHandleLetsTaskRunToCompletion) {
  Runtime runtime({.num_workers = 2});
  std::atomic<int> done{0};
  {
    JoinHandle<void> h = runtime.Spawn([&done]() -> Task<void> {
      co_await Yield();
      done = 1;
    });
  }
  EXPECT_TRUE(Eventually([&] { return done.load() == 1; }));
}

TEST(RuntimeTest, HandleDroppedAfterCompletionFreesTask) {
  Runtime runtime({.num_workers = 2});
  auto captured = std::make_shared<int>(1);
  std::weak_ptr<int> weak = captured;
  JoinHandle<void> h =
      runtime.Spawn([captured = std::move(captured)]() -> Task<void> { co_return; });
  ASSERT_TRUE(Eventually([&] { return h.IsFinished(); }));
  // The handle keeps the finished task (its output, and the closure in its frame) alive...
  EXPECT_FALSE(weak.expired());
  // ...until the last reference goes.
  h = JoinHandle<void>();
  EXPECT_TRUE(weak.expired());
}

TEST(RuntimeTest, ArgumentsAreDecayCopied) {
  Runtime runtime({.num_workers = 2});
  std::string text = "original";
  JoinHandle<std::string> h =
      runtime.Spawn([](std::string s) -> Task<std::string> { co_return s; }, text);
  text = "changed";
  auto join = [](JoinHandle<std::string> h) -> Task<std::string> {
    co_return *co_await std::move(h);
  };
  EXPECT_EQ(runtime.BlockOn(join(std::move(h))), "original");
}

void Increment(int& x) { ++x; }
Task<void> IncrementTask(int& x) {
  ++x;
  co_return;
}

TEST(RuntimeTest, ReferencesNeedStdRef) {
  static_assert(!kSpawnable<decltype(&IncrementTask), int&>,
                "a plain reference argument must not compile");
  static_assert(kSpawnable<decltype(&IncrementTask), std::reference_wrapper<int>>);
  static_assert(!kSpawnable<decltype(&Increment), std::reference_wrapper<int>>,
                "the callable must return a coral::Task");
  Runtime runtime({.num_workers = 2});
  int x = 0;
  auto body = [&]() -> Task<void> { co_await Spawn(IncrementTask, std::ref(x)); };
  runtime.BlockOn(body());
  EXPECT_EQ(x, 1);
}

TEST(RuntimeTest, LambdaCapturesLiveAsLongAsTheTask) {
  Runtime runtime({.num_workers = 2});
  auto shared = std::make_shared<int>(5);
  std::weak_ptr<int> weak = shared;
  std::atomic<bool> release{false};
  JoinHandle<int> h = runtime.Spawn([shared, &release]() -> Task<int> {
    co_await SpinUntil(&release);
    co_return *shared;  // The closure lives in the task's frame.
  });
  shared.reset();
  EXPECT_FALSE(weak.expired());
  release = true;
  auto join = [](JoinHandle<int> h) -> Task<int> { co_return *co_await std::move(h); };
  EXPECT_EQ(runtime.BlockOn(join(std::move(h))), 5);
  // The completing worker may still hold its reference for a moment after the join returned.
  EXPECT_TRUE(Eventually([&] { return weak.expired(); }));
}

TEST(RuntimeTest, YieldRequeuesBehindOtherTasks) {
  Runtime runtime({.num_workers = 1});
  std::vector<int> order;  // One worker: no concurrent access.
  auto step = [&order](int id) -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      order.push_back(id);
      co_await Yield();
    }
  };
  auto body = [&]() -> Task<void> {
    JoinHandle<void> a = Spawn(step, 1);
    JoinHandle<void> b = Spawn(step, 2);
    co_await std::move(a);
    co_await std::move(b);
  };
  runtime.BlockOn(body());
  // Each yield lets the other task run: they alternate (which one starts depends on the LIFO slot,
  // which TSan builds randomize).
  ASSERT_EQ(order.size(), 6u);
  for (size_t i = 1; i < order.size(); ++i) EXPECT_NE(order[i], order[i - 1]) << "at " << i;
}

TEST(RuntimeTest, IdleWorkersStealWork) {
  Runtime runtime({.num_workers = 2});
  std::mutex mu;
  std::set<std::thread::id> threads;
  auto busy = [&]() -> Task<void> {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (std::chrono::steady_clock::now() < until) {
    }
    std::lock_guard<std::mutex> lock(mu);
    threads.insert(std::this_thread::get_id());
    co_return;
  };
  auto body = [&]() -> Task<void> {
    std::vector<JoinHandle<void>> handles;
    for (int i = 0; i < 64; ++i) handles.push_back(Spawn(busy));
    for (auto& h : handles) co_await std::move(h);
  };
  runtime.BlockOn(body());
  EXPECT_EQ(threads.size(), 2u);
}

TEST(RuntimeTest, DetachedExceptionIsReportedAndWorkerSurvives) {
  Runtime runtime({.num_workers = 1});
  ::testing::internal::CaptureStderr();
  std::atomic<bool> thrown{false};
  runtime
      .Spawn([&thrown]() -> Task<void> {
        thrown = true;
        throw std::runtime_error("detached boom");
        co_return;
      })
      .Detach();
  ASSERT_TRUE(Eventually([&] { return thrown.load(); }));
  // The worker is still serving tasks.
  EXPECT_EQ(runtime.BlockOn([]() -> Task<int> { co_return 3; }()), 3);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("detached boom"));
}

TEST(RuntimeTest, ShutdownDestroysPendingTasks) {
  std::atomic<int> drops{0};
  std::atomic<bool> release{false};  // Never set: the tasks would run forever.
  std::vector<JoinHandle<void>> handles;
  {
    Runtime runtime({.num_workers = 2});
    for (int i = 0; i < 100; ++i) {
      handles.push_back(runtime.Spawn(
          [&release](DropCounter guard) -> Task<void> {
            DropCounter local(std::move(guard));
            co_await SpinUntil(&release);
          },
          DropCounter(&drops)));
    }
    // Idle tasks too: waiting on the join of a spinning task.
    for (int i = 0; i < 100; ++i) {
      JoinHandle<void> inner = runtime.Spawn(SpinUntil, &release);
      runtime
          .Spawn([](DropCounter, JoinHandle<void> h) -> Task<void> { co_await std::move(h); },
                 DropCounter(&drops), std::move(inner))
          .Detach();
    }
    runtime.Shutdown();
    EXPECT_EQ(drops.load(), 200);
    // Spawning after shutdown tears the task down at once.
    JoinHandle<void> late =
        runtime.Spawn([](DropCounter) -> Task<void> { co_return; }, DropCounter(&drops));
    EXPECT_TRUE(late.IsFinished());
    EXPECT_EQ(drops.load(), 201);
  }
  for (auto& h : handles) EXPECT_TRUE(h.IsFinished());
}

TEST(RuntimeTest, IdleRuntimeUsesNoCpu) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([]() -> Task<void> { co_return; }());
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  auto micros = [](const rusage& u) {
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000L + u.ru_utime.tv_usec +
           u.ru_stime.tv_usec;
  };
  EXPECT_LT(micros(after) - micros(before), 15'000) << "workers should sleep in epoll_wait";
}

}  // namespace
}  // namespace coral
