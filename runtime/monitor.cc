// Copyright 2026 The coral Authors.

#include "runtime/monitor.h"

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
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // An idle runtime costs nothing: with every worker parked there is nothing to watch, so sleep
    // until one unparks. The handshake: the monitor stores sleeping_ then loads Idle's state
    // word; a worker changes that word (unparking) then loads sleeping_; all seq_cst, so at
    // least one of them sees the other, and WakeFromSleep takes mu_, which the monitor holds
    // until it waits.
    // The first check only saves the store (and the workers a shared line) on busy looks.
    if (scheduler_->idle().AllParked()) {
      sleeping_.store(true);
      if (scheduler_->idle().AllParked()) {
        wake_.wait(lock, [&] { return stopping_ || !sleeping_.load(); });
        continue;
      }
      sleeping_.store(false);
    }
    wake_.wait_for(lock, absl::ToChronoMicroseconds(kInterval), [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    HelpStuckWorkers(tasks_started_seen);
    lock.lock();
  }
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
