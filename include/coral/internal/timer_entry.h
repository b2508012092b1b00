// Copyright 2026 The coral Authors.
//
// TimerEntry: one armed timer, embedded in the awaitable that armed it. Private to coral.

#ifndef CORAL_INTERNAL_TIMER_ENTRY_H_
#define CORAL_INTERNAL_TIMER_ENTRY_H_

#include <cstddef>
#include <cstdint>

#include "coral/clock.h"

namespace coral::internal {

class TimerQueue;

struct TimerEntry {
  static constexpr size_t kNotArmed = SIZE_MAX;

  Instant deadline;
  // Runs on the firing worker, outside any lock, with `target`; it owns whatever reference the
  // armer took for it (and must release it).
  void (*callback)(void* target) = nullptr;
  void* target = nullptr;
  // The queue it is armed in; set by the armer, read by whoever disarms it.
  TimerQueue* queue = nullptr;
  // Position in the heap, or kNotArmed once fired or removed. Guarded by the queue's mutex.
  size_t heap_index = kNotArmed;
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_TIMER_ENTRY_H_
