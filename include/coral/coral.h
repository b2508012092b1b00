// Copyright 2026 The coral Authors.
//
// The whole public API of coral in one include.

#ifndef CORAL_CORAL_H_
#define CORAL_CORAL_H_

#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/yield.h"

#endif  // CORAL_CORAL_H_
