// Copyright 2026 The coral Authors.
//
// Monitor: a thread that finds workers stuck in one long task and sends an idle worker to take
// the readiness events and expired timers that the stuck worker cannot poll, and the queued
// tasks it cannot run (scheduler.cc, "Stuck workers"). Go's sysmon in small: it only watches,
// and never runs tasks.

#ifndef CORAL_RUNTIME_MONITOR_H_
#define CORAL_RUNTIME_MONITOR_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace coral::internal {

class Scheduler;

class Monitor {
 public:
  // How often the monitor looks, and so how long a worker must run one task before its fds and
  // timers are served by another (between one and two intervals). The interval doubles after
  // each look that finds every running worker on a new task, up to kMaxInterval, and drops back
  // to kInterval at the first look that finds one still on the same task.
  static constexpr absl::Duration kInterval = absl::Milliseconds(1);
  static constexpr absl::Duration kMaxInterval = absl::Milliseconds(8);

  explicit Monitor(Scheduler* scheduler) : scheduler_(scheduler) {}
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;
  ~Monitor() { Stop(); }

  void Start();
  // Stops and joins the thread. Idempotent.
  void Stop();

  // A worker left its park (on its own or notified). Wakes the monitor if it sleeps because
  // every worker was parked.
  void WorkerUnparked() {
    // seq_cst: one side of the handshake in Run (see there).
    if (sleeping_.load()) WakeFromSleep();
  }

 private:
  void Run();
  // With every worker parked there is nothing to watch: sleeps (holding `lock` on mu_ until it
  // waits) until one unparks or Stop. Returns false, without sleeping, if a worker is awake.
  bool SleepUntilAWorkerUnparks(std::unique_lock<std::mutex>& lock);
  void WakeFromSleep();
  // Sends a parked worker to search if some worker has been running the same task since the last
  // look and has fds or timers that only its own polls would serve, or queued tasks, or a task in
  // its LIFO slot (which it makes stealable).
  // `tasks_started_seen` holds each worker's tasks_started() at the last look. Returns whether
  // some worker was running the same task (stuck or not yet worth helping).
  bool HelpStuckWorkers(std::vector<uint32_t>& tasks_started_seen);

  Scheduler* const scheduler_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // Guarded by mu_.
  // True while the monitor sleeps until a worker unparks (written under mu_).
  std::atomic<bool> sleeping_{false};
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_MONITOR_H_
