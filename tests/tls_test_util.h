// Copyright 2026 The coral Authors.
//
// What the TLS tests share: one test authority and server certificate per process
// (tls_test_certificates.h), contexts that use them, a bounded run, the TCP listener + connect +
// both handshakes on loopback, and a fixture with a runtime of two workers.

#ifndef CORAL_TESTS_TLS_TEST_UTIL_H_
#define CORAL_TESTS_TLS_TEST_UTIL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/runtime.h"
#include "coral/socket_address.h"
#include "coral/task.h"
#include "coral/tcp.h"
#include "coral/tls.h"
#include "gtest/gtest.h"
#include "tests/tls_test_certificates.h"

namespace coral::testing {

// The authority the tests trust, made on first use.
const TestAuthority& Authority();
// A certificate for "localhost" and 127.0.0.1, issued by Authority(), made on first use.
const PemCertificate& ServerCertificate();

// A server context presenting `certificate`, offering `alpn` if not empty.
absl::StatusOr<TlsContext> ServerContext(const PemCertificate& certificate = ServerCertificate(),
                                         std::vector<std::string> alpn = {});
// A client context trusting `trusted` only, offering `alpn` if not empty.
absl::StatusOr<TlsContext> ClientContext(const TestAuthority& trusted = Authority(),
                                         std::vector<std::string> alpn = {});

// Runs `body` on `runtime` under a 20 s Timeout: a hung handshake fails the test instead of
// hanging it.
absl::Status RunBounded(Runtime& runtime, Task<absl::Status> body);

// A listener on 127.0.0.1 (a port the kernel picks) and its address.
struct LoopbackListener {
  TcpListener listener;
  SocketAddress address;
};
absl::StatusOr<LoopbackListener> ListenOnLoopback();

// Accepts one connection on `listener` and runs the server handshake on it.
Task<absl::StatusOr<TlsStream>> AcceptTls(TcpListener* listener, TlsContext context);

// Each side's outcome of one handshake.
struct Handshakes {
  absl::StatusOr<TlsStream> client;
  absl::StatusOr<TlsStream> server;
};

// A client handshake to `server_name` and a server handshake on one loopback TCP connection,
// concurrently. An error: the connection could not be made (not a failed handshake).
Task<absl::StatusOr<Handshakes>> HandshakeOverTcp(TlsContext client_context,
                                                  TlsContext server_context,
                                                  std::string server_name);

struct TlsPair {
  TlsStream client;
  TlsStream server;
};

// HandshakeOverTcp to "localhost" where both sides must succeed: the first error otherwise. The
// contexts are copies; the caller's may go away.
Task<absl::StatusOr<TlsPair>> Connected(TlsContext client_context, TlsContext server_context);
// The same with ClientContext() and ServerContext().
Task<absl::StatusOr<TlsPair>> Connected();

// Reads until the end of the stream; returns everything read.
Task<absl::StatusOr<std::string>> ReadToEnd(TlsStream* stream);

// `size` bytes of a pattern that does not repeat at record boundaries.
std::string Pattern(size_t size);

// The TLS tests' fixture.
class TlsFixture : public ::testing::Test {
 protected:
  Runtime runtime_{{.num_workers = 2}};
};

}  // namespace coral::testing

#endif  // CORAL_TESTS_TLS_TEST_UTIL_H_
