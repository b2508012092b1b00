// Copyright 2026 The coral Authors.
//
// The readiness side of coral's I/O: what an awaitable waiting for an fd holds. Private to coral.

#ifndef CORAL_INTERNAL_IO_WAITER_H_
#define CORAL_INTERNAL_IO_WAITER_H_

#include <cstdint>

namespace coral::internal {

class IoRegistration;
class TaskHeader;

// Readiness bits of a registered fd (IoRegistration::readiness_, low 16 bits).
namespace readiness {
inline constexpr uint32_t kReadable = 1 << 0;
inline constexpr uint32_t kWritable = 1 << 1;
inline constexpr uint32_t kReadClosed = 1 << 2;  // EPOLLRDHUP: the peer shut its write side.
inline constexpr uint32_t kHangUp = 1 << 3;      // EPOLLHUP: both directions closed.
inline constexpr uint32_t kError = 1 << 4;       // EPOLLERR.
inline constexpr uint32_t kShutdown = 1 << 5;    // The runtime shut down.
// What ends a wait for each direction.
inline constexpr uint32_t kReadInterest = kReadable | kReadClosed | kHangUp | kError | kShutdown;
inline constexpr uint32_t kWriteInterest = kWritable | kHangUp | kError | kShutdown;
}  // namespace readiness

// A task waiting for readiness; lives in the awaitable, linked into the registration's list.
// Every pending I/O operation holds one, so it packs into 32 bytes.
struct IoWaiter {
  // The registration's list links (coral/internal/intrusive_list.h).
  IoWaiter* prev = nullptr;
  IoWaiter* next = nullptr;
  TaskHeader* task = nullptr;
  uint16_t interest = 0;  // Readiness bits: all fit in 16.
  bool linked = false;    // The list's; guarded by the registration's lock.
  // The awaitable's own, in what would be padding; the registration never touches them.
  // It linked this waiter and has not ended the wait (so its destructor must unlink it).
  bool owner_waiting = false;
  // Why registering the fd failed (IoRegistration::EnsureRegistered's errno), or 0.
  int32_t owner_register_error = 0;
};
static_assert(sizeof(IoWaiter) == 32, "every pending I/O operation holds one: keep it packed");

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_IO_WAITER_H_
