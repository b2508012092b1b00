// Copyright 2026 The coral Authors.
//
// TlsStream against OpenSSL's own tools (Debian's /usr/bin/openssl, a child process), as
// independent peers on loopback: coral's client against `openssl s_server` (TLS 1.2 and 1.3, with
// ALPN), and coral's server against `openssl s_client` verifying coral's certificate and name.
// The certificates are made by the test and written to its temporary directory.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/socket_address.h"
#include "coral/task.h"
#include "coral/tcp.h"
#include "coral/tls.h"
#include "examples/subprocess.h"
#include "gtest/gtest.h"
#include "tests/tls_test_util.h"

namespace coral {
namespace {

using ::coral::examples::Subprocess;
using ::coral::testing::Authority;
using ::coral::testing::ListenOnLoopback;
using ::coral::testing::LoopbackListener;
using ::coral::testing::RunBounded;
using ::coral::testing::ServerCertificate;

constexpr char kOpenssl[] = "/usr/bin/openssl";

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = TempPath(name);
  std::ofstream(path) << contents;
  return path;
}

// Reads the child's stdout up to the line that starts with `prefix`; returns that line.
std::optional<std::string> LineStartingWith(Subprocess& child, absl::string_view prefix) {
  while (std::optional<std::string> line = child.ReadLine()) {
    if (absl::StartsWith(*line, prefix)) return line;
  }
  return std::nullopt;
}

// Reads until `buffer` ends with a newline (or the stream ends).
Task<absl::StatusOr<std::string>> ReadLine(TlsStream* stream) {
  std::string line;
  std::vector<char> buffer(256);
  while (line.empty() || line.back() != '\n') {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    if (*n == 0) break;
    line.append(buffer.data(), *n);
  }
  co_return line;
}

// The shared authority and server certificate, written to files for openssl and for the
// contexts' file loaders.
class TlsInteropTest : public ::coral::testing::TlsFixture {
 protected:
  static void SetUpTestSuite() {
    ca_path_ = new std::string(WriteFile("ca.pem", Authority().pem().certificate));
    certificate_path_ = new std::string(WriteFile("server.pem", ServerCertificate().certificate));
    key_path_ = new std::string(WriteFile("server.key", ServerCertificate().private_key));
  }

  static std::string* ca_path_;
  static std::string* certificate_path_;
  static std::string* key_path_;
};

std::string* TlsInteropTest::ca_path_ = nullptr;
std::string* TlsInteropTest::certificate_path_ = nullptr;
std::string* TlsInteropTest::key_path_ = nullptr;

// `openssl s_server -rev` answers each line with the line reversed.
TEST_F(TlsInteropTest, CoralClientAgainstOpensslServer) {
  for (const std::string version : {"-tls1_2", "-tls1_3"}) {
    SCOPED_TRACE(version);
    absl::StatusOr<Subprocess> server = Subprocess::Start(
        kOpenssl,
        {"s_server", "-accept", "127.0.0.1:0", "-naccept", "1", version, "-cert",
         *certificate_path_, "-key", *key_path_, "-alpn", "coral/1,http/1.1", "-rev"},
        {});
    ASSERT_TRUE(server.ok()) << server.status();
    // "ACCEPT 127.0.0.1:PORT"
    std::optional<std::string> accept = LineStartingWith(*server, "ACCEPT ");
    ASSERT_TRUE(accept.has_value()) << "openssl s_server did not start";
    int port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(accept->substr(accept->rfind(':') + 1), &port)) << *accept;

    absl::Status status = RunBounded(
        runtime_, [](int port, std::string ca_path, std::string version) -> Task<absl::Status> {
          absl::StatusOr<TlsContext> context = TlsContext::Client();
          if (!context.ok()) co_return context.status();
          absl::Status trusted = context->TrustAuthorityFile(ca_path);
          if (!trusted.ok()) co_return trusted;
          absl::Status alpn = context->SetAlpnProtocols({"http/1.1"});
          if (!alpn.ok()) co_return alpn;
          absl::StatusOr<TcpStream> tcp = co_await TcpStream::Connect(
              SocketAddress::Loopback(static_cast<uint16_t>(port)), absl::Seconds(5));
          if (!tcp.ok()) co_return tcp.status();
          absl::StatusOr<TlsStream> tls =
              co_await TlsStream::Connect(*context, *std::move(tcp), "localhost");
          if (!tls.ok()) co_return tls.status();
          EXPECT_EQ(tls->protocol_version(), version == "-tls1_2" ? "TLSv1.2" : "TLSv1.3");
          EXPECT_EQ(tls->alpn_protocol(), "http/1.1");
          absl::Status sent = co_await tls->WriteAll("hello coral\n");
          if (!sent.ok()) co_return sent;
          absl::StatusOr<std::string> line = co_await ReadLine(&*tls);
          if (!line.ok()) co_return line.status();
          EXPECT_EQ(*line, "laroc olleh\n");
          co_return co_await tls->Shutdown();
        }(port, *ca_path_, version));
    EXPECT_TRUE(status.ok()) << status;
    absl::StatusOr<Subprocess::Exit> exit = server->Wait();
    ASSERT_TRUE(exit.ok()) << exit.status();
    EXPECT_TRUE(exit->exited_ok()) << exit->Describe();
  }
}

