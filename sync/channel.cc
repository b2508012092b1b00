// Copyright 2026 The coral Authors.

#include "coral/channel.h"

#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "coral/select.h"

namespace coral::internal {

absl::Status ChannelClosedForSend() {
  return absl::FailedPreconditionError("send on a closed coral::Channel");
}
absl::Status ChannelClosedForRecv() {
  return absl::OutOfRangeError("the coral::Channel is closed");
}
absl::Status ChannelEmpty() { return absl::UnavailableError("the coral::Channel is empty"); }
absl::Status ChannelFull() { return absl::UnavailableError("the coral::Channel is full"); }
absl::Status ChannelOutOfMemory() {
  return absl::ResourceExhaustedError("the unbounded coral::Channel could not allocate memory");
}

TaskHeader* CurrentTaskForSelect() {
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, "coral::Select awaited outside a coral task");
  return task;
}

}  // namespace coral::internal
