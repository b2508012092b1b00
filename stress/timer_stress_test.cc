// Copyright 2026 The coral Authors.
//
// Timers at scale. White-box: 1,000,000 timers over 0-100 ms in one worker's TimerQueue, half of
// them cancelled from another thread while the owner fires: every timer is fired or cancelled,
// never both, and none fires after its cancellation succeeded. Black-box: 100,000 sleeping tasks,
// half aborted from tasks on the other worker: fired + aborted = total.

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "coral/coral.h"
#include "gtest/gtest.h"
#include "runtime/timer_queue.h"
#include "stress/stress_util.h"

namespace coral::stress {
namespace {

struct CountedTimer {
  internal::TimerEntry entry;
  std::atomic<int> fired{0};
  bool removed = false;  // Written by the canceller thread, read after it is joined.
};

TEST(TimerStress, MillionTimersHalfCancelledConcurrently) {
  constexpr int kTimers = 1'000'000;
  constexpr int kBatch = 1000;
  internal::TimerQueue queue;
  std::vector<CountedTimer> timers(kTimers);
  std::atomic<int> armed{0};
  // Another thread cancels every other timer as soon as it is armed, racing the owner's firing.
  std::thread canceller([&] {
    for (int i = 0; i < kTimers; i += 2) {
      while (armed.load() <= i) std::this_thread::yield();
      timers[i].removed = queue.Remove(&timers[i].entry);
    }
  });
  Rng rng(1);
  for (int next = 0; next < kTimers;) {
    const Instant now = Now();
    for (int end = next + kBatch; next < end; ++next) {
      CountedTimer& t = timers[next];
      t.entry.deadline = now + absl::Microseconds(rng.Next() % 100'000);
      t.entry.target = &t;
      t.entry.callback = [](void* target) {
        static_cast<CountedTimer*>(target)->fired.fetch_add(1);
      };
      queue.Insert(&t.entry);
    }
    armed.store(next);
    queue.FireExpired(Now());
  }
  canceller.join();
  while (queue.size() > 0) {
    queue.FireExpired(Now());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  int64_t fired = 0;
  int64_t cancelled = 0;
  for (CountedTimer& t : timers) {
    EXPECT_LE(t.fired.load(), 1);
    // A timer whose cancellation succeeded never fires, not even later.
    EXPECT_FALSE(t.fired.load() == 1 && t.removed);
    fired += t.fired.load();
    cancelled += t.removed;
  }
  EXPECT_EQ(fired + cancelled, kTimers);
  // The cancellations did race the firing at scale. Not "about half": when the canceller thread
  // is descheduled (a loaded CI machine) the owner fires more of them first (18% seen once).
  EXPECT_GT(cancelled, kTimers / 20);
}

TEST(TimerStress, SleepingTasksAbortedFromOtherWorkers) {
  static constexpr int kTasks = 100'000;
  Runtime runtime({.num_workers = 2});
  std::atomic<int64_t> woke{0};
  auto body = [&]() -> Task<void> {
    Rng rng(2);
    std::vector<JoinHandle<void>> handles;
    handles.reserve(kTasks);
    for (int i = 0; i < kTasks; ++i) {
      handles.push_back(Spawn(
          [&woke](absl::Duration d) -> Task<void> {
            co_await SleepFor(d);
            woke.fetch_add(1);
          },
          absl::Microseconds(rng.Next() % 100'000)));
    }
    // Abort every other one from tasks that may run on either worker.
    std::vector<JoinHandle<void>> aborters;
    for (int part = 0; part < 8; ++part) {
      aborters.push_back(Spawn([&handles, part]() -> Task<void> {
        for (int i = part * 2; i < kTasks; i += 16) {
          handles[i].Abort();
          if (i % 1024 == 0) co_await Yield();
        }
      }));
    }
    for (auto& a : aborters) co_await std::move(a);
    int64_t completed = 0;
    int64_t aborted = 0;
    for (auto& h : handles) {
      absl::Status s = co_await std::move(h);
      if (s.ok()) {
        ++completed;
      } else {
        EXPECT_TRUE(absl::IsCancelled(s));
        ++aborted;
      }
    }
    EXPECT_EQ(completed + aborted, kTasks);
    EXPECT_EQ(completed, woke.load());
    EXPECT_GE(aborted, 1);
  };
  runtime.BlockOn(body());
}

}  // namespace
}  // namespace coral::stress
