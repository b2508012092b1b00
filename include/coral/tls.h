// Copyright 2026 The coral Authors.
//
// TLS on coral's streams: coral::TlsContext (the configuration: role, certificate and key, trusted
// authorities, ALPN) and coral::TlsStream (a TLS session over a TcpStream or UnixStream), on
// OpenSSL 3. A separate library: depend on //:coral_tls (which links libssl and libcrypto) for
// this header; //:coral links no OpenSSL.
//
//   // Client: trusts the system's authorities; checks the certificate names "example.org".
//   absl::StatusOr<TlsContext> context = TlsContext::Client();
//   absl::StatusOr<TcpStream> tcp = co_await TcpStream::Connect("example.org", 443);
//   absl::StatusOr<TlsStream> tls =
//       co_await TlsStream::Connect(*context, *std::move(tcp), "example.org");
//   absl::Status sent = co_await tls->WriteAll("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
//
//   // Server: one context for every connection.
//   absl::StatusOr<TlsContext> context = TlsContext::Server();
//   absl::Status loaded = context->UseCertificateFiles("cert.pem", "key.pem");
//   absl::StatusOr<TlsStream> tls = co_await TlsStream::Accept(*context, *std::move(accepted));
//
// Every handshake and record is driven by the socket's readiness (OpenSSL reads and writes the
// socket through a BIO of coral's, non-blocking, and the task awaits readiness whenever OpenSSL
// would block): no thread ever blocks in OpenSSL. Protocol versions: TLS 1.2 and 1.3.
//
// Errors are absl::Status values whose message carries OpenSSL's reason:
//   - absl::UnauthenticatedError: the peer's certificate failed verification (an untrusted
//     authority, an expired certificate, a name mismatch: X509_verify_cert_error_string's text);
//   - absl::UnavailableError: the peer closed the connection during the handshake or without
//     close_notify, or the TLS protocol failed (garbage from the peer, no shared version or
//     cipher, a fatal alert): "TLS handshake: wrong version number", and so on;
//   - the socket's own errors (stream_socket.h), as they are;
//   - absl::FailedPreconditionError for every operation after one that left the session failed.
//
// Thread-safety: a TlsContext's configuration calls must finish before it is used by a handshake;
// after that it may be used by any number of handshakes on any threads, and copies of it share
// one OpenSSL context. A TlsStream, like a TcpStream, allows one reader and one writer at a time,
// which may be different tasks (a lock serializes their OpenSSL calls, which never wait).
//
// Misuse (aborts with a message naming it): any operation but valid() and Close() on a moved-from
// or closed TlsStream, destroying or closing one while a task waits on it, a TlsContext method on a
// moved-from TlsContext, a client handshake on a server context or the reverse.

#ifndef CORAL_TLS_H_
#define CORAL_TLS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/stream_socket.h"
#include "coral/task.h"

namespace coral {

namespace internal {
struct TlsContextState;
struct TlsSession;
}  // namespace internal

// What a TLS endpoint presents and trusts. Cheap to copy: copies share one OpenSSL SSL_CTX, and a
// TlsStream keeps the context it was made with alive.
class TlsContext {
 public:
  // A client context: peer verification on, trusting the system's default authorities (Debian's
  // /etc/ssl/certs, loaded once, at the context's first handshake) unless TrustAuthorityFile or
  // TrustAuthorityPem names others.
  static absl::StatusOr<TlsContext> Client();
  // A server context: it needs a certificate (UseCertificateFiles or UseCertificatePem) before
  // its first handshake; it does not ask clients for certificates.
  static absl::StatusOr<TlsContext> Server();

  TlsContext(const TlsContext&) = default;
  TlsContext& operator=(const TlsContext&) = default;
  TlsContext(TlsContext&&) noexcept = default;
  TlsContext& operator=(TlsContext&&) noexcept = default;
  ~TlsContext();

  // The certificate this endpoint presents, with its chain, and its private key, as PEM: files
  // (the certificate file holds the leaf first, then the intermediates), or text. Fails with
  // absl::InvalidArgumentError (OpenSSL's reason in the message) if either does not parse or the
  // key does not match the certificate, absl::NotFoundError if a file cannot be read.
  absl::Status UseCertificateFiles(const std::string& certificate_chain_path,
                                   const std::string& private_key_path);
  absl::Status UseCertificatePem(absl::string_view certificate_chain_pem,
                                 absl::string_view private_key_pem);

  // The authorities whose certificates verify the peer's, instead of the system's defaults: the
  // first call replaces them, later calls add. Errors as UseCertificateFiles.
  absl::Status TrustAuthorityFile(const std::string& path);
  absl::Status TrustAuthorityPem(absl::string_view pem);

  // Accepts any peer certificate, including none that verifies and none that matches the server
  // name: the connection is encrypted but not authenticated. For tests and closed networks only;
  // never the default.
  void DisablePeerVerification();

