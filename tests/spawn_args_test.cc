// Copyright 2026 The coral Authors.
//
// Spawn decay-copies its arguments and binds the parameters to the copies (the std::thread rule),
// also when the callable is a plain function whose parameters view their argument
// (std::string_view, absl::Span): the view must see the task's copy, never the spawner's object.
// Before the fix such a function's Task became the task's root with the view bound to the
// spawner's string or vector, which had died (or changed) by the time the task ran.

#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

// How many 'a's `text` holds, read after a suspension (the spawner runs on meanwhile).
Task<int> CountA(std::string_view text) {
  co_await Yield();
  int count = 0;
  for (char c : text) count += c == 'a';
  co_return count;
}

Task<int> Sum(absl::Span<const int> values) {
  co_await Yield();
  int sum = 0;
  for (int v : values) sum += v;
  co_return sum;
}

// A long string (never in the small-string buffer), so that a dangling view reads freed heap.
std::string LongA() { return std::string(100, 'a'); }

// One worker: the spawned task waits in the spawner's LIFO slot until the spawner suspends, so
// the spawner's string is overwritten and freed before the task reads it.
TEST(SpawnArgsTest, StringViewParameterFromTemporaryString) {
  Runtime runtime({.num_workers = 1});
  EXPECT_EQ(runtime.BlockOn([]() -> Task<int> {
    JoinHandle<int> handle = Spawn(CountA, LongA());
    std::string other(100, 'b');  // Likely reuses the temporary's freed block.
    absl::StatusOr<int> count = co_await std::move(handle);
    co_return count.value_or(-1);
  }()),
            100);
}

TEST(SpawnArgsTest, StringViewParameterFromLocalStringThatDies) {
  Runtime runtime({.num_workers = 1});
  EXPECT_EQ(runtime.BlockOn([]() -> Task<int> {
    JoinHandle<int> handle;
    {
      std::string local = LongA();
      handle = Spawn(CountA, local);
      local.assign(100, 'b');  // The task must see its copy, taken at Spawn.
    }
    absl::StatusOr<int> count = co_await std::move(handle);
    co_return count.value_or(-1);
  }()),
            100);
}

TEST(SpawnArgsTest, StringViewParameterFromRuntimeSpawn) {
  Runtime runtime({.num_workers = 1});
  JoinHandle<int> handle;
  {
    std::string local = LongA();
    handle = runtime.Spawn(CountA, local);
    local.assign(100, 'b');
  }
  EXPECT_EQ(runtime.BlockOn([](JoinHandle<int> h) -> Task<int> {
    co_return (co_await std::move(h)).value_or(-1);
  }(std::move(handle))),
            100);
}

TEST(SpawnArgsTest, SpanParameterFromTemporaryAndLocalVector) {
  Runtime runtime({.num_workers = 1});
  EXPECT_EQ(runtime.BlockOn([]() -> Task<int> {
    JoinHandle<int> from_temporary = Spawn(Sum, std::vector<int>(50, 2));
    JoinHandle<int> from_local;
    {
      std::vector<int> local(50, 3);
      from_local = Spawn(Sum, local);
      local.assign(50, 0);
    }
    std::vector<int> other(50, 0);  // Likely reuses a freed block.
    co_return (co_await std::move(from_temporary)).value_or(-1) * 1000 +
        (co_await std::move(from_local)).value_or(-1);
  }()),
            100 * 1000 + 150);
}

// TaskGroup::Spawn takes the same rule (its children's root owns decay-copies).
TEST(SpawnArgsTest, GroupChildWithViewParameters) {
  Runtime runtime({.num_workers = 1});
  std::vector<int> results(2, -1);
  runtime.BlockOn([&results]() -> Task<void> {
    auto store = [](Task<int> task, int* out) -> Task<void> { *out = co_await std::move(task); };
    TaskGroup group;
    {
      std::string local = LongA();
      std::vector<int> values(50, 3);
      group.Spawn(
          [&](std::string_view text) -> Task<void> { return store(CountA(text), &results[0]); },
          local);
      group.Spawn(CountA, LongA());  // The result is dropped; the read must still be valid.
      group.Spawn(
          [&](absl::Span<const int> span) -> Task<void> { return store(Sum(span), &results[1]); },
          values);
      local.assign(100, 'b');
      values.assign(50, 0);
    }
    (void)co_await group.Join();
  }());
  EXPECT_EQ(results, (std::vector<int>{100, 150}));
}

// The shortcut still applies where it is safe: parameters of exactly the decayed argument types.
Task<size_t> Length(std::string text) {
  co_await Yield();
  co_return text.size();
}

TEST(SpawnArgsTest, ExactTypesStillWork) {
  Runtime runtime({.num_workers = 1});
  EXPECT_EQ(runtime.BlockOn([]() -> Task<size_t> {
    std::string local = LongA();
    JoinHandle<size_t> handle = Spawn(Length, local);
    local.clear();
    co_return (co_await std::move(handle)).value_or(0);
  }()),
            100u);
}

}  // namespace
}  // namespace coral
