// Copyright 2026 The coral Authors.
//
// FatalMisuse (coral/internal/check.h): how every layer of coral reports a misuse; and
// FatalOutOfMemory, for an allocation failure that cannot be reported.

#include "coral/internal/check.h"

#include <cstdio>
#include <cstdlib>

namespace coral::internal {

void FatalMisuse(const char* message, const char* file, int line) {
  std::fprintf(stderr, "coral: fatal misuse: %s (%s:%d)\n", message, file, line);
  std::fflush(stderr);
  std::abort();
}

void FatalOutOfMemory(const char* message, const char* file, int line) {
  std::fprintf(stderr, "coral: out of memory: %s (%s:%d)\n", message, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace coral::internal
