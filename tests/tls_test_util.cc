// Copyright 2026 The coral Authors.

#include "tests/tls_test_util.h"

#include <utility>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "coral/join_handle.h"
#include "coral/sleep.h"

namespace coral::testing {

const TestAuthority& Authority() {
  static const TestAuthority* const authority = new TestAuthority("coral test authority");
  return *authority;
}

const PemCertificate& ServerCertificate() {
  static const PemCertificate* const certificate = new PemCertificate(Authority().Issue({}));
  return *certificate;
}

absl::StatusOr<TlsContext> ServerContext(const PemCertificate& certificate,
                                         std::vector<std::string> alpn) {
  absl::StatusOr<TlsContext> context = TlsContext::Server();
  if (!context.ok()) return context.status();
  absl::Status used = context->UseCertificatePem(certificate.certificate, certificate.private_key);
  if (!used.ok()) return used;
  if (!alpn.empty()) {
    absl::Status set = context->SetAlpnProtocols(alpn);
    if (!set.ok()) return set;
  }
  return context;
}

absl::StatusOr<TlsContext> ClientContext(const TestAuthority& trusted,
                                         std::vector<std::string> alpn) {
  absl::StatusOr<TlsContext> context = TlsContext::Client();
  if (!context.ok()) return context.status();
  absl::Status trust = context->TrustAuthorityPem(trusted.pem().certificate);
  if (!trust.ok()) return trust;
  if (!alpn.empty()) {
    absl::Status set = context->SetAlpnProtocols(alpn);
    if (!set.ok()) return set;
  }
  return context;
}

absl::Status RunBounded(Runtime& runtime, Task<absl::Status> body) {
  return runtime.BlockOn(Task<absl::Status>(Timeout(absl::Seconds(20), std::move(body))));
}

absl::StatusOr<LoopbackListener> ListenOnLoopback() {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
  if (!listener.ok()) return listener.status();
  absl::StatusOr<SocketAddress> address = listener->LocalAddress();
  if (!address.ok()) return address.status();
  return LoopbackListener{*std::move(listener), *address};
}

Task<absl::StatusOr<TlsStream>> AcceptTls(TcpListener* listener, TlsContext context) {
  absl::StatusOr<TcpStream> tcp = co_await listener->Accept();
  if (!tcp.ok()) co_return tcp.status();
  co_return co_await TlsStream::Accept(std::move(context), *std::move(tcp));
}

Task<absl::StatusOr<Handshakes>> HandshakeOverTcp(TlsContext client_context,
                                                  TlsContext server_context,
                                                  std::string server_name) {
  absl::StatusOr<LoopbackListener> loopback = ListenOnLoopback();
  if (!loopback.ok()) co_return loopback.status();
  JoinHandle<absl::StatusOr<TlsStream>> server =
      Spawn(AcceptTls, &loopback->listener, std::move(server_context));
  Handshakes result;
  absl::StatusOr<TcpStream> tcp = co_await TcpStream::Connect(loopback->address, absl::Seconds(5));
  if (!tcp.ok()) co_return tcp.status();
  result.client =
      co_await TlsStream::Connect(std::move(client_context), *std::move(tcp), server_name);
  // A failed client handshake closed its socket, so the server's ends too.
  result.server = co_await std::move(server);
  co_return result;
}

Task<absl::StatusOr<TlsPair>> Connected(TlsContext client_context, TlsContext server_context) {
  absl::StatusOr<Handshakes> handshakes =
      co_await HandshakeOverTcp(std::move(client_context), std::move(server_context), "localhost");
  if (!handshakes.ok()) co_return handshakes.status();
  if (!handshakes->client.ok()) co_return handshakes->client.status();
  if (!handshakes->server.ok()) co_return handshakes->server.status();
  co_return TlsPair{*std::move(handshakes->client), *std::move(handshakes->server)};
}

Task<absl::StatusOr<TlsPair>> Connected() {
  absl::StatusOr<TlsContext> client_context = ClientContext();
  if (!client_context.ok()) co_return client_context.status();
  absl::StatusOr<TlsContext> server_context = ServerContext();
  if (!server_context.ok()) co_return server_context.status();
  co_return co_await Connected(*std::move(client_context), *std::move(server_context));
}

Task<absl::StatusOr<std::string>> ReadToEnd(TlsStream* stream) {
  std::string all;
  std::vector<char> buffer(7000);  // Not a multiple of the record size.
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return all;
    all.append(buffer.data(), *n);
  }
}

std::string Pattern(size_t size) {
  std::string text(size, '\0');
  for (size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return text;
}

}  // namespace coral::testing
