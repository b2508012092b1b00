// Copyright 2026 The coral Authors.
//
// Test helpers: open descriptors, resident memory, bounded waits, and a destruction counter.

#ifndef CORAL_TESTS_TEST_UTIL_H_
#define CORAL_TESTS_TEST_UTIL_H_

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <utility>

namespace coral::testing {

// Entries in /proc/self/fd (including the one opendir uses while counting).
inline int OpenFdCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count;
}

// The process's resident set, in bytes (0 if /proc is unavailable).
inline long ResidentBytes() {
  long pages = 0;
  long resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(statm);
  return resident * sysconf(_SC_PAGESIZE);
}

// Waits (bounded: 10 s) for a condition set by another thread.
template <typename Predicate>
bool Eventually(Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Counts destructions: moved into a task (as an argument, or on into a local), it proves that the
// task's frame, and what the frame owned, was destroyed, and once.
struct DropCounter {
  explicit DropCounter(std::atomic<int>* drops) : drops(drops) {}
  DropCounter(DropCounter&& other) noexcept : drops(std::exchange(other.drops, nullptr)) {}
  DropCounter(const DropCounter&) = delete;
  ~DropCounter() {
    if (drops != nullptr) drops->fetch_add(1);
  }
  std::atomic<int>* drops;
};

}  // namespace coral::testing

#endif  // CORAL_TESTS_TEST_UTIL_H_
