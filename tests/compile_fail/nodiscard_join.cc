// Copyright 2026 The coral Authors.
//
// Must not compile with CORAL_DISCARD defined: TaskGroup::Join() called without co_await does
// nothing (the issue's `group.Join();`), so its awaiter is [[nodiscard]]. Without CORAL_DISCARD,
// the correct use compiles (the control: the failure is the discarded result, nothing else).

#include "coral/task_group.h"

coral::Task<void> Owner() {
  coral::TaskGroup group;
  group.Spawn([]() -> coral::Task<void> { co_return; });
#ifdef CORAL_DISCARD
  group.Join();  // expect-nodiscard
#endif
  (void)co_await group.Join();
}
