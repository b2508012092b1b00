// Copyright 2026 The coral Authors.

#include "runtime/idle.h"

#include <algorithm>

namespace coral::internal {

Idle::Idle(int num_workers)
    : num_workers_(static_cast<uint32_t>(num_workers)),
      state_(static_cast<uint32_t>(num_workers) * kUnparkedOne) {
  sleepers_.reserve(num_workers);
}

bool Idle::TransitionToSearching() {
  // The check and the increment are not one atomic step: two workers may both pass it and
  // overshoot the bound by one, which costs a little contention and nothing else.
  if (2 * Searching(state_.load()) >= num_workers_) return false;
  state_.fetch_add(1);
  return true;
}

bool Idle::TransitionFromSearching() { return Searching(state_.fetch_sub(1)) == 1; }

bool Idle::TransitionToParked(int worker, bool searching) {
  MutexLock lock(&mu_);
  const uint32_t previous = state_.fetch_sub(kUnparkedOne + (searching ? 1 : 0));
  sleepers_.push_back(worker);
  return searching && Searching(previous) == 1;
}

bool Idle::TransitionFromParked(int worker) {
  MutexLock lock(&mu_);
  auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
  if (it == sleepers_.end()) return true;
  sleepers_.erase(it);
  state_.fetch_add(kUnparkedOne);
  return false;
}

std::vector<int> Idle::NotifyAllParked(int except) {
  MutexLock lock(&mu_);
  std::vector<int> woken;
  for (int worker : sleepers_) {
    if (worker != except) woken.push_back(worker);
  }
  sleepers_.erase(std::remove_if(sleepers_.begin(), sleepers_.end(),
                                 [except](int worker) { return worker != except; }),
                  sleepers_.end());
  state_.fetch_add(static_cast<uint32_t>(woken.size()) * (kUnparkedOne + 1));
  return woken;
}

uint32_t Idle::LoadAfterPush() {
  if constexpr (kStoreLoadByRmw) {
    // ThreadSanitizer does not model fences; an RMW (adding zero) orders the caller's push against
    // a parker's decrement just as well, at the price of a write to a shared cache line.
    return state_.fetch_add(0);
  } else {
    AtomicThreadFence(std::memory_order_seq_cst);
    return state_.load();
  }
}

int Idle::WorkerToNotify() {
  // See "Parking" in scheduler.cc for why this is a StoreLoad barrier and not a plain load.
  uint32_t state = LoadAfterPush();
  if (Searching(state) != 0 || Unparked(state) == num_workers_) return -1;
  MutexLock lock(&mu_);
  state = state_.load();
  if (Searching(state) != 0 || Unparked(state) == num_workers_ || sleepers_.empty()) return -1;
  state_.fetch_add(kUnparkedOne + 1);
  const int worker = sleepers_.back();
  sleepers_.pop_back();
  return worker;
}

}  // namespace coral::internal
