// Copyright 2026 The coral Authors.
//
// Spawn decay-copies its arguments: a reference parameter needs std::ref (a promise that the
// referent outlives the task), or a TaskGroup to borrow under.
// EXPECT-ERROR: a reference parameter must be passed as std::ref\(x\) or std::cref\(x\)

#include <string>

#include "coral/runtime.h"

coral::Task<void> Use(std::string& text) { co_return; }

void Misuse(coral::Runtime& runtime, std::string& text) { runtime.Spawn(Use, text).Detach(); }
