// Copyright 2026 The coral Authors.

#include "coral/watch.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "coral/internal/check.h"

namespace coral::internal {

void WatchMovedFrom(const char* operation, const char* type) {
  const std::string message = absl::StrCat(operation, " a moved-from ", type);
  FatalMisuse(message.c_str(), __FILE__, __LINE__);
}

absl::Status WatchClosed() {
  return absl::OutOfRangeError("watch channel closed: the sender is gone");
}

absl::Status WatchCancelled() {
  return absl::CancelledError("cancelled while waiting for a watched value to change");
}

}  // namespace coral::internal
