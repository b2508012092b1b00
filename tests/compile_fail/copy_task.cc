// Copyright 2026 The coral Authors.
//
// A Task is move-only: one coroutine frame, awaited once.
// EXPECT-ERROR: use of deleted function .*coral::Task<int>::Task\(const coral::Task<int>&\)

#include "coral/task.h"

#include <utility>

void Misuse(coral::Task<int>& original) {
  coral::Task<int> copy(original);
}
