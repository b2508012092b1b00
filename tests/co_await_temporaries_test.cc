// Copyright 2026 The coral Authors.
//
// Lambda temporaries inside co_await expressions (task.h, "gcc 12 and lambda temporaries"): the
// forms that are harmless under gcc 12 (capture by reference) work with every entry point that
// takes a callable or a task, and SpawnBlocking refuses at compile time the form that gcc 12
// miscompiles (an rvalue callable whose captures are not trivially copyable). Meant for asan.

#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/spawn_blocking.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

// The compile-time rule, checked on the exact types of the dangerous and the accepted forms.
std::string text = "abc";
auto by_value = [s = text] { return s.size(); };
auto by_reference = [s = &text] { return s->size(); };
static_assert(!internal::kBlockingCallableAccepted<decltype(by_value)&&>,
              "a lambda temporary with a std::string capture must not compile");
static_assert(!internal::kBlockingCallableAccepted<decltype(std::move(by_value))>,
              "std::move of it is indistinguishable, so refused as well");
static_assert(internal::kBlockingCallableAccepted<decltype(by_value)&>,
              "a named callable is copied");
static_assert(internal::kBlockingCallableAccepted<decltype(by_reference)&&>,
              "a reference-capturing lambda temporary is trivially copyable");

class CoAwaitTemporariesTest : public ::testing::Test {
 protected:
  Runtime runtime_{Runtime::Options{.num_workers = 2}};
};

TEST_F(CoAwaitTemporariesTest, SpawnBlockingWithAReferenceCapturingTemporary) {
  auto body = []() -> Task<size_t> {
    std::string s = "abc";  // A short string: its buffer is inside the object.
    absl::StatusOr<size_t> n = co_await SpawnBlocking([&] { return s.size() + s[0]; });
    co_return n.ok() ? *n : 0;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 3u + 'a');
}

TEST_F(CoAwaitTemporariesTest, SpawnBlockingWithANamedCallableCapturingByValue) {
  auto body = []() -> Task<size_t> {
    auto job = [s = std::string("abc"), p = std::make_shared<int>(1)] { return s.size() + *p; };
    absl::StatusOr<size_t> n = co_await SpawnBlocking(job);
    co_return n.ok() ? *n : 0;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 4u);
}

TEST_F(CoAwaitTemporariesTest, TimeoutWithALambdaTaskTemporary) {
  auto body = []() -> Task<size_t> {
    std::string s = "abc";
    absl::StatusOr<size_t> n = co_await Timeout(absl::Seconds(10), [&]() -> Task<size_t> {
      co_await SleepFor(absl::Milliseconds(1));
      co_return s.size() + s[0];
    }());
    co_return n.ok() ? *n : 0;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 3u + 'a');
}

TEST_F(CoAwaitTemporariesTest, TimeoutWithANamedLambdaCapturingByValue) {
  auto body = []() -> Task<size_t> {
    auto fetch = [s = std::string("abc")]() -> Task<size_t> {
      co_await SleepFor(absl::Milliseconds(1));
      co_return s.size();
    };
    absl::StatusOr<size_t> n = co_await Timeout(absl::Seconds(10), fetch());
    co_return n.ok() ? *n : 0;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 3u);
}

TEST_F(CoAwaitTemporariesTest, WhenAllAndWhenAnyWithLambdaTaskTemporaries) {
  auto body = []() -> Task<size_t> {
    std::string s = "abc";
    auto [a, b] = co_await WhenAll(
        [&]() -> Task<size_t> {
          co_await SleepFor(absl::Milliseconds(1));
          co_return s.size();
        }(),
        [&]() -> Task<size_t> { co_return s[0]; }());
    WhenAnyResult<size_t, size_t> first =
        co_await WhenAny([&]() -> Task<size_t> { co_return s.size(); }(),
                         [&]() -> Task<size_t> {
                           (void)co_await SleepFor(absl::Seconds(10));
                           co_return 0;
                         }());
    co_return (a.ok() ? *a : 0) + (b.ok() ? *b : 0) + first.index;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 3u + 'a' + 0);
}

TEST_F(CoAwaitTemporariesTest, ScopesWithLambdaTaskTemporaries) {
  auto body = []() -> Task<size_t> {
    std::string s = "abc";
    CancellationSource source;
    size_t n = co_await WithCancellation(source.token(), [&]() -> Task<size_t> {
      co_await SleepFor(absl::Milliseconds(1));
      co_return s.size();
    }());
    n += co_await Shielded([&]() -> Task<size_t> {
      co_await SleepFor(absl::Milliseconds(1));
      co_return s[0];
    }());
    co_return n;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 3u + 'a');
}

}  // namespace
}  // namespace coral
