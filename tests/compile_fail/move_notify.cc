// Copyright 2026 The coral Authors.
//
// A Notify is neither copied nor moved: its waiters point to it.
// EXPECT-ERROR: use of deleted function .*coral::Notify::Notify\(const coral::Notify&\)

#include "coral/notify.h"

#include <utility>

void Misuse(coral::Notify& original) {
  coral::Notify moved(std::move(original));
}
