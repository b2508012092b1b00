// Copyright 2026 The coral Authors.
//
// Helpers shared by the stress tests.

#ifndef CORAL_STRESS_STRESS_UTIL_H_
#define CORAL_STRESS_STRESS_UTIL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace coral::stress {

// Counts completions down from `count`; Wait returns when all have arrived or the deadline passed.
class CompletionCounter {
 public:
  explicit CompletionCounter(int64_t count) : remaining_(count) {}

  void Arrive() {
    if (remaining_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      cv_.notify_all();
    }
  }

  // True if every completion arrived within `timeout`.
  bool Wait(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return done_; });
  }

  int64_t remaining() const { return remaining_.load(); }

 private:
  std::atomic<int64_t> remaining_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// Counts destructions, to prove every task frame was destroyed.
struct DropCounter {
  explicit DropCounter(std::atomic<int64_t>* drops) : drops(drops) {}
  DropCounter(DropCounter&& other) noexcept : drops(other.drops) { other.drops = nullptr; }
  DropCounter(const DropCounter&) = delete;
  ~DropCounter() {
    if (drops != nullptr) drops->fetch_add(1);
  }
  std::atomic<int64_t>* drops;
};

// A small deterministic generator (per test thread).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
  }

 private:
  uint64_t state_;
};

}  // namespace coral::stress

#endif  // CORAL_STRESS_STRESS_UTIL_H_
