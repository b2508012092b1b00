// Copyright 2026 The coral Authors.
//
// A Task is move-only: one coroutine frame, awaited once.
// EXPECT-ERROR: use of deleted function .*coral::Task<T>::Task\(const coral::Task<T>&\)

#include <utility>

#include "coral/task.h"

void Misuse(coral::Task<int>& original) { coral::Task<int> copy(original); }
