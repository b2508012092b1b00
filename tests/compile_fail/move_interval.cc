// Copyright 2026 The coral Authors.
//
// An Interval is neither copied nor moved: a running Tick points to it.
// EXPECT-ERROR: use of deleted function .*coral::Interval::Interval\(const coral::Interval&\)

#include <utility>

#include "coral/interval.h"

void Misuse(coral::Interval& original) { coral::Interval moved(std::move(original)); }
