// Copyright 2026 The coral Authors.
//
// The process's schedule seed (coral/internal/schedule_seed.h).

#include "coral/internal/schedule_seed.h"

#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "coral/internal/check.h"

namespace coral::internal {

std::optional<uint64_t> ProcessScheduleSeed() {
  // A function-local static: read once, thread-safely, at the first runtime's construction.
  static const std::optional<uint64_t> seed = []() -> std::optional<uint64_t> {
    const char* text = std::getenv(kScheduleSeedEnv);
    if (text == nullptr || *text == '\0') return std::nullopt;
    uint64_t value = 0;
    CORAL_CHECK(absl::SimpleAtoi(text, &value),
                "CORAL_SCHEDULE_SEED must be a decimal number below 2^64");
    return value;
  }();
  return seed;
}

}  // namespace coral::internal
