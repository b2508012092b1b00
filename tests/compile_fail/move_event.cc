// Copyright 2026 The coral Authors.
//
// An Event is neither copied nor moved: its waiters point to it.
// EXPECT-ERROR: use of deleted function .*coral::Event::Event\(const coral::Event&\)

#include <utility>

#include "coral/event.h"

void Misuse(coral::Event& original) { coral::Event moved(std::move(original)); }
