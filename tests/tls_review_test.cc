// Copyright 2026 The coral Authors.
//
// TlsStream under the harder cases: a reader and a writer in two tasks while the peer ends its
// side or asks for a TLS 1.2 renegotiation (an OpenSSL server on blocking sockets, in a thread),
// Shutdown while a Read waits, handshakes cancelled by a Timeout (the socket is closed, no fd
// left open), and streams that outlive every copy of their contexts. Every test body runs under a
// Timeout.

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/socket_address.h"
#include "coral/task.h"
#include "coral/tcp.h"
#include "coral/tls.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tests/tls_test_util.h"

namespace coral {
namespace {

using ::coral::testing::AcceptTls;
using ::coral::testing::ClientContext;
using ::coral::testing::Connected;
using ::coral::testing::ListenOnLoopback;
using ::coral::testing::LoopbackListener;
using ::coral::testing::OpenFdCount;
using ::coral::testing::Pattern;
using ::coral::testing::ReadToEnd;
using ::coral::testing::RunBounded;
using ::coral::testing::ServerCertificate;
using ::coral::testing::ServerContext;
using ::coral::testing::TlsPair;
using TlsReviewTest = ::coral::testing::TlsFixture;

Task<absl::Status> WriteAllOf(TlsStream* stream, std::string data) {
  co_return co_await stream->WriteAll(data);
}

TEST_F(TlsReviewTest, ShutdownWhileAReadWaits) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    JoinHandle<absl::StatusOr<std::string>> reader = Spawn(ReadToEnd, &pair->client);
    co_await SleepFor(absl::Milliseconds(5));  // Lets the reader wait (either order is valid).
    absl::Status shut = co_await pair->client.Shutdown();
    EXPECT_TRUE(shut.ok()) << shut;
    absl::StatusOr<std::string> server_read = co_await ReadToEnd(&pair->server);
    EXPECT_TRUE(server_read.ok()) << server_read.status();
    // The client's side is closed, its reading side is not.
    absl::Status sent = co_await pair->server.WriteAll("after your close_notify");
    EXPECT_TRUE(sent.ok()) << sent;
    shut = co_await pair->server.Shutdown();
    EXPECT_TRUE(shut.ok()) << shut;
    absl::StatusOr<std::string> client_read = co_await std::move(reader);
    if (!client_read.ok()) co_return client_read.status();
    EXPECT_EQ(*client_read, "after your close_notify");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(TlsReviewTest, WriterGoesOnAfterThePeersCloseNotifyEndsTheReader) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    const std::string payload = Pattern(1 << 20);
    JoinHandle<absl::StatusOr<std::string>> reader = Spawn(ReadToEnd, &pair->client);
    JoinHandle<absl::Status> writer = Spawn(WriteAllOf, &pair->client, payload);
    // The server ends its side after the first bytes, while the client's writer is busy.
    std::vector<char> buffer(1000);
    absl::StatusOr<size_t> first = co_await pair->server.Read(absl::MakeSpan(buffer));
    if (!first.ok()) co_return first.status();
    absl::Status sent = co_await pair->server.WriteAll("last words");
    if (!sent.ok()) co_return sent;
    absl::Status shut = co_await pair->server.Shutdown();
    if (!shut.ok()) co_return shut;
    // Until the client's close_notify, read while the client's reader has ended.
    JoinHandle<absl::StatusOr<std::string>> rest = Spawn(ReadToEnd, &pair->server);
    absl::StatusOr<std::string> client_read = co_await std::move(reader);
    EXPECT_TRUE(client_read.ok()) << client_read.status();
    if (client_read.ok()) {
      EXPECT_EQ(*client_read, "last words");
    }
    absl::Status written = co_await std::move(writer);
    EXPECT_TRUE(written.ok()) << written;
    shut = co_await pair->client.Shutdown();
    EXPECT_TRUE(shut.ok()) << shut;
    absl::StatusOr<std::string> server_rest = co_await std::move(rest);
    EXPECT_TRUE(server_rest.ok()) << server_rest.status();
    if (server_rest.ok()) {
      EXPECT_TRUE(std::string(buffer.data(), *first) + *server_rest == payload);
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

// Shutdown twice: the second finds close_notify sent and returns, without waiting for (and
// reading, under a reader's feet) the peer's close_notify.
TEST_F(TlsReviewTest, SecondShutdownDoesNotWaitForThePeer) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    absl::Status shut = co_await pair->client.Shutdown();
    EXPECT_TRUE(shut.ok()) << shut;
    shut = co_await Timeout(absl::Seconds(2), pair->client.Shutdown());
    EXPECT_TRUE(shut.ok()) << shut;
    // The server's data after that still reaches the client's reader.
    absl::Status sent = co_await pair->server.WriteAll("still here");
    if (!sent.ok()) co_return sent;
    shut = co_await pair->server.Shutdown();
    if (!shut.ok()) co_return shut;
    absl::StatusOr<std::string> read = co_await ReadToEnd(&pair->client);
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) {
      EXPECT_EQ(*read, "still here");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

// A Write after Shutdown is refused, and the reading side, which the contract keeps open until
// the peer's close_notify, still works.
TEST_F(TlsReviewTest, WriteAfterShutdownLeavesTheReadingSide) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    absl::Status shut = co_await pair->client.Shutdown();
    if (!shut.ok()) co_return shut;
    absl::StatusOr<size_t> late = co_await pair->client.Write("too late");
    EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition) << late.status();
    absl::Status sent = co_await pair->server.WriteAll("the server's answer");
    if (!sent.ok()) co_return sent;
    shut = co_await pair->server.Shutdown();
    if (!shut.ok()) co_return shut;
    absl::StatusOr<std::string> read = co_await ReadToEnd(&pair->client);
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) {
      EXPECT_EQ(*read, "the server's answer");
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

// A peer that accepts the connection and never answers the handshake: the client's Connect under a
// Timeout ends with the deadline and closes its socket (the peer reads the end of the stream).
TEST_F(TlsReviewTest, ClientHandshakeCancelledByATimeoutClosesTheSocket) {
  const int fds = OpenFdCount();
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsContext> context = ClientContext();
    if (!context.ok()) co_return context.status();
    absl::StatusOr<LoopbackListener> loopback = ListenOnLoopback();
    if (!loopback.ok()) co_return loopback.status();
    absl::StatusOr<TcpStream> tcp =
        co_await TcpStream::Connect(loopback->address, absl::Seconds(5));
    if (!tcp.ok()) co_return tcp.status();
    absl::StatusOr<TcpStream> silent = co_await loopback->listener.Accept();
    if (!silent.ok()) co_return silent.status();
    absl::StatusOr<TlsStream> tls = co_await Timeout(
        absl::Milliseconds(30), TlsStream::Connect(*context, *std::move(tcp), "localhost"));
    EXPECT_EQ(tls.status().code(), absl::StatusCode::kDeadlineExceeded) << tls.status();
    std::vector<char> buffer(4096);
    for (;;) {  // The ClientHello, then the end of the stream.
      absl::StatusOr<size_t> n = co_await silent->Read(absl::MakeSpan(buffer));
      if (!n.ok()) co_return n.status();
      if (*n == 0) break;
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(OpenFdCount(), fds);
}

TEST_F(TlsReviewTest, ServerHandshakeCancelledByATimeoutClosesTheSocket) {
  const int fds = OpenFdCount();
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsContext> context = ServerContext();
    if (!context.ok()) co_return context.status();
    absl::StatusOr<LoopbackListener> loopback = ListenOnLoopback();
    if (!loopback.ok()) co_return loopback.status();
    absl::StatusOr<TcpStream> silent =
        co_await TcpStream::Connect(loopback->address, absl::Seconds(5));
    if (!silent.ok()) co_return silent.status();
    // Half a ClientHello: the server waits for the rest.
    absl::Status sent = co_await silent->WriteAll(std::string("\x16\x03\x01\x02\x00\x01", 6));
    if (!sent.ok()) co_return sent;
    absl::StatusOr<TlsStream> tls =
        co_await Timeout(absl::Milliseconds(30), AcceptTls(&loopback->listener, *context));
    EXPECT_EQ(tls.status().code(), absl::StatusCode::kDeadlineExceeded) << tls.status();
    std::vector<char> buffer(64);
    absl::StatusOr<size_t> n = co_await silent->Read(absl::MakeSpan(buffer));
    EXPECT_TRUE(n.ok() && *n == 0) << n.status();
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(OpenFdCount(), fds);
}

// Every copy of the contexts is gone before the sessions are used: each session keeps its own.
TEST_F(TlsReviewTest, StreamsOutliveTheirContexts) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = absl::UnknownError("no contexts");
    {
      absl::StatusOr<TlsContext> client_context = ClientContext();
      absl::StatusOr<TlsContext> server_context = ServerContext();
      if (!client_context.ok() || !server_context.ok()) co_return absl::InternalError("contexts");
      pair = co_await Connected(*std::move(client_context), *std::move(server_context));
    }
    if (!pair.ok()) co_return pair.status();
    JoinHandle<absl::StatusOr<std::string>> reader = Spawn(ReadToEnd, &pair->server);
    absl::Status sent = co_await pair->client.WriteAll(Pattern(100000));
    if (!sent.ok()) co_return sent;
    absl::Status shut = co_await pair->client.Shutdown();
    if (!shut.ok()) co_return shut;
    absl::StatusOr<std::string> read = co_await std::move(reader);
    if (!read.ok()) co_return read.status();
    EXPECT_TRUE(*read == Pattern(100000));
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

// A TLS 1.2 server on OpenSSL's blocking API: accepts one connection on `listen_fd`, asks for a
// renegotiation once the first bytes arrive, and echoes until the client's close_notify or an
// error. Returns what happened: "echoed N" or the failure; `renegotiated` says whether the
// renegotiation completed (the client may also answer the request late, or never).
std::string RenegotiatingEchoServer(int listen_fd, bool& renegotiated) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  BIO* cert_text = BIO_new_mem_buf(ServerCertificate().certificate.data(),
                                   static_cast<int>(ServerCertificate().certificate.size()));
  X509* certificate = PEM_read_bio_X509(cert_text, nullptr, nullptr, nullptr);
  BIO* key_text = BIO_new_mem_buf(ServerCertificate().private_key.data(),
                                  static_cast<int>(ServerCertificate().private_key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_text, nullptr, nullptr, nullptr);
  SSL_CTX_use_certificate(ctx, certificate);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(certificate);
  EVP_PKEY_free(key);
  BIO_free(cert_text);
  BIO_free(key_text);
  std::string outcome;
  const int fd = accept(listen_fd, nullptr, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  size_t echoed = 0;
  if (SSL_accept(ssl) != 1) outcome = "accept failed";
  std::vector<char> buffer(16384);
  bool asked = false;
  while (outcome.empty()) {
    const int n = SSL_read(ssl, buffer.data(), static_cast<int>(buffer.size()));
    if (n <= 0) {
      if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN) outcome = "read failed";
      break;
    }
    if (!asked) {
      asked = true;
      if (SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1) outcome = "renegotiate failed";
    }
    if (SSL_write(ssl, buffer.data(), n) != n) outcome = "write failed";
    echoed += static_cast<size_t>(n);
  }
  if (outcome.empty()) {
    outcome = absl::StrCat("echoed ", echoed);
    renegotiated = SSL_renegotiate_pending(ssl) == 0;
    (void)SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  return outcome;
}

// A reader and a writer in two tasks while the server asks for a renegotiation: no hang, and
// either the echo completes or both end with a clear error.
TEST_F(TlsReviewTest, ReaderAndWriterWhileTheServerRenegotiates) {
  const int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listen_fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listen_fd, 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  std::string server_outcome;
  bool renegotiated = false;
  std::thread server([&] { server_outcome = RenegotiatingEchoServer(listen_fd, renegotiated); });
  const uint16_t port = ntohs(address.sin_port);
  const std::string payload = Pattern(1 << 20);
  absl::StatusOr<std::string> echoed = absl::UnknownError("not run");
  absl::Status written = absl::UnknownError("not run");
  absl::Status status =
      RunBounded(runtime_,
                 [](uint16_t port, const std::string* payload, absl::StatusOr<std::string>* echoed,
                    absl::Status* written) -> Task<absl::Status> {
                   absl::StatusOr<TlsContext> context = ClientContext();
                   if (!context.ok()) co_return context.status();
                   absl::StatusOr<TcpStream> tcp =
                       co_await TcpStream::Connect(SocketAddress::Loopback(port), absl::Seconds(5));
                   if (!tcp.ok()) co_return tcp.status();
                   absl::StatusOr<TlsStream> tls =
                       co_await TlsStream::Connect(*context, *std::move(tcp), "localhost");
                   if (!tls.ok()) co_return tls.status();
                   JoinHandle<absl::StatusOr<std::string>> reader = Spawn(ReadToEnd, &*tls);
                   *written = co_await tls->WriteAll(*payload);
                   if (written->ok()) *written = co_await tls->Shutdown();
                   *echoed = co_await std::move(reader);
                   co_return absl::OkStatus();
                 }(port, &payload, &echoed, &written));
  server.join();
  close(listen_fd);
  EXPECT_TRUE(status.ok()) << status << "; server: " << server_outcome;
  if (written.ok()) {
    EXPECT_EQ(server_outcome, absl::StrCat("echoed ", payload.size()));
    EXPECT_TRUE(echoed.ok() && *echoed == payload) << echoed.status();
  } else {
    EXPECT_FALSE(echoed.ok());
  }
  std::printf("writer: %s; reader: %s; server: %s; renegotiated: %d\n", written.ToString().c_str(),
              echoed.status().ToString().c_str(), server_outcome.c_str(), renegotiated);
}

}  // namespace
}  // namespace coral
