// Copyright 2026 The coral Authors.
//
// TlsStream on OpenSSL 3. The SSL object's BIO is our own (a "coral socket" BIO method) whose
// read and write are the socket's non-blocking recv and send: EAGAIN clears the fd's recorded
// readiness (as AsyncFd::Io does) and becomes OpenSSL's retry, so an SSL call returns
// SSL_ERROR_WANT_READ / WANT_WRITE instead of blocking, and the driving coroutine (Drive) awaits
// the fd's readiness and calls again. OpenSSL never sees the coroutine; no thread waits in it.
//
// A session's OpenSSL calls run under its lock (one reader and one writer may be in different
// tasks, and an SSL object is not thread-safe); the lock is never held across an await. OpenSSL's
// error queue is thread-local, so each call's errors are read before the lock is released, on the
// same thread, before the task can move.

#include "coral/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coral/async_fd.h"
#include "coral/internal/check.h"
#include "runtime/mutex.h"

namespace coral {
namespace internal {

struct TlsContextState {
  ~TlsContextState() { SSL_CTX_free(ctx); }

  SSL_CTX* ctx = nullptr;
  bool server = false;
  // Whether TrustAuthority* replaced the system's default authorities yet.
  bool custom_trust = false;
  // A client without custom_trust loads the system's authorities (a bundle of over a hundred
  // certificates) at its first handshake, once: a context given its own authorities never does.
  absl::Status LoadDefaultTrust();
  std::once_flag default_trust_once;
  absl::Status default_trust;  // Written inside default_trust_once.
  // The ALPN list in its wire format (length-prefixed names), for a server's selection callback.
  std::string alpn_wire;
};

struct TlsSession {
  TlsSession(TlsContext context_in, StreamSocket socket_in)
      : context(std::move(context_in)), socket(std::move(socket_in)) {}
  ~TlsSession() { SSL_free(ssl); }  // Frees the BIO too.

  // The BIO's calls: the socket's recv and send. Errors other than EAGAIN go to io_error (what
  // OpenSSL reports as SSL_ERROR_SYSCALL). OpenSSL calls them inside an SSL call, which Drive
  // makes under `lock`; the analysis cannot follow it through OpenSSL.
  static int BioRead(BIO* bio, char* data, int size) ABSL_NO_THREAD_SAFETY_ANALYSIS;
  static int BioWrite(BIO* bio, const char* data, int size) ABSL_NO_THREAD_SAFETY_ANALYSIS;
  AsyncFd& fd() { return socket.fd_; }

  TlsContext context;  // Keeps the SSL_CTX alive.
  StreamSocket socket;
  SSL* ssl = nullptr;
  Mutex lock;
  // Not OK once the session failed: returned, as FailedPrecondition, by every later operation.
  absl::Status failed ABSL_GUARDED_BY(lock);
  // The socket error behind the last call's SSL_ERROR_SYSCALL.
  absl::Status io_error ABSL_GUARDED_BY(lock);
};

namespace {

// The text of OpenSSL's queued errors (this thread's), oldest first, and clears the queue.
std::string TakeOpenSslErrors() {
  std::vector<std::string> reasons;
  while (unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    reasons.push_back(reason != nullptr ? reason : absl::StrCat("OpenSSL error ", code));
  }
  if (reasons.empty()) return "unknown OpenSSL error";
  return absl::StrJoin(reasons, "; ");
}

absl::Status InvalidArgument(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", TakeOpenSslErrors()));
}

// A PEM file OpenSSL failed to load: NotFound if it cannot be read at all.
absl::Status FileError(absl::string_view what, const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    const int error = errno;
    ERR_clear_error();
    return absl::NotFoundError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
  }
  return InvalidArgument(absl::StrCat(what, " ", path));
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
BioPtr MemoryBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

long BioControl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;  // Writes are sent at once: nothing to flush.
}

// The BIO method, created once (thread-safe static initialization) and never freed; null if
// OpenSSL ran out of memory (BIO_new then fails, and the handshake with it).
const BIO_METHOD* SocketBioMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "coral socket");
    if (m != nullptr) {
      BIO_meth_set_read(m, &TlsSession::BioRead);
      BIO_meth_set_write(m, &TlsSession::BioWrite);
      BIO_meth_set_ctrl(m, &BioControl);
    }
    return m;
  }();
  return method;
}

int SelectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
               const unsigned char* offered, unsigned int offered_length, void* arg) {
  const auto* state = static_cast<const TlsContextState*>(arg);
  unsigned char* selected = nullptr;
  const int result = SSL_select_next_proto(
      &selected, out_length, reinterpret_cast<const unsigned char*>(state->alpn_wire.data()),
      static_cast<unsigned int>(state->alpn_wire.size()), offered, offered_length);
  if (result != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::Status TlsContextState::LoadDefaultTrust() {
  std::call_once(default_trust_once, [this] {
    ERR_clear_error();
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      default_trust = InvalidArgument("loading the system's trusted authorities");
    }
  });
  return default_trust;
}

int TlsSession::BioRead(BIO* bio, char* data, int size) {
  auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  AsyncFd& fd = session->fd();
  for (;;) {
    const Readiness seen = fd.CurrentReadiness();
    const ssize_t n = recv(fd.fd(), data, static_cast<size_t>(size), 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      fd.ClearReady(seen, Interest::kRead);
      BIO_set_retry_read(bio);
      return -1;
    }
    session->io_error = ErrnoStatus(errno, "recv");
    return -1;
  }
}

int TlsSession::BioWrite(BIO* bio, const char* data, int size) {
  auto* session = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  AsyncFd& fd = session->fd();
  for (;;) {
    const Readiness seen = fd.CurrentReadiness();
    const ssize_t n = send(fd.fd(), data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      fd.ClearReady(seen, Interest::kWrite);
      BIO_set_retry_write(bio);
      return -1;
    }
    session->io_error = ErrnoStatus(errno, "send");
    return -1;
  }
}

namespace {

// What an SSL call that returned `result` <= 0 means: the retry it wants, the clean end of the
// peer's side, or the error as a status.
enum class Outcome { kWantRead, kWantWrite, kClosed, kFailed };

Outcome Classify(TlsSession& session, int result, const char* operation, absl::Status* error)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(session.lock) {
  const int code = SSL_get_error(session.ssl, result);
  switch (code) {
    case SSL_ERROR_WANT_READ:
      return Outcome::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Outcome::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Outcome::kClosed;
    case SSL_ERROR_SYSCALL:
      if (!session.io_error.ok()) {
        *error = session.io_error;
      } else {
        *error = absl::UnavailableError(
            absl::StrCat(operation, ": the peer closed the connection without close_notify"));
      }
      ERR_clear_error();
      return Outcome::kFailed;
    default:
      break;
  }
  const unsigned long first = ERR_peek_error();
  if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
      ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    const long verify = SSL_get_verify_result(session.ssl);
    ERR_clear_error();
    *error = absl::UnauthenticatedError(absl::StrCat(
        operation,
        ": the peer's certificate failed verification: ", X509_verify_cert_error_string(verify)));
    return Outcome::kFailed;
  }
  if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
      ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    ERR_clear_error();
    *error = absl::UnavailableError(
        absl::StrCat(operation, ": the peer closed the connection without close_notify"));
    return Outcome::kFailed;
  }
  *error = absl::UnavailableError(absl::StrCat(operation, ": ", TakeOpenSslErrors()));
  return Outcome::kFailed;
}

// Runs `call` (an SSL function of the session returning > 0 on success) until it succeeds,
// awaiting the socket's readiness whenever OpenSSL wants it. Returns the call's result, 0 for
// the peer's close_notify, or the error; every error but a cancelled Read (`cancel_keeps` true)
// fails the session.
template <typename Call>
Task<absl::StatusOr<int>> Drive(TlsSession* session, Call call, const char* operation,
                                bool cancel_keeps) {
  for (;;) {
    Outcome outcome;
    absl::Status error;
    {
      MutexLock hold(&session->lock);
      if (!session->failed.ok()) {
        co_return absl::FailedPreconditionError(absl::StrCat(
            operation, ": the TLS session failed earlier: ", session->failed.ToString()));
      }
      ERR_clear_error();
      session->io_error = absl::OkStatus();
      const int result = call(session->ssl);
      if (result > 0) co_return result;
      outcome = Classify(*session, result, operation, &error);
      if (outcome == Outcome::kFailed) session->failed = error;
    }
    if (outcome == Outcome::kClosed) co_return 0;
    if (outcome == Outcome::kFailed) co_return error;
    // Two awaits, not one conditional expression: gcc 12 miscompiles co_await inside ?:.
    absl::Status waited;
    if (outcome == Outcome::kWantRead) {
      absl::StatusOr<Readiness> ready = co_await session->fd().Readable();
      waited = ready.status();
    } else {
      absl::StatusOr<Readiness> ready = co_await session->fd().Writable();
      waited = ready.status();
    }
    if (!waited.ok()) {
      if (!(cancel_keeps && absl::IsCancelled(waited))) {
        MutexLock hold(&session->lock);
        if (session->failed.ok()) session->failed = waited;
      }
      co_return waited;
    }
  }
}

}  // namespace
}  // namespace internal

