// Copyright 2026 The coral Authors.
//
// Process-level measurements for tests: open descriptors and resident memory.

#ifndef CORAL_TESTS_TEST_UTIL_H_
#define CORAL_TESTS_TEST_UTIL_H_

#include <dirent.h>
#include <unistd.h>

#include <cstdio>

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

}  // namespace coral::testing

#endif  // CORAL_TESTS_TEST_UTIL_H_
