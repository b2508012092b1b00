// Copyright 2026 The coral Authors.
//
// FUZZ_CHECK: how coral's fuzz functions (bazel/fuzz.bzl) report a violated property: prints the
// condition and a message to stderr and aborts, which libFuzzer (and the corpus-replay test)
// reports as a crash with the input that caused it.

#ifndef CORAL_TESTS_FUZZ_FUZZ_CHECK_H_
#define CORAL_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, message)                                                             \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s: %s (%s:%d)\n", #condition, (message), __FILE__, \
                   __LINE__);                                                                      \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

#endif  // CORAL_TESTS_FUZZ_FUZZ_CHECK_H_
