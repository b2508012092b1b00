// Copyright 2026 The coral Authors.
//
// TlsContext and TlsStream over loopback, with certificates made by the test
// (tests/tls_test_certificates.h): handshakes and echo between coral's client and server over TCP
// and a Unix socket pair, a reader and a writer in two tasks, ALPN, a cancelled Read (the stream
// stays usable) and a cancelled Write (the session fails). Every test body runs under a Timeout.

#include "coral/tls.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/socket_address.h"
#include "coral/task.h"
#include "coral/tcp.h"
#include "coral/unix_socket.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tests/tls_test_util.h"

namespace coral {
namespace {

using ::coral::testing::AcceptTls;
using ::coral::testing::Authority;
using ::coral::testing::ClientContext;
using ::coral::testing::Connected;
using ::coral::testing::HandshakeOverTcp;
using ::coral::testing::Handshakes;
using ::coral::testing::ListenOnLoopback;
using ::coral::testing::LoopbackListener;
using ::coral::testing::Pattern;
using ::coral::testing::PemCertificate;
using ::coral::testing::ReadToEnd;
using ::coral::testing::RunBounded;
using ::coral::testing::ServerCertificate;
using ::coral::testing::ServerContext;
using ::coral::testing::TestAuthority;
using ::coral::testing::TlsPair;
using TlsTest = ::coral::testing::TlsFixture;

// Echoes until the peer's close_notify, then closes its own side.
Task<absl::Status> Echo(TlsStream* stream) {
  std::vector<char> buffer(16384);
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    if (*n == 0) break;
    absl::Status written = co_await stream->WriteAll(absl::string_view(buffer.data(), *n));
    if (!written.ok()) co_return written;
  }
  co_return co_await stream->Shutdown();
}

// The client writes `payload` while another task reads the echo (one reader and one writer on
// one TlsStream), then shuts down; returns what came back.
Task<absl::StatusOr<std::string>> EchoThrough(TlsStream* client, std::string payload) {
  JoinHandle<absl::StatusOr<std::string>> reader = Spawn(ReadToEnd, client);
  absl::Status written = co_await client->WriteAll(payload);
  if (!written.ok()) co_return written;
  absl::Status shut = co_await client->Shutdown();
  if (!shut.ok()) co_return shut;
  co_return co_await std::move(reader);
}

TEST_F(TlsTest, HandshakeAndEchoOverTcp) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    TlsStream client = std::move(pair->client);
    TlsStream server = std::move(pair->server);
    EXPECT_EQ(client.protocol_version(), "TLSv1.3");
    EXPECT_EQ(client.alpn_protocol(), "");
    EXPECT_EQ(server.alpn_protocol(), "");

