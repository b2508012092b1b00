// Copyright 2026 The coral Authors.
//
// Tearing a task down while it is suspended inside cancellation scopes: every nesting of
// WithCancellation, Timeout and Shielded to depth two, under JoinHandle::Abort and under Runtime
// shutdown. Each scope swaps the task's token and must put it back in the right order however the
// frames are destroyed (the task's header owns a reference to its original token only).

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <tuple>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace coral {
namespace {

enum class Scope { kNone, kWithCancellation, kTimeout, kShielded };
enum class Teardown { kAbort, kShutdown };

std::string Name(Scope scope) {
  switch (scope) {
    case Scope::kNone:
      return "None";
    case Scope::kWithCancellation:
      return "WithCancellation";
    case Scope::kTimeout:
      return "Timeout";
    case Scope::kShielded:
      return "Shielded";
  }
  return "?";
}

constexpr absl::Duration kLong = absl::Hours(1);

// Sets `inside`, then suspends for good.
Task<void> Leaf(std::atomic<bool>* inside) {
  inside->store(true);
  (void)co_await SleepFor(kLong);
}

// Suspends inside `outer(inner(Leaf))`, written as a user would write it, each scope taking the
// next one's task (or Timeout's awaitable) as its argument.
Task<void> Nested(Scope outer, Scope inner, CancellationToken token, std::atomic<bool>* inside) {
  using S = Scope;
  auto leaf = [&] { return Leaf(inside); };
  switch (static_cast<int>(outer) * 4 + static_cast<int>(inner)) {
    case int(S::kWithCancellation) * 4 + int(S::kNone):
      co_await WithCancellation(token, leaf());
      break;
    case int(S::kWithCancellation) * 4 + int(S::kWithCancellation):
      co_await WithCancellation(token, WithCancellation(token, leaf()));
      break;
    case int(S::kWithCancellation) * 4 + int(S::kTimeout):
      (void)co_await WithCancellation(token, Timeout(kLong, leaf()));
      break;
    case int(S::kWithCancellation) * 4 + int(S::kShielded):
      co_await WithCancellation(token, Shielded(leaf()));
      break;
    case int(S::kTimeout) * 4 + int(S::kNone):
      (void)co_await Timeout(kLong, leaf());
      break;
    case int(S::kTimeout) * 4 + int(S::kWithCancellation):
      (void)co_await Timeout(kLong, WithCancellation(token, leaf()));
      break;
    case int(S::kTimeout) * 4 + int(S::kTimeout):
      (void)co_await Timeout(kLong, Timeout(kLong, leaf()));
      break;
    case int(S::kTimeout) * 4 + int(S::kShielded):
      (void)co_await Timeout(kLong, Shielded(leaf()));
      break;
    case int(S::kShielded) * 4 + int(S::kNone):
      co_await Shielded(leaf());
      break;
    case int(S::kShielded) * 4 + int(S::kWithCancellation):
      co_await Shielded(WithCancellation(token, leaf()));
      break;
    case int(S::kShielded) * 4 + int(S::kTimeout):
      (void)co_await Shielded(Timeout(kLong, leaf()));
      break;
    case int(S::kShielded) * 4 + int(S::kShielded):
      co_await Shielded(Shielded(leaf()));
      break;
  }
}

class ScopeTeardownTest : public ::testing::TestWithParam<std::tuple<Scope, Scope, Teardown>> {};

TEST_P(ScopeTeardownTest, TearsDownCleanly) {
  const auto [outer, inner, teardown] = GetParam();
  Runtime runtime({.num_workers = 2});
  CancellationSource scope_source;  // The token the WithCancellation scopes install.
  std::atomic<bool> inside{false};
  // The task runs under a token of its own, which the scopes replace and must restore.
  CancellationSource own;
  JoinHandle<void> handle = runtime.Spawn([&]() -> Task<void> {
    co_await WithCancellation(own.token(), Nested(outer, inner, scope_source.token(), &inside));
  });
  ASSERT_TRUE(testing::Eventually([&] { return inside.load(); }));
  const absl::Time start = absl::Now();
  if (teardown == Teardown::kAbort) {
    handle.Abort();
    absl::Status status = runtime.BlockOn([](JoinHandle<void> h) -> Task<absl::Status> {
      co_return co_await std::move(h);
    }(std::move(handle)));
    EXPECT_TRUE(absl::IsCancelled(status)) << status;
  } else {
    runtime.Shutdown();
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

INSTANTIATE_TEST_SUITE_P(
    AllNestings, ScopeTeardownTest,
    ::testing::Combine(::testing::Values(Scope::kWithCancellation, Scope::kTimeout,
                                         Scope::kShielded),
                       ::testing::Values(Scope::kNone, Scope::kWithCancellation, Scope::kTimeout,
                                         Scope::kShielded),
                       ::testing::Values(Teardown::kAbort, Teardown::kShutdown)),
    [](const auto& info) {
      return Name(std::get<0>(info.param)) + "_" + Name(std::get<1>(info.param)) + "_" +
             (std::get<2>(info.param) == Teardown::kAbort ? "Abort" : "Shutdown");
    });

// After a scope returns normally, the task observes its own token again (nested both ways): the
// very token it ran under before, not merely one that is cancelled with it (a Timeout's deadline
// token is a child of the task's, so a scope that failed to restore would still see the
// cancellation).
TEST(ScopeTeardownTest, ScopesRestoreTheTokenOnReturn) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<void> {
    CancellationSource own;
    auto check = [&]() -> Task<void> {
      const internal::CancellationState* before = internal::StateOf(CurrentCancellationToken());
      EXPECT_EQ(before, internal::StateOf(own.token()));
      auto current = [] { return internal::StateOf(CurrentCancellationToken()); };
      auto sleeper = []() -> Task<void> { (void)co_await SleepFor(absl::Milliseconds(1)); };
      CancellationSource other;
      (void)co_await Timeout(absl::Hours(1), WithCancellation(other.token(), sleeper()));
      EXPECT_EQ(current(), before) << "after Timeout(WithCancellation)";
      co_await WithCancellation(other.token(), [&]() -> Task<void> {
        (void)co_await Timeout(absl::Hours(1), sleeper());
        EXPECT_EQ(current(), internal::StateOf(other.token())) << "inside WithCancellation";
      }());
      EXPECT_EQ(current(), before) << "after WithCancellation(Timeout)";
      co_await Shielded([&]() -> Task<void> {
        (void)co_await Timeout(absl::Hours(1), Shielded(sleeper()));
        EXPECT_EQ(current(), nullptr) << "inside Shielded";
      }());
      EXPECT_EQ(current(), before) << "after Shielded(Timeout(Shielded))";
      own.Cancel();
      EXPECT_TRUE(CurrentCancellationToken().IsCancelled());
    };
    co_await WithCancellation(own.token(), check());
  };
  runtime.BlockOn(body());
}

// Whoever destroys a task's frame, the task's own token outlives the destruction of its locals:
// the frame's destructors may use it (a pending wait deregisters from it; a scope puts it back).
// (The header releases its reference only after the frame is gone, on every path; under ASan a
// use after that release would be reported here.)

// A task whose own token only its header still references (the source and every token are gone),
// suspended in a wait that is registered on that token.
JoinHandle<void> SpawnUnderSoleToken(Runtime& runtime, std::atomic<bool>* inside) {
  return runtime.BlockOn([inside]() -> Task<JoinHandle<void>> {
    CancellationSource source;
    co_return co_await WithCancellation(source.token(), [inside]() -> Task<JoinHandle<void>> {
      co_return Spawn([inside]() -> Task<void> {
        inside->store(true);
        (void)co_await SleepFor(kLong);  // Its destructor deregisters from the task's token.
      });
    }());
  }());
}

TEST(TokenLifetimeTest, PendingWaitTornDownByAbort) {
  Runtime runtime({.num_workers = 2});
  std::atomic<bool> inside{false};
  JoinHandle<void> handle = SpawnUnderSoleToken(runtime, &inside);
  ASSERT_TRUE(testing::Eventually([&] { return inside.load(); }));
  handle.Abort();
  absl::Status status = runtime.BlockOn([](JoinHandle<void> h) -> Task<absl::Status> {
    co_return co_await std::move(h);
  }(std::move(handle)));
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
}

TEST(TokenLifetimeTest, PendingWaitTornDownByShutdown) {
  Runtime runtime({.num_workers = 2});
  std::atomic<bool> inside{false};
  SpawnUnderSoleToken(runtime, &inside).Detach();
  ASSERT_TRUE(testing::Eventually([&] { return inside.load(); }));
  runtime.Shutdown();
}

}  // namespace
}  // namespace coral
