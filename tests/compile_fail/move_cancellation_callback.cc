// Copyright 2026 The coral Authors.
//
// A CancellationCallback is neither copied nor moved: the token it is registered with points to it.
// EXPECT-ERROR: use of deleted function .*coral::CancellationCallback::CancellationCallback\(const
// coral::CancellationCallback&\)

#include <utility>

#include "coral/cancellation.h"

void Misuse(coral::CancellationCallback& original) {
  coral::CancellationCallback moved(std::move(original));
}
