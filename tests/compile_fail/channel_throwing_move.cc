// Copyright 2026 The coral Authors.
//
// A channel's values move through its buffer without a lock: a value type whose move may throw
// does not compile.
// EXPECT-ERROR: needs a T whose move constructor is noexcept

#include <utility>

#include "coral/channel.h"

struct ThrowingMove {
  ThrowingMove() = default;
  ThrowingMove(ThrowingMove&&) noexcept(false) {}
};

void Misuse() { auto channel = coral::Channel<ThrowingMove>::Bounded(1); }