// TlsContext.

absl::StatusOr<TlsContext> TlsContext::Create(bool server) {
  ERR_clear_error();
  auto state = std::make_shared<internal::TlsContextState>();
  state->server = server;
  state->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (state->ctx == nullptr) return internal::InvalidArgument("SSL_CTX_new");
  SSL_CTX* ctx = state->ctx;
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return internal::InvalidArgument("SSL_CTX_set_min_proto_version");
  }
  // Write's contract, as a socket's: a partial write returns what was sent, and the caller passes
  // the rest later, possibly from another address.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!server) SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return TlsContext(std::move(state));
}

absl::StatusOr<TlsContext> TlsContext::Client() { return Create(/*server=*/false); }
absl::StatusOr<TlsContext> TlsContext::Server() { return Create(/*server=*/true); }

TlsContext::~TlsContext() = default;

internal::TlsContextState& TlsContext::Checked(const char* operation) const {
  CORAL_CHECK(state_ != nullptr, operation);
  return *state_;
}

bool TlsContext::is_server() const {
  return Checked("TlsContext::is_server on a moved-from coral::TlsContext").server;
}

absl::Status TlsContext::UseCertificateFiles(const std::string& certificate_chain_path,
                                             const std::string& private_key_path) {
  SSL_CTX* ctx = Checked("TlsContext::UseCertificateFiles on a moved-from coral::TlsContext").ctx;
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate_chain_path.c_str()) != 1) {
    return internal::FileError("loading the certificate chain", certificate_chain_path);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, private_key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return internal::FileError("loading the private key", private_key_path);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return internal::InvalidArgument("the private key does not match the certificate");
  }
  return absl::OkStatus();
}

absl::Status TlsContext::UseCertificatePem(absl::string_view certificate_chain_pem,
                                           absl::string_view private_key_pem) {
  SSL_CTX* ctx = Checked("TlsContext::UseCertificatePem on a moved-from coral::TlsContext").ctx;
  ERR_clear_error();
  internal::BioPtr chain = internal::MemoryBio(certificate_chain_pem);
  X509* leaf = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) return internal::InvalidArgument("parsing the certificate");
  const int used = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (used != 1) return internal::InvalidArgument("using the certificate");
  if (SSL_CTX_clear_chain_certs(ctx) != 1) {
    return internal::InvalidArgument("clearing the certificate chain");
  }
  while (X509* intermediate = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, intermediate) != 1) {  // Takes ownership on success.
      X509_free(intermediate);
      return internal::InvalidArgument("adding an intermediate certificate");
    }
  }
  ERR_clear_error();  // The end of the PEM text reads as a "no start line" error.
  internal::BioPtr key_text = internal::MemoryBio(private_key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_text.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return internal::InvalidArgument("parsing the private key");
  const int key_used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (key_used != 1) return internal::InvalidArgument("using the private key");
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return internal::InvalidArgument("the private key does not match the certificate");
  }
  return absl::OkStatus();
}

namespace {

// The first TrustAuthority* call replaces the system's default authorities with an empty store.
X509_STORE* TrustStore(internal::TlsContextState& state) {
  if (!state.custom_trust) {
    SSL_CTX_set_cert_store(state.ctx, X509_STORE_new());  // Frees the previous store.
    state.custom_trust = true;
  }
  return SSL_CTX_get_cert_store(state.ctx);
}

}  // namespace

absl::Status TlsContext::TrustAuthorityFile(const std::string& path) {
  internal::TlsContextState& state =
      Checked("TlsContext::TrustAuthorityFile on a moved-from coral::TlsContext");
  ERR_clear_error();
  if (X509_STORE_load_file(TrustStore(state), path.c_str()) != 1) {
    return internal::FileError("loading the trusted authorities", path);
  }
  return absl::OkStatus();
}

