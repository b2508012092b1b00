// Copyright 2026 The coral Authors.
//
// A Notify is neither copied nor moved: its waiters point to it.
// EXPECT-ERROR: use of deleted function .*coral::Notify::Notify\(const coral::Notify&\)

#include <utility>

#include "coral/notify.h"

void Misuse(coral::Notify& original) { coral::Notify moved(std::move(original)); }
