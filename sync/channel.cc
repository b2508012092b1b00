// Copyright 2026 The coral Authors.

#include "coral/channel.h"

#include <cstddef>
#include <random>

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

TaskHeader* CurrentTaskForSelect() {
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, "coral::Select awaited outside a coral task");
  return task;
}

size_t SelectStart(size_t branches) {
  // One generator per thread, seeded once: fairness needs no more than an even spread.
  thread_local std::minstd_rand generator(std::random_device{}());
  return std::uniform_int_distribution<size_t>(0, branches - 1)(generator);
}

}  // namespace coral::internal
