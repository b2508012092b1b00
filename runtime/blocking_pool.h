// Copyright 2026 The coral Authors.
//
// BlockingPool: an elastic set of threads, outside the workers, for blocking calls (file I/O,
// getaddrinfo, legacy libraries). A job starts at once on an idle thread, or on a new one while
// fewer than kMaxThreads exist; otherwise it queues. A thread idle for kKeepAlive exits, so an
// idle runtime holds no blocking threads.

#ifndef CORAL_RUNTIME_BLOCKING_POOL_H_
#define CORAL_RUNTIME_BLOCKING_POOL_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace coral::internal {

class BlockingPool {
 public:
  // 512 threads, as tokio's default: blocking calls are mostly waiting, and a bound keeps a
  // burst of them from exhausting memory. 10 s keep-alive, also tokio's.
  static constexpr int kMaxThreads = 512;
  static constexpr absl::Duration kKeepAlive = absl::Seconds(10);

  // `on_drained`, if set, runs on the pool thread whose call completed (after the call woke its
  // waiter) each time the number of calls in flight drops to zero.
  explicit BlockingPool(std::function<void()> on_drained = nullptr)
      : on_drained_(std::move(on_drained)) {}
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  ~BlockingPool() { Shutdown(); }

  // Runs `job` on a pool thread. Returns false (and drops the job) after Shutdown.
  bool Submit(absl::AnyInvocable<void() &&> job);
  // Refuses new jobs, lets the queued and running ones finish, and waits for every thread to exit.
  // (Threads are detached, so one that exits after its keep-alive releases its stack at once.)
  void Shutdown();
  // Calls submitted and not yet returned (a hint for a paused clock's idle check: a call in
  // flight may still wake a task).
  int in_flight() const { return in_flight_.load(); }

 private:
  void ThreadMain();

  const std::function<void()> on_drained_;
  // seq_cst, both sides: the idle check reads it before Idle's state word, and a call's wake
  // (which changes that word) precedes its decrement (scheduler.cc, "Timers and the clock").
  std::atomic<int> in_flight_{0};

  std::mutex mu_;
  std::condition_variable work_available_;
  std::condition_variable all_exited_;
  std::deque<absl::AnyInvocable<void() &&>> jobs_;  // Guarded by mu_.
  int threads_ = 0;                                 // Guarded by mu_.
  int idle_threads_ = 0;                            // Guarded by mu_.
  bool shut_down_ = false;                          // Guarded by mu_.
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_BLOCKING_POOL_H_
