// Copyright 2026 The coral Authors.
//
// Test side of coral's fault injection seams (coral/internal/fault_injection.h): scoped objects
// that make one chosen allocation, or chosen system calls, fail. One of each kind at a time.

#ifndef CORAL_TESTS_FAULT_INJECTOR_H_
#define CORAL_TESTS_FAULT_INJECTOR_H_

#include <atomic>

#include "coral/internal/fault_injection.h"

namespace coral::testing {

// Fails the allocation numbered `index` (from 0) among those made at `site` while it exists.
class AllocationFault {
 public:
  AllocationFault(internal::AllocationSite site, int index) {
    // relaxed: the runtime's hand-offs order these stores before the scenario's allocations.
    state_.site.store(site, std::memory_order_relaxed);
    state_.index.store(index, std::memory_order_relaxed);
    state_.seen.store(0, std::memory_order_relaxed);
    state_.hit.store(false, std::memory_order_relaxed);
    internal::allocation_fault_hook.store(&Hook, std::memory_order_relaxed);
  }
  AllocationFault(const AllocationFault&) = delete;
  AllocationFault& operator=(const AllocationFault&) = delete;
  ~AllocationFault() { internal::allocation_fault_hook.store(nullptr, std::memory_order_relaxed); }

  // Whether the chosen allocation happened (and failed). Read after the scenario finished.
  bool hit() const { return state_.hit.load(std::memory_order_relaxed); }

 private:
  struct State {
    std::atomic<internal::AllocationSite> site;
    std::atomic<int> index;
    std::atomic<int> seen;
    std::atomic<bool> hit;
  };
  static bool Hook(internal::AllocationSite site) {
    if (site != state_.site.load(std::memory_order_relaxed)) return false;
    // relaxed: the count alone decides, and fetch_add numbers every allocation exactly once.
    if (state_.seen.fetch_add(1, std::memory_order_relaxed) !=
        state_.index.load(std::memory_order_relaxed)) {
      return false;
    }
    state_.hit.store(true, std::memory_order_relaxed);
    return true;
  }
  static inline State state_;
};

// Fails `count` calls of `call` with `error`, from the one numbered `index` (from 0) among those
// made while it exists.
class SyscallFault {
 public:
  SyscallFault(internal::Syscall call, int error, int index = 0, int count = 1) {
    state_.call.store(call, std::memory_order_relaxed);
    state_.error.store(error, std::memory_order_relaxed);
    state_.first.store(index, std::memory_order_relaxed);
    state_.last.store(index + count, std::memory_order_relaxed);
    state_.seen.store(0, std::memory_order_relaxed);
    state_.hits.store(0, std::memory_order_relaxed);
    internal::syscall_fault_hook.store(&Hook, std::memory_order_relaxed);
  }
  SyscallFault(const SyscallFault&) = delete;
  SyscallFault& operator=(const SyscallFault&) = delete;
  ~SyscallFault() { internal::syscall_fault_hook.store(nullptr, std::memory_order_relaxed); }

  // How many calls failed so far.
  int hits() const { return state_.hits.load(std::memory_order_relaxed); }

 private:
  struct State {
    std::atomic<internal::Syscall> call;
    std::atomic<int> error;
    std::atomic<int> first;
    std::atomic<int> last;
    std::atomic<int> seen;
    std::atomic<int> hits;
  };
  static int Hook(internal::Syscall call) {
    if (call != state_.call.load(std::memory_order_relaxed)) return 0;
    const int n = state_.seen.fetch_add(1, std::memory_order_relaxed);
    if (n < state_.first.load(std::memory_order_relaxed) ||
        n >= state_.last.load(std::memory_order_relaxed)) {
      return 0;
    }
    state_.hits.fetch_add(1, std::memory_order_relaxed);
    return state_.error.load(std::memory_order_relaxed);
  }
  static inline State state_;
};

}  // namespace coral::testing

#endif  // CORAL_TESTS_FAULT_INJECTOR_H_
