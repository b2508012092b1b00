// Copyright 2026 The coral Authors.

#include "coral/join_set.h"

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "coral/internal/check.h"

namespace coral::internal {

void JoinSetMovedFrom(const char* operation) {
  const std::string message = absl::StrCat(operation, " a moved-from coral::JoinSet");
  FatalMisuse(message.c_str(), __FILE__, __LINE__);
}

void CheckNotJoining(const std::atomic<bool>& joining, const char* what) {
  if (!joining.load(std::memory_order_relaxed)) return;  // relaxed: see JoinSetState::joining.
  const std::string message =
      absl::StrCat("a coral::JoinSet ", what, " while a task awaits its JoinNext()");
  FatalMisuse(message.c_str(), __FILE__, __LINE__);
}

JoiningScope::JoiningScope(std::atomic<bool>* joining) : joining_(joining) {
  // relaxed: see JoinSetState::joining.
  CORAL_CHECK(!joining_->exchange(true, std::memory_order_relaxed),
              "two tasks await JoinNext() on one coral::JoinSet at the same time");
}

JoiningScope::~JoiningScope() {
  joining_->store(false, std::memory_order_relaxed);  // relaxed: see JoinSetState::joining.
}

}  // namespace coral::internal