// The coral server reads "ping", answers "pong", then reads the client's close_notify.
Task<absl::Status> ServeOne(TcpListener* listener, std::string certificate_path,
                            std::string key_path) {
  absl::StatusOr<TlsContext> context = TlsContext::Server();
  if (!context.ok()) co_return context.status();
  absl::Status loaded = context->UseCertificateFiles(certificate_path, key_path);
  if (!loaded.ok()) co_return loaded;
  absl::Status alpn = context->SetAlpnProtocols({"h2", "http/1.1"});
  if (!alpn.ok()) co_return alpn;
  absl::StatusOr<TcpStream> tcp = co_await listener->Accept();
  if (!tcp.ok()) co_return tcp.status();
  absl::StatusOr<TlsStream> tls = co_await TlsStream::Accept(*context, *std::move(tcp));
  if (!tls.ok()) co_return tls.status();
  EXPECT_EQ(tls->alpn_protocol(), "http/1.1");
  absl::StatusOr<std::string> line = co_await ReadLine(&*tls);
  if (!line.ok()) co_return line.status();
  EXPECT_EQ(*line, "ping\n");
  absl::Status sent = co_await tls->WriteAll("pong\n");
  if (!sent.ok()) co_return sent;
  std::vector<char> buffer(64);
  absl::StatusOr<size_t> end = co_await tls->Read(absl::MakeSpan(buffer));
  if (!end.ok()) co_return end.status();
  EXPECT_EQ(*end, 0u) << "expected the client's close_notify";
  co_return absl::OkStatus();
}

Task<absl::Status> ServeOneBounded(TcpListener* listener, std::string certificate_path,
                                   std::string key_path) {
  co_return co_await Timeout(absl::Seconds(20),
                             ServeOne(listener, std::move(certificate_path), std::move(key_path)));
}

TEST_F(TlsInteropTest, OpensslClientAgainstCoralServer) {
  absl::StatusOr<LoopbackListener> loopback = ListenOnLoopback();
  ASSERT_TRUE(loopback.ok()) << loopback.status();
  JoinHandle<absl::Status> server =
      runtime_.Spawn(ServeOneBounded, &loopback->listener, *certificate_path_, *key_path_);

  // s_client sends "ping", then its stdin stays open until the test closes it (the subshell's
  // `read` waits for that), and then s_client sends close_notify and exits. It verifies coral's
  // certificate against the authority and the name "localhost", failing on any error.
  const std::string client =
      absl::StrCat("(printf 'ping\\n'; read -r _) | ", kOpenssl,
                   " s_client -connect 127.0.0.1:", loopback->address.port(),
                   " -servername localhost -verify_hostname localhost -CAfile ", *ca_path_,
                   " -verify_return_error -alpn http/1.1 -quiet -no_ign_eof");
  absl::StatusOr<Subprocess> child = Subprocess::Start("/bin/sh", {"-c", client}, {});
  ASSERT_TRUE(child.ok()) << child.status();
  std::optional<std::string> reply = child->ReadLine();
  EXPECT_EQ(reply, "pong");
  child->CloseStdin();
  absl::StatusOr<Subprocess::Exit> exit = child->Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited_ok()) << exit->Describe();
  absl::Status served =
      runtime_.BlockOn([&]() -> Task<absl::Status> { co_return co_await std::move(server); }());
  EXPECT_TRUE(served.ok()) << served;
}

}  // namespace
}  // namespace coral
