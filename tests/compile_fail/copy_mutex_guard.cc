// Copyright 2026 The coral Authors.
//
// A lock guard is move-only: one owner unlocks.
// EXPECT-ERROR: use of deleted function .*AsyncMutexGuard\(const
// coral::internal::AsyncMutexGuard&\)

#include <utility>

#include "coral/async_mutex.h"

void Misuse(coral::AsyncMutex::Guard& original) { coral::AsyncMutex::Guard copy(original); }
