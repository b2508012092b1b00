// Copyright 2026 The coral Authors.
//
// coral::SocketAddress: an IPv4, IPv6 or Unix-domain socket address (a sockaddr_storage and its
// length), with parsing and formatting.
//
//   absl::StatusOr<SocketAddress> a = SocketAddress::Parse("127.0.0.1:8080");
//   absl::StatusOr<SocketAddress> b = SocketAddress::Parse("[::1]:8080");
//   SocketAddress c = SocketAddress::Loopback(8080);             // 127.0.0.1:8080
//   absl::StatusOr<SocketAddress> d = SocketAddress::Unix("/run/app.sock");

#ifndef CORAL_SOCKET_ADDRESS_H_
#define CORAL_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace coral {

class SocketAddress {
 public:
  // An empty address (family AF_UNSPEC).
  SocketAddress() = default;

  // "a.b.c.d:port" or "[ipv6]:port" (numeric hosts only; see Resolve for names).
  static absl::StatusOr<SocketAddress> Parse(absl::string_view text);
  // 127.0.0.1:port, or [::1]:port with `ipv6`.
  static SocketAddress Loopback(uint16_t port, bool ipv6 = false);
  // 0.0.0.0:port, or [::]:port with `ipv6`.
  static SocketAddress Any(uint16_t port, bool ipv6 = false);
  // A Unix-domain path (at most 107 bytes).
  static absl::StatusOr<SocketAddress> Unix(absl::string_view path);
  // Copies `length` bytes of `address`.
  static SocketAddress FromSockaddr(const sockaddr* address, socklen_t length);

  int family() const { return storage_.ss_family; }
  // The port of an IPv4/IPv6 address (0 otherwise).
  uint16_t port() const;
  // "127.0.0.1:80", "[::1]:80", "unix:/path", or "unspecified".
  std::string ToString() const;

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* mutable_sockaddr_ptr() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  void set_length(socklen_t length) { length_ = length; }
  static constexpr socklen_t capacity() { return sizeof(sockaddr_storage); }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b);

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace coral

#endif  // CORAL_SOCKET_ADDRESS_H_