absl::Status TlsContext::TrustAuthorityPem(absl::string_view pem) {
  internal::TlsContextState& state =
      Checked("TlsContext::TrustAuthorityPem on a moved-from coral::TlsContext");
  ERR_clear_error();
  internal::BioPtr text = internal::MemoryBio(pem);
  X509_STORE* store = TrustStore(state);
  int added = 0;
  while (X509* authority = PEM_read_bio_X509(text.get(), nullptr, nullptr, nullptr)) {
    const int ok = X509_STORE_add_cert(store, authority);  // Takes its own reference.
    X509_free(authority);
    if (ok != 1) return internal::InvalidArgument("adding a trusted authority");
    ++added;
  }
  if (added == 0) return internal::InvalidArgument("parsing the trusted authorities");
  ERR_clear_error();
  return absl::OkStatus();
}

void TlsContext::DisablePeerVerification() {
  SSL_CTX_set_verify(
      Checked("TlsContext::DisablePeerVerification on a moved-from coral::TlsContext").ctx,
      SSL_VERIFY_NONE, nullptr);
}

absl::Status TlsContext::SetAlpnProtocols(const std::vector<std::string>& protocols) {
  internal::TlsContextState& state =
      Checked("TlsContext::SetAlpnProtocols on a moved-from coral::TlsContext");
  if (protocols.empty()) return absl::InvalidArgumentError("SetAlpnProtocols: an empty list");
  std::string wire;
  for (const std::string& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("SetAlpnProtocols: a name must have 1 to 255 bytes: \"", protocol, "\""));
    }
    wire.push_back(static_cast<char>(protocol.size()));
    wire += protocol;
  }
  state.alpn_wire = std::move(wire);
  if (state.server) {
    SSL_CTX_set_alpn_select_cb(state.ctx, &internal::SelectAlpn, &state);
    return absl::OkStatus();
  }
  ERR_clear_error();
  // Returns 0 on success, unlike the rest of OpenSSL.
  if (SSL_CTX_set_alpn_protos(state.ctx,
                              reinterpret_cast<const unsigned char*>(state.alpn_wire.data()),
                              static_cast<unsigned int>(state.alpn_wire.size())) != 0) {
    return internal::InvalidArgument("SSL_CTX_set_alpn_protos");
  }
  return absl::OkStatus();
}

// TlsStream.

TlsStream::TlsStream() = default;
TlsStream::TlsStream(std::unique_ptr<internal::TlsSession> session)
    : session_(std::move(session)) {}
TlsStream::TlsStream(TlsStream&&) noexcept = default;
TlsStream& TlsStream::operator=(TlsStream&& other) noexcept {
  if (this != &other) {
    Close();
    session_ = std::move(other.session_);
  }
  return *this;
}
TlsStream::~TlsStream() { Close(); }

void TlsStream::Close() {
  // Closing the socket aborts if a task waits on it (AsyncFd's misuse check), before the session
  // it would resume into is freed.
  if (session_ != nullptr) session_->socket.Close();
  session_.reset();
}

internal::TlsSession& TlsStream::Checked(const char* operation) const {
  CORAL_CHECK(session_ != nullptr, operation);
  return *session_;
}

Task<absl::StatusOr<TlsStream>> TlsStream::Connect(TlsContext context, StreamSocket socket,
                                                   std::string server_name) {
  CORAL_CHECK(!context.Checked("TlsStream::Connect with a moved-from coral::TlsContext").server,
              "TlsStream::Connect (a client handshake) with a server coral::TlsContext");
  return Handshake(std::move(context), std::move(socket), std::move(server_name),
                   /*client=*/true);
}

Task<absl::StatusOr<TlsStream>> TlsStream::Accept(TlsContext context, StreamSocket socket) {
  CORAL_CHECK(context.Checked("TlsStream::Accept with a moved-from coral::TlsContext").server,
              "TlsStream::Accept (a server handshake) with a client coral::TlsContext");
  return Handshake(std::move(context), std::move(socket), std::string(), /*client=*/false);
}

