// Copyright 2026 The coral Authors.
//
// A Semaphore is neither copied nor moved: its permits and waiters point to it.
// EXPECT-ERROR: use of deleted function .*coral::Semaphore::Semaphore\(const coral::Semaphore&\)

#include <utility>

#include "coral/semaphore.h"

void Misuse(coral::Semaphore& original) { coral::Semaphore moved(std::move(original)); }
