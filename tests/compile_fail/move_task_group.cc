// Copyright 2026 The coral Authors.
//
// A TaskGroup is neither copied nor moved: its children borrow from the scope that owns it.
// EXPECT-ERROR: use of deleted function .*coral::TaskGroup::TaskGroup\(const coral::TaskGroup&\)

#include <utility>

#include "coral/task_group.h"

void Misuse(coral::TaskGroup& original) { coral::TaskGroup moved(std::move(original)); }
