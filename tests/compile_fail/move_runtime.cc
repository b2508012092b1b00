// Copyright 2026 The coral Authors.
//
// A Runtime is neither copied nor moved: its workers and tasks point to it.
// EXPECT-ERROR: use of deleted function .*coral::Runtime::Runtime\(const coral::Runtime&\)

#include <utility>

#include "coral/runtime.h"

void Misuse(coral::Runtime& original) { coral::Runtime moved(std::move(original)); }
