// Copyright 2026 The coral Authors.
//
// BlockingJoin: a plain thread waits for a JoinHandle's result, its exception, its abort, and
// the runtime's shutdown; calling it on a worker aborts.

#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

Task<int> ValueAfter(Event* event, int value) {
  (void)co_await event->Wait();
  co_return value;
}

TEST(BlockingJoinTest, PlainThreadGetsTheResult) {
  Runtime runtime({.num_workers = 2});
  Event release;
  JoinHandle<int> handle = runtime.Spawn(ValueAfter, &release, 11);
  absl::StatusOr<int> result;
  std::thread joiner([&] { result = BlockingJoin(std::move(handle)); });
  release.Set();
  joiner.join();
  EXPECT_EQ(*result, 11);

  absl::Status done = BlockingJoin(runtime.Spawn([]() -> Task<void> { co_return; }));
  EXPECT_TRUE(done.ok());
  absl::StatusOr<std::string> text = BlockingJoin(runtime.Spawn(
      []() -> Task<absl::StatusOr<std::string>> { co_return absl::NotFoundError("missing"); }));
  EXPECT_TRUE(absl::IsNotFound(text.status()));
}

TEST(BlockingJoinTest, ExceptionIsRethrown) {
  Runtime runtime({.num_workers = 1});
  JoinHandle<int> handle = runtime.Spawn([]() -> Task<int> {
    throw std::runtime_error("boom");
    co_return 0;
  });
  EXPECT_THROW((void)BlockingJoin(std::move(handle)), std::runtime_error);
}

TEST(BlockingJoinTest, AbortedTaskAndShutdownGiveCancelled) {
  Runtime runtime({.num_workers = 2});
  Event never;
  JoinHandle<int> aborted = runtime.Spawn(ValueAfter, &never, 1);
  aborted.Abort();
  EXPECT_TRUE(absl::IsCancelled(BlockingJoin(std::move(aborted)).status()));

  JoinHandle<int> stuck = runtime.Spawn(ValueAfter, &never, 2);
  absl::StatusOr<int> result;
  std::thread joiner([&] { result = BlockingJoin(std::move(stuck)); });
  runtime.Shutdown();
  joiner.join();
  EXPECT_TRUE(absl::IsCancelled(result.status())) << result.status();
  // After shutdown too, promptly.
  EXPECT_TRUE(absl::IsCancelled(BlockingJoin(runtime.Spawn(ValueAfter, &never, 3)).status()));
}

void JoinOnWorker() {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([&]() -> Task<void> {
    (void)BlockingJoin(runtime.Spawn([]() -> Task<int> { co_return 1; }));
    co_return;
  }());
}

void JoinMovedFrom() {
  Runtime runtime({.num_workers = 1});
  JoinHandle<int> handle = runtime.Spawn([]() -> Task<int> { co_return 1; });
  JoinHandle<int> other = std::move(handle);
  (void)BlockingJoin(std::move(handle));
}

TEST(BlockingJoinDeathTest, MisuseAbortsWithAMessage) {
  EXPECT_DEATH(JoinOnWorker(), "BlockingJoin called from a coral worker thread");
  EXPECT_DEATH(JoinMovedFrom(), "BlockingJoin on an empty, moved-from or detached");
}

}  // namespace
}  // namespace coral
