// Copyright 2026 The coral Authors.
//
// Oneshot handles are move-only: one value, from one task to one other.
// EXPECT-ERROR: use of deleted function .*coral::OneshotSender<int>::OneshotSender\(const
// coral::OneshotSender<int>&\)

#include <utility>

#include "coral/oneshot.h"

void Misuse(coral::OneshotSender<int>& original) { coral::OneshotSender<int> copy(original); }
