// Copyright 2026 The coral Authors.

#include "runtime/monitor.h"

#include <chrono>
#include <thread>

#include "runtime/scheduler.h"

namespace coral::internal {

void Monitor::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Monitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true);
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Monitor::WakeFromSleep() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sleeping_.store(false);
  }
  wake_.notify_one();
}

void Monitor::Run() {
  std::vector<uint32_t> tasks_started_seen(scheduler_->num_workers(), 0);
  while (!stopping_.load()) {
    if (scheduler_->idle().AllParked()) {
      SleepUntilAWorkerUnparks();
      continue;
    }
    // A plain sleep is one system call per look; a timed condition-variable wait (which Stop
    // could cut short) cost two futex calls (strace). Stop waits out at most this interval.
    std::this_thread::sleep_for(absl::ToChronoMicroseconds(kInterval));
    if (stopping_.load()) break;
    HelpStuckWorkers(tasks_started_seen);
  }
}

void Monitor::SleepUntilAWorkerUnparks() {
  // The handshake: the monitor stores sleeping_ then loads Idle's state word; a worker changes
  // that word (unparking) then loads sleeping_; all seq_cst, so at least one of them sees the
  // other, and WakeFromSleep takes mu_, which the monitor holds until it waits.
  std::unique_lock<std::mutex> lock(mu_);
  sleeping_.store(true);
  if (scheduler_->idle().AllParked()) {
    wake_.wait(lock, [&] { return stopping_.load() || !sleeping_.load(); });
  }
  sleeping_.store(false);
}

void Monitor::HelpStuckWorkers(std::vector<uint32_t>& tasks_started_seen) {
  bool stuck = false;
  for (int i = 0; i < scheduler_->num_workers(); ++i) {
    Worker& worker = scheduler_->worker(i);
    const uint32_t started = worker.tasks_started();
    if (!worker.watching_own_reactor() && started == tasks_started_seen[i] &&
        (worker.reactor().HasPendingWaits() || worker.queue().MaybeHasTasks())) {
      stuck = true;
    }
    tasks_started_seen[i] = started;
  }
  // The woken worker searches: it steals from queues, and polls the reactors of workers running
  // a task.
  if (stuck) scheduler_->NotifyParked();
}

}  // namespace coral::internal
