// Copyright 2026 The coral Authors.

#include "runtime/blocking_pool.h"

#include <chrono>
#include <utility>

namespace coral::internal {

bool BlockingPool::Submit(absl::AnyInvocable<void() &&> job) {
  std::unique_lock<std::mutex> lock(mu_);
  if (shut_down_) return false;
  in_flight_.fetch_add(1);
  jobs_.push_back(std::move(job));
  if (idle_threads_ > 0) {
    work_available_.notify_one();
  } else if (threads_ < kMaxThreads) {
    ++threads_;
    std::thread([this] { ThreadMain(); }).detach();
  }
  return true;
}

void BlockingPool::ThreadMain() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (jobs_.empty() && !shut_down_) {
      ++idle_threads_;
      const bool woke = work_available_.wait_for(lock, absl::ToChronoNanoseconds(kKeepAlive),
                                                 [this] { return !jobs_.empty() || shut_down_; });
      --idle_threads_;
      if (!woke) break;  // Idle for kKeepAlive.
    }
    if (jobs_.empty()) break;  // Idle too long, or shut down and drained.
    absl::AnyInvocable<void() &&> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    std::move(job)();
    job = nullptr;  // Release what the job holds before taking the lock again.
    if (in_flight_.fetch_sub(1) == 1 && on_drained_) on_drained_();
    lock.lock();
  }
  // The last touch of `this`: Shutdown may destroy the pool once it sees zero.
  if (--threads_ == 0) all_exited_.notify_all();
}

void BlockingPool::Shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  shut_down_ = true;
  work_available_.notify_all();
  all_exited_.wait(lock, [this] { return threads_ == 0; });
}

}  // namespace coral::internal
