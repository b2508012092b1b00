// Copyright 2026 The coral Authors.

#include "coral/broadcast.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "coral/internal/check.h"

namespace coral {
namespace {

// The payload of a lagging receiver's DataLossError: the number of messages it missed, in decimal.
constexpr char kLaggedPayload[] = "coral.broadcast.lagged";

}  // namespace

std::optional<uint64_t> BroadcastLagged(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kDataLoss) return std::nullopt;
  auto payload = status.GetPayload(kLaggedPayload);
  uint64_t missed = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &missed)) {
    return std::nullopt;
  }
  return missed;
}

namespace internal {

void BroadcastMovedFrom(const char* operation, const char* type) {
  const std::string message = absl::StrCat(operation, " a moved-from ", type);
  FatalMisuse(message.c_str(), __FILE__, __LINE__);
}

absl::Status BroadcastLaggedError(uint64_t missed) {
  absl::Status status = absl::DataLossError(
      absl::StrCat("broadcast receiver lagged behind: ", missed, " messages skipped"));
  status.SetPayload(kLaggedPayload, absl::Cord(absl::StrCat(missed)));
  return status;
}

absl::Status BroadcastClosed() {
  return absl::OutOfRangeError("broadcast channel closed: every sender is gone");
}

absl::Status BroadcastEmpty() { return absl::UnavailableError("no broadcast message yet"); }

absl::Status BroadcastCancelled() {
  return absl::CancelledError("cancelled while waiting for a broadcast message");
}

}  // namespace internal
}  // namespace coral
