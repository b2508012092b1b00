// Copyright 2026 The coral Authors.

#include "runtime/monitor.h"

#include <algorithm>
#include <chrono>

#include "runtime/scheduler.h"

namespace coral::internal {

void Monitor::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Monitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
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
  absl::Duration interval = kInterval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (scheduler_->idle().AllParked() && SleepUntilAWorkerUnparks(lock)) continue;
    // A timed wait rather than a plain sleep, so that Stop need not wait out the interval.
    if (wake_.wait_for(lock, absl::ToChronoMicroseconds(interval), [&] { return stopping_; })) {
      break;
    }
    lock.unlock();
    // While every running worker keeps starting new tasks, nothing is close to stuck: look less
    // often (each look costs this thread a wake-up, and whichever thread it preempts a switch).
    interval =
        HelpStuckWorkers(tasks_started_seen) ? kInterval : std::min(2 * interval, kMaxInterval);
    lock.lock();
  }
}

bool Monitor::SleepUntilAWorkerUnparks(std::unique_lock<std::mutex>& lock) {
  // An idle runtime costs nothing: with every worker parked there is nothing to watch. The
  // handshake: the monitor stores sleeping_ then loads Idle's state word; a worker changes that
  // word (unparking) then loads sleeping_; all seq_cst, so at least one of them sees the other,
  // and WakeFromSleep takes mu_, which the monitor holds until it waits.
  sleeping_.store(true);
  if (!scheduler_->idle().AllParked()) {
    sleeping_.store(false);
    return false;
  }
  wake_.wait(lock, [&] { return stopping_ || !sleeping_.load(); });
  return true;
}

bool Monitor::HelpStuckWorkers(std::vector<uint32_t>& tasks_started_seen) {
  bool same_task = false;
  bool stuck = false;
  for (int i = 0; i < scheduler_->num_workers(); ++i) {
    Worker& worker = scheduler_->worker(i);
    const uint32_t started = worker.tasks_started();
    if (!worker.watching_own_reactor() && started == tasks_started_seen[i]) {
      same_task = true;
      if (worker.HasLifoTask()) {
        worker.MakeLifoSlotStealable();
        stuck = true;
      }
      stuck = stuck || worker.reactor().HasPendingWaits() || worker.queue().MaybeHasTasks();
    }
    tasks_started_seen[i] = started;
  }
  // The woken worker searches: it steals from queues, and polls the reactors of workers running
  // a task.
  if (stuck) scheduler_->NotifyParked();
  return same_task;
}

}  // namespace coral::internal
