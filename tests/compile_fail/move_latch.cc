// Copyright 2026 The coral Authors.
//
// A Latch is neither copied nor moved: its waiters point to it.
// EXPECT-ERROR: use of deleted function .*coral::Latch::Latch\(const coral::Latch&\)

#include <utility>

#include "coral/latch.h"

void Misuse(coral::Latch& original) { coral::Latch moved(std::move(original)); }
