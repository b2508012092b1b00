// Copyright 2026 The coral Authors.

#include "coral/resolve.h"

#include <netdb.h>
#include <sys/socket.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "coral/spawn_blocking.h"

namespace coral {
namespace {

absl::StatusOr<std::vector<SocketAddress>> ResolveBlocking(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* results = nullptr;
  const std::string service = absl::StrCat(port);
  const int error = getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  if (error != 0) {
    const std::string message = absl::StrCat("resolving '", host, "': ", gai_strerror(error));
    if (error == EAI_NONAME || error == EAI_NODATA) return absl::NotFoundError(message);
    if (error == EAI_AGAIN) return absl::UnavailableError(message);
    return absl::InternalError(message);
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(results, freeaddrinfo);
  std::vector<SocketAddress> addresses;
  for (const addrinfo* info = results; info != nullptr; info = info->ai_next) {
    addresses.push_back(SocketAddress::FromSockaddr(info->ai_addr, info->ai_addrlen));
  }
  return addresses;
}

}  // namespace

Task<absl::StatusOr<std::vector<SocketAddress>>> Resolve(std::string host, uint16_t port) {
  // Named: SpawnBlocking takes a callable with a std::string capture only as an lvalue (copied).
  auto lookup = [host = std::move(host), port] { return ResolveBlocking(host, port); };
  co_return co_await SpawnBlocking(lookup);
}

}  // namespace coral
