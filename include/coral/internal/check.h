// Copyright 2026 The coral Authors.
//
// CORAL_CHECK: aborts the process with a message that names a misuse of coral's API. Outcomes a
// program can handle (I/O failure, cancellation) are absl::Status values, never checks.
// FatalOutOfMemory: the abort for an allocation failure that cannot be reported.

#ifndef CORAL_INTERNAL_CHECK_H_
#define CORAL_INTERNAL_CHECK_H_

namespace coral::internal {

// Prints "coral: fatal misuse: <message> (file:line)" to stderr and aborts.
[[noreturn]] void FatalMisuse(const char* message, const char* file, int line);

// Prints "coral: out of memory: <message> (file:line)" to stderr and aborts. For the few
// allocations whose failure has nowhere to go (a destructor, a wake-up path); every other
// allocation failure reaches the caller (docs/reliability.md, "Fault injection").
[[noreturn]] void FatalOutOfMemory(const char* message, const char* file, int line);

}  // namespace coral::internal

#define CORAL_CHECK(condition, message)                              \
  do {                                                               \
    if (!(condition)) [[unlikely]] {                                 \
      ::coral::internal::FatalMisuse((message), __FILE__, __LINE__); \
    }                                                                \
  } while (false)

#endif  // CORAL_INTERNAL_CHECK_H_
