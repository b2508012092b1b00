// Copyright 2026 The coral Authors.
//
// coral::Resolve: host name resolution (getaddrinfo) on the blocking pool.
//
//   absl::StatusOr<std::vector<SocketAddress>> addresses = co_await coral::Resolve("localhost",
//   80);
//
// Returns every address found for stream sockets, IPv4 and IPv6, in getaddrinfo's order; a numeric
// host is returned as is without a lookup. Errors: absl::NotFoundError for an unknown host,
// absl::UnavailableError for a temporary failure, with getaddrinfo's text in the message.
//
// Cancellation: see spawn_blocking.h (the lookup finishes on its thread; its result is dropped).

#ifndef CORAL_RESOLVE_H_
#define CORAL_RESOLVE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coral/socket_address.h"
#include "coral/task.h"

namespace coral {

Task<absl::StatusOr<std::vector<SocketAddress>>> Resolve(std::string host, uint16_t port);

}  // namespace coral

#endif  // CORAL_RESOLVE_H_
