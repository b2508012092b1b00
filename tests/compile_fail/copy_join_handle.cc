// Copyright 2026 The coral Authors.
//
// A JoinHandle is move-only: one owner joins, detaches or aborts.
// EXPECT-ERROR: use of deleted function .*coral::JoinHandle<T>::JoinHandle\(const
// coral::JoinHandle<T>&\)

#include <utility>

#include "coral/join_handle.h"

void Misuse(coral::JoinHandle<int>& original) { coral::JoinHandle<int> copy(original); }