  // The application protocols offered (client) or accepted (server), most preferred first, such as
  // {"h2", "http/1.1"}. A server picks the first of its own list that the client offers, and
  // answers a client offering none of them without ALPN. Fails with absl::InvalidArgumentError
  // for an empty list, or a name empty or longer than 255 bytes.
  absl::Status SetAlpnProtocols(const std::vector<std::string>& protocols);

  bool is_server() const;

 private:
  friend class TlsStream;
  explicit TlsContext(std::shared_ptr<internal::TlsContextState> state)
      : state_(std::move(state)) {}
  static absl::StatusOr<TlsContext> Create(bool server);
  internal::TlsContextState& Checked(const char* operation) const;

  std::shared_ptr<internal::TlsContextState> state_;
};

// A TLS session over a stream socket (TcpStream, UnixStream: they convert to StreamSocket, and the
// TlsStream owns the socket). Read, Write, WriteAll and Shutdown follow StreamSocket's
// conventions: absl::StatusOr<size_t> byte counts, 0 from Read at the end of the stream.
//
// Cancellation: when the task's token is cancelled while an operation waits for the socket, the
// operation returns absl::CancelledError, and then:
//   - a Read has consumed nothing: the stream stays usable, and a later Read continues where it
//     left off;
//   - a Write or WriteAll, a handshake or a Shutdown may have sent part of a record that only a
//     retry of the same call could finish; coral does not keep the caller's bytes to retry, so
//     the session is failed: every later operation but Close returns
//     absl::FailedPreconditionError naming the cancellation. Bytes a cancelled WriteAll had sent
//     before are not rolled back.
// A task aborted inside an operation is torn down at its wait, with the same effect.
class TlsStream {
 public:
  TlsStream();
  TlsStream(TlsStream&&) noexcept;
  TlsStream& operator=(TlsStream&&) noexcept;
  ~TlsStream();

  // The client handshake over `socket`: sends `server_name` as SNI (unless it is an IP address)
  // and, unless the context disabled verification, checks that the server's certificate chains
  // to a trusted authority, is valid now, and names `server_name` (a DNS name or an IP address).
  // On failure the socket is closed.
  //
  // Cancellation: the handshake ends with absl::CancelledError and the socket is closed.
  [[nodiscard]] static Task<absl::StatusOr<TlsStream>> Connect(TlsContext context,
                                                               StreamSocket socket,
                                                               std::string server_name);
  // The server handshake over an accepted `socket`. On failure the socket is closed.
  //
  // Cancellation: as Connect.
  [[nodiscard]] static Task<absl::StatusOr<TlsStream>> Accept(TlsContext context,
                                                              StreamSocket socket);

  // co_await Read(buffer): absl::StatusOr<size_t>. Decrypted bytes, at most buffer.size(); 0 once
  // the peer has closed the session with close_notify. A peer that closes the connection without
  // close_notify (a truncation an attacker could cause) is absl::UnavailableError.
  //
  // Cancellation: absl::CancelledError, nothing consumed, the stream usable (see the class).
  [[nodiscard]] Task<absl::StatusOr<size_t>> Read(absl::Span<char> buffer);
  // co_await Write(data): absl::StatusOr<size_t>. Encrypts and sends at least one byte of `data`
  // (at most one record, 16 KiB); returns how many.
  //
  // Cancellation: absl::CancelledError, the session failed (see the class).
  [[nodiscard]] Task<absl::StatusOr<size_t>> Write(absl::string_view data);
  // Writes all of `data`.
  //
  // Cancellation: as Write.
  [[nodiscard]] Task<absl::Status> WriteAll(absl::string_view data);
  // Sends close_notify, then shuts down the socket's writing side: the peer reads the end of the
  // stream, and this side can still Read what the peer sends (until its close_notify).
  //
  // Cancellation: as Write.
  [[nodiscard]] Task<absl::Status> Shutdown();

  // The application protocol the handshake agreed on (ALPN), or empty if none.
  absl::string_view alpn_protocol() const;
  // The negotiated protocol version: "TLSv1.3", "TLSv1.2".
  absl::string_view protocol_version() const;
  // The socket underneath (for its addresses, or TcpStream options set before wrapping).
  const StreamSocket& socket() const;

  bool valid() const { return session_ != nullptr; }
  // Closes the socket without close_notify and frees the session. Idempotent.
  void Close();

 private:
  explicit TlsStream(std::unique_ptr<internal::TlsSession> session);
  static Task<absl::StatusOr<TlsStream>> Handshake(TlsContext context, StreamSocket socket,
                                                   std::string server_name, bool client);
  internal::TlsSession& Checked(const char* operation) const;

  // On the heap: OpenSSL's BIO points at it, and a TlsStream moves.
  std::unique_ptr<internal::TlsSession> session_;
};

}  // namespace coral

#endif  // CORAL_TLS_H_