    JoinHandle<absl::Status> echo = Spawn(Echo, &server);
    // 1 MiB: many records, written by one task while another reads the echo.
    const std::string payload = Pattern(1 << 20);
    absl::StatusOr<std::string> echoed = co_await EchoThrough(&client, payload);
    if (!echoed.ok()) co_return echoed.status();
    EXPECT_EQ(echoed->size(), payload.size());
    EXPECT_TRUE(*echoed == payload);
    absl::Status echo_status = co_await std::move(echo);
    EXPECT_TRUE(echo_status.ok()) << echo_status;
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(TlsTest, HandshakeAndEchoOverUnixSocketPairByIpName) {
  // Over a socket pair, any name works for routing; the certificate's IP entry is what is checked.
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsContext> client_context = ClientContext();
    absl::StatusOr<TlsContext> server_context = ServerContext();
    if (!client_context.ok()) co_return client_context.status();
    if (!server_context.ok()) co_return server_context.status();
    absl::StatusOr<std::pair<UnixStream, UnixStream>> sockets = UnixStream::Pair();
    if (!sockets.ok()) co_return sockets.status();
    JoinHandle<absl::StatusOr<TlsStream>> accepted =
        Spawn(&TlsStream::Accept, *server_context, StreamSocket(std::move(sockets->second)));
    absl::StatusOr<TlsStream> client =
        co_await TlsStream::Connect(*client_context, std::move(sockets->first), "127.0.0.1");
    if (!client.ok()) co_return client.status();
    absl::StatusOr<TlsStream> server = co_await std::move(accepted);
    if (!server.ok()) co_return server.status();
    JoinHandle<absl::Status> echo = Spawn(Echo, &*server);
    absl::StatusOr<std::string> echoed = co_await EchoThrough(&*client, "over a unix socket");
    if (!echoed.ok()) co_return echoed.status();
    EXPECT_EQ(*echoed, "over a unix socket");
    co_return co_await std::move(echo);
  }());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(TlsTest, AlpnPicksTheServersFirstChoiceThatTheClientOffers) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsContext> server_context =
        ServerContext(ServerCertificate(), {"h2", "http/1.1"});
    if (!server_context.ok()) co_return server_context.status();
    struct Case {
      std::vector<std::string> offered;
      std::string agreed;
    };
    for (const Case& c : std::vector<Case>{
             {{"http/1.1", "h2"}, "h2"}, {{"http/1.1"}, "http/1.1"}, {{"coral/1"}, ""}}) {
      absl::StatusOr<TlsContext> client_context = ClientContext(Authority(), c.offered);
      if (!client_context.ok()) co_return client_context.status();
      absl::StatusOr<TlsPair> pair = co_await Connected(*client_context, *server_context);
      if (!pair.ok()) co_return pair.status();
      EXPECT_EQ(pair->client.alpn_protocol(), c.agreed);
      EXPECT_EQ(pair->server.alpn_protocol(), c.agreed);
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(TlsTest, AlpnListsAreChecked) {
  absl::StatusOr<TlsContext> context = TlsContext::Client();
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_EQ(context->SetAlpnProtocols({}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(context->SetAlpnProtocols({"h2", ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(context->SetAlpnProtocols({std::string(256, 'x')}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(context->SetAlpnProtocols({std::string(255, 'x')}).ok());
}

TEST_F(TlsTest, CancelledReadLeavesTheStreamUsable) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    std::vector<char> buffer(64);
    // Nothing is sent: the read waits until the deadline cancels it.
    absl::StatusOr<size_t> cancelled =
        co_await Timeout(absl::Milliseconds(20), pair->client.Read(absl::MakeSpan(buffer)));
    EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kDeadlineExceeded) << cancelled.status();
    absl::Status sent = co_await pair->server.WriteAll("after the cancellation");
    if (!sent.ok()) co_return sent;
    absl::StatusOr<size_t> n = co_await pair->client.Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(absl::string_view(buffer.data(), *n), "after the cancellation");
    // Both directions still work.
    sent = co_await pair->client.WriteAll("and back");
    if (!sent.ok()) co_return sent;
    n = co_await pair->server.Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    EXPECT_EQ(absl::string_view(buffer.data(), *n), "and back");
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(TlsTest, CancelledWriteFailsTheSession) {
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    // The server reads nothing: the socket buffers fill and the write waits until the deadline.
    const std::string payload(32 << 20, 'x');
    absl::Status cancelled =
        co_await Timeout(absl::Milliseconds(50), pair->client.WriteAll(payload));
    EXPECT_EQ(cancelled.code(), absl::StatusCode::kDeadlineExceeded);
    absl::StatusOr<size_t> after = co_await pair->client.Write("more");
    EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(after.status().message(), "cancelled")) << after.status();
    std::vector<char> buffer(64);
    absl::StatusOr<size_t> read = co_await pair->client.Read(absl::MakeSpan(buffer));
    EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(TlsTest, PeerClosingWithoutCloseNotifyIsAnError) {
  // A truncation an attacker could cause: not the clean end of the stream (Read's 0).
  absl::Status status = RunBounded(runtime_, []() -> Task<absl::Status> {
    absl::StatusOr<TlsPair> pair = co_await Connected();
    if (!pair.ok()) co_return pair.status();
    absl::Status sent = co_await pair->client.WriteAll("last words");
    if (!sent.ok()) co_return sent;
    // The client reads the server's data first, with the session tickets TLS 1.3 sent before it:
    // closing a socket with unread data would reset the connection instead of ending it.
    sent = co_await pair->server.WriteAll("bye");
    if (!sent.ok()) co_return sent;
    std::vector<char> buffer(16);
    absl::StatusOr<size_t> n = co_await pair->client.Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    pair->client.Close();
    EXPECT_FALSE(pair->client.valid());
    absl::StatusOr<std::string> read = co_await ReadToEnd(&pair->server);
    EXPECT_FALSE(read.ok()) << "read " << *read;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
    EXPECT_TRUE(absl::StrContains(read.status().message(), "without close_notify"))
        << read.status();
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(status.ok()) << status;
}

// Bad peers and bad certificates: each handshake fails with a clear status, on both sides, and
// frees what it opened.

// The client's and the server's outcome of one handshake, bounded.
Handshakes HandshakeBounded(Runtime& runtime, absl::StatusOr<TlsContext> client_context,
                            absl::StatusOr<TlsContext> server_context,
                            const std::string& server_name) {
  EXPECT_TRUE(client_context.ok()) << client_context.status();
  EXPECT_TRUE(server_context.ok()) << server_context.status();
  Handshakes result;
  absl::Status status = RunBounded(runtime,
                                   [](Handshakes* out, TlsContext client, TlsContext server,
                                      std::string name) -> Task<absl::Status> {
                                     absl::StatusOr<Handshakes> pair =
                                         co_await HandshakeOverTcp(client, server, name);
                                     if (!pair.ok()) co_return pair.status();
                                     *out = *std::move(pair);
                                     co_return absl::OkStatus();
                                   }(&result, *client_context, *server_context, server_name));
  EXPECT_TRUE(status.ok()) << status;
  return result;
}

void ExpectError(const absl::StatusOr<TlsStream>& outcome, absl::StatusCode code,
                 absl::string_view text) {
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), code) << outcome.status();
  EXPECT_TRUE(absl::StrContains(outcome.status().message(), text))
      << outcome.status() << " does not say " << text;
}

TEST_F(TlsTest, UntrustedAuthorityIsRejected) {
  const int fds = ::coral::testing::OpenFdCount();
  TestAuthority stranger("another authority");
  Handshakes result =
      HandshakeBounded(runtime_, ClientContext(stranger), ServerContext(), "localhost");
  ExpectError(result.client, absl::StatusCode::kUnauthenticated,
              "certificate failed verification: unable to get local issuer certificate");
  // The client's alert tells the server why.
  ExpectError(result.server, absl::StatusCode::kUnavailable, "unknown ca");
  EXPECT_EQ(::coral::testing::OpenFdCount(), fds);
}

TEST_F(TlsTest, SystemAuthoritiesDoNotTrustTheTestAuthority) {
  Handshakes result =
      HandshakeBounded(runtime_, TlsContext::Client(), ServerContext(), "localhost");
  ExpectError(result.client, absl::StatusCode::kUnauthenticated, "unable to get local issuer");
}

TEST_F(TlsTest, ExpiredCertificateIsRejected) {
  const PemCertificate expired =
      Authority().Issue({.not_before = -absl::Hours(48), .not_after = -absl::Hours(24)});
  Handshakes result =
      HandshakeBounded(runtime_, ClientContext(), ServerContext(expired), "localhost");
  ExpectError(result.client, absl::StatusCode::kUnauthenticated, "certificate has expired");
  ExpectError(result.server, absl::StatusCode::kUnavailable, "certificate expired");
}

TEST_F(TlsTest, NameMismatchIsRejected) {
  Handshakes by_name = HandshakeBounded(runtime_, ClientContext(), ServerContext(), "example.org");
  ExpectError(by_name.client, absl::StatusCode::kUnauthenticated, "hostname mismatch");
  Handshakes by_ip = HandshakeBounded(runtime_, ClientContext(), ServerContext(), "127.0.0.2");
  ExpectError(by_ip.client, absl::StatusCode::kUnauthenticated, "IP address mismatch");
  Handshakes matching_ip =
      HandshakeBounded(runtime_, ClientContext(), ServerContext(), "127.0.0.1");
  EXPECT_TRUE(matching_ip.client.ok()) << matching_ip.client.status();
}

TEST_F(TlsTest, DisabledVerificationAcceptsAnyCertificate) {
  TestAuthority stranger("another authority");
  absl::StatusOr<TlsContext> client = ClientContext(stranger);
  ASSERT_TRUE(client.ok()) << client.status();
  client->DisablePeerVerification();
  Handshakes result = HandshakeBounded(runtime_, *client, ServerContext(), "example.org");
  EXPECT_TRUE(result.client.ok()) << result.client.status();
  EXPECT_TRUE(result.server.ok()) << result.server.status();
}

// A plain TCP peer: accepts one connection, reads what arrives first, sends `reply`, closes.
Task<absl::Status> RawServer(TcpListener* listener, std::string reply) {
  absl::StatusOr<TcpStream> stream = co_await listener->Accept();
  if (!stream.ok()) co_return stream.status();
  std::vector<char> buffer(4096);
  absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
  if (!n.ok()) co_return n.status();
  if (!reply.empty()) co_return co_await stream->WriteAll(reply);
  co_return absl::OkStatus();
}

// A coral client's handshake against RawServer sending `reply`.
absl::StatusOr<TlsStream> ClientAgainstRawServer(Runtime& runtime, std::string reply) {
  absl::StatusOr<TlsStream> outcome = absl::UnknownError("not run");
  absl::Status status = RunBounded(
      runtime, [](absl::StatusOr<TlsStream>* out, std::string reply) -> Task<absl::Status> {
        absl::StatusOr<LoopbackListener> loopback = ListenOnLoopback();
        if (!loopback.ok()) co_return loopback.status();
        JoinHandle<absl::Status> server = Spawn(RawServer, &loopback->listener, std::move(reply));
        absl::StatusOr<TcpStream> tcp =
            co_await TcpStream::Connect(loopback->address, absl::Seconds(5));
        if (!tcp.ok()) co_return tcp.status();
        absl::StatusOr<TlsContext> context = ClientContext();
        if (!context.ok()) co_return context.status();
        *out = co_await TlsStream::Connect(*context, *std::move(tcp), "localhost");
        co_return co_await std::move(server);
      }(&outcome, std::move(reply)));
  EXPECT_TRUE(status.ok()) << status;
  return outcome;
}

// A coral server's handshake against a plain TCP client that sends `bytes`, then closes.
absl::StatusOr<TlsStream> ServerAgainstRawClient(Runtime& runtime, std::string bytes) {
  absl::StatusOr<TlsStream> outcome = absl::UnknownError("not run");
  absl::Status status = RunBounded(
      runtime, [](absl::StatusOr<TlsStream>* out, std::string bytes) -> Task<absl::Status> {
        absl::StatusOr<LoopbackListener> loopback = ListenOnLoopback();
        if (!loopback.ok()) co_return loopback.status();
        absl::StatusOr<TlsContext> context = ServerContext();
        if (!context.ok()) co_return context.status();
        JoinHandle<absl::StatusOr<TlsStream>> server =
            Spawn(AcceptTls, &loopback->listener, *context);
        absl::StatusOr<TcpStream> tcp =
            co_await TcpStream::Connect(loopback->address, absl::Seconds(5));
        if (!tcp.ok()) co_return tcp.status();
        absl::Status sent = co_await tcp->WriteAll(bytes);
        if (!sent.ok()) co_return sent;
        tcp->Close();
        *out = co_await std::move(server);
        co_return absl::OkStatus();
      }(&outcome, std::move(bytes)));
  EXPECT_TRUE(status.ok()) << status;
  return outcome;
}

TEST_F(TlsTest, ServerClosingMidHandshakeFailsTheClient) {
  const int fds = ::coral::testing::OpenFdCount();
  // The server reads the ClientHello and closes without answering.
  ExpectError(ClientAgainstRawServer(runtime_, ""), absl::StatusCode::kUnavailable,
              "closed the connection");
  EXPECT_EQ(::coral::testing::OpenFdCount(), fds);
}

TEST_F(TlsTest, ClientClosingMidHandshakeFailsTheServer) {
  const int fds = ::coral::testing::OpenFdCount();
  // The first bytes of a ClientHello record (handshake, TLS 1.0 record version, 512 bytes to
  // come), then the end of the connection.
  ExpectError(ServerAgainstRawClient(runtime_, std::string("\x16\x03\x01\x02\x00\x01", 6)),
              absl::StatusCode::kUnavailable, "closed the connection");
  ExpectError(ServerAgainstRawClient(runtime_, ""), absl::StatusCode::kUnavailable,
              "closed the connection");
  EXPECT_EQ(::coral::testing::OpenFdCount(), fds);
}

TEST_F(TlsTest, GarbageFromTheServerFailsTheClient) {
  ExpectError(ClientAgainstRawServer(runtime_, "HTTP/1.1 400 Bad Request\r\n\r\n"),
              absl::StatusCode::kUnavailable, "TLS handshake: wrong version number");
}

TEST_F(TlsTest, GarbageFromTheClientFailsTheServer) {
  ExpectError(ServerAgainstRawClient(runtime_, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
              absl::StatusCode::kUnavailable, "TLS handshake: http request");
  ExpectError(ServerAgainstRawClient(runtime_, std::string(300, '\x16')),
              absl::StatusCode::kUnavailable, "TLS handshake: ");
}

TEST_F(TlsTest, CertificateLoadingErrors) {
  absl::StatusOr<TlsContext> context = TlsContext::Server();
  ASSERT_TRUE(context.ok()) << context.status();
  const PemCertificate other = Authority().Issue({});
  EXPECT_EQ(context->UseCertificatePem("not a certificate", ServerCertificate().private_key).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(context->UseCertificatePem(ServerCertificate().certificate, "not a key").code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status mismatch =
      context->UseCertificatePem(ServerCertificate().certificate, other.private_key);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(mismatch.message(), "mismatch")) << mismatch;
  EXPECT_EQ(context->UseCertificateFiles("/nonexistent/cert.pem", "/nonexistent/key.pem").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(context->TrustAuthorityPem("garbage").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(context->TrustAuthorityFile("/nonexistent/ca.pem").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(
      context->UseCertificatePem(ServerCertificate().certificate, ServerCertificate().private_key)
          .ok());
}

class TlsMisuseTest : public TlsTest {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(TlsMisuseTest, MovedFromStreamAborts) {
  EXPECT_DEATH(
      {
        TlsStream stream;
        std::vector<char> buffer(8);
        (void)runtime_.BlockOn(stream.Read(absl::MakeSpan(buffer)));
      },
      "TlsStream::Read on a closed or moved-from coral::TlsStream");
}

TEST_F(TlsMisuseTest, ClientHandshakeOnServerContextAborts) {
  EXPECT_DEATH(
      {
        absl::StatusOr<TlsContext> server = TlsContext::Server();
        auto sockets = UnixStream::Pair();
        (void)TlsStream::Connect(*server, std::move(sockets->first), "localhost");
      },
      "TlsStream::Connect \\(a client handshake\\) with a server coral::TlsContext");
}

}  // namespace
}  // namespace coral
