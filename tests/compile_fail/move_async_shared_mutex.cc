// Copyright 2026 The coral Authors.
//
// An AsyncSharedMutex is neither copied nor moved: its guards and waiters point to it.
// EXPECT-ERROR: use of deleted function .*coral::AsyncSharedMutex::AsyncSharedMutex\(const
// coral::AsyncSharedMutex&\)

#include <utility>

#include "coral/async_shared_mutex.h"

void Misuse(coral::AsyncSharedMutex& original) {
  coral::AsyncSharedMutex moved(std::move(original));
}
