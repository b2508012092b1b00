// Copyright 2026 The coral Authors.
//
// An AsyncMutex is neither copied nor moved: its guards and waiters point to it.
// EXPECT-ERROR: use of deleted function .*coral::AsyncMutex::AsyncMutex\(const coral::AsyncMutex&\)

#include <utility>

#include "coral/async_mutex.h"

void Misuse(coral::AsyncMutex& original) { coral::AsyncMutex moved(std::move(original)); }