Task<absl::StatusOr<TlsStream>> TlsStream::Handshake(TlsContext context, StreamSocket socket,
                                                     std::string server_name, bool client) {
  CORAL_CHECK(socket.valid(), "a TLS handshake over a closed or moved-from coral::StreamSocket");
  internal::TlsContextState& state = *context.state_;
  if (client && !state.custom_trust) {
    absl::Status trust = state.LoadDefaultTrust();
    if (!trust.ok()) co_return trust;
  }
  SSL_CTX* ctx = state.ctx;
  auto session = std::make_unique<internal::TlsSession>(std::move(context), std::move(socket));
  ERR_clear_error();
  session->ssl = SSL_new(ctx);
  if (session->ssl == nullptr) co_return internal::InvalidArgument("SSL_new");
  BIO* bio = BIO_new(internal::SocketBioMethod());
  if (bio == nullptr) co_return internal::InvalidArgument("BIO_new");
  BIO_set_data(bio, session.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(session->ssl, bio, bio);  // The SSL owns the BIO (one reference for both ends).
  if (client) {
    SSL_set_connect_state(session->ssl);
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(server_name.c_str());
    if (ip != nullptr) {
      // An IP address: checked against the certificate's IP entries, and never sent as SNI.
      ASN1_OCTET_STRING_free(ip);
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session->ssl), server_name.c_str()) != 1) {
        co_return internal::InvalidArgument("setting the expected IP address");
      }
    } else {
      ERR_clear_error();
      if (SSL_set_tlsext_host_name(session->ssl, server_name.c_str()) != 1 ||
          SSL_set1_host(session->ssl, server_name.c_str()) != 1) {
        co_return internal::InvalidArgument(absl::StrCat("the server name \"", server_name, "\""));
      }
    }
  } else {
    SSL_set_accept_state(session->ssl);
  }
  absl::StatusOr<int> done =
      co_await internal::Drive(session.get(), &SSL_do_handshake, "TLS handshake",
                               /*cancel_keeps=*/false);
  if (!done.ok()) co_return done.status();
  if (*done == 0) {
    co_return absl::UnavailableError("TLS handshake: the peer closed the session");
  }
  co_return TlsStream(std::move(session));
}

Task<absl::StatusOr<size_t>> TlsStream::Read(absl::Span<char> buffer) {
  internal::TlsSession& session =
      Checked("TlsStream::Read on a closed or moved-from coral::TlsStream");
  if (buffer.empty()) co_return 0;
  const int size = static_cast<int>(std::min<size_t>(buffer.size(), 1 << 30));
  absl::StatusOr<int> n = co_await internal::Drive(
      &session, [&](SSL* ssl) { return SSL_read(ssl, buffer.data(), size); }, "TLS read",
      /*cancel_keeps=*/true);
  if (!n.ok()) co_return n.status();
  co_return static_cast<size_t>(*n);
}

Task<absl::StatusOr<size_t>> TlsStream::Write(absl::string_view data) {
  internal::TlsSession& session =
      Checked("TlsStream::Write on a closed or moved-from coral::TlsStream");
  if (data.empty()) co_return 0;
  const int size = static_cast<int>(std::min<size_t>(data.size(), 1 << 30));
  absl::StatusOr<int> n = co_await internal::Drive(
      &session, [&](SSL* ssl) { return SSL_write(ssl, data.data(), size); }, "TLS write",
      /*cancel_keeps=*/false);
  if (!n.ok()) co_return n.status();
  if (*n == 0) {
    co_return absl::FailedPreconditionError("TLS write: the session was closed");
  }
  co_return static_cast<size_t>(*n);
}

Task<absl::Status> TlsStream::WriteAll(absl::string_view data) {
  Checked("TlsStream::WriteAll on a closed or moved-from coral::TlsStream");
  while (!data.empty()) {
    absl::StatusOr<size_t> n = co_await Write(data);
    if (!n.ok()) co_return n.status();
    data.remove_prefix(*n);
  }
  co_return absl::OkStatus();
}

Task<absl::Status> TlsStream::Shutdown() {
  internal::TlsSession& session =
      Checked("TlsStream::Shutdown on a closed or moved-from coral::TlsStream");
  // SSL_shutdown returns 0 once close_notify is sent (1 if the peer's came first): either is done
  // for this side; waiting for the peer's is Read's business.
  absl::StatusOr<int> sent = co_await internal::Drive(
      &session, [](SSL* ssl) { return SSL_shutdown(ssl) >= 0 ? 1 : -1; }, "TLS shutdown",
      /*cancel_keeps=*/false);
  if (!sent.ok()) co_return sent.status();
  co_return session.socket.ShutdownWrite();
}

absl::string_view TlsStream::alpn_protocol() const {
  internal::TlsSession& session =
      Checked("TlsStream::alpn_protocol on a closed or moved-from coral::TlsStream");
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(session.ssl, &name, &length);
  return absl::string_view(reinterpret_cast<const char*>(name), length);
}

absl::string_view TlsStream::protocol_version() const {
  return SSL_get_version(
      Checked("TlsStream::protocol_version on a closed or moved-from coral::TlsStream").ssl);
}

const StreamSocket& TlsStream::socket() const {
  return Checked("TlsStream::socket on a closed or moved-from coral::TlsStream").socket;
}

}  // namespace coral
