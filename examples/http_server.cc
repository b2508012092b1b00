// Copyright 2026 The coral Authors.
//
// http_server [flags] [--tls CERT KEY] PORT: an HTTP/1.1 service on coral, the HTTP server contract
// of
// ../shared/peers/WORKLOADS.md (GET /plaintext, GET /json, 404 for anything else; what each
// response holds is in examples/http_session.h). Listens on 127.0.0.1:PORT (0: any free port;
// the first line of stdout names it) on a 2-worker runtime.
//
// One task per connection, looping: read what has arrived into the connection's buffer, let its
// HttpSession answer every complete request in it (pipelined requests are answered in order),
// and write all those answers in one write. The read buffer, the output buffer and the parser
// live as long as the connection, so serving a request allocates nothing. Keep-alive is the
// default; the connection ends when the client closes it, asks for it (Connection: close), sends
// a malformed request (400) or oversized headers (431), takes longer than --idle_timeout to send
// its next request (whether it sends nothing or trickles it in), or reads nothing of its
// responses for as long (its write stalls).
//
// One more task, the ticker, runs on a coral::Interval: it publishes the current second, from
// which each connection formats its Date header once a second (not once per request), and it
// cancels the connections that have waited for a request, or for a write to make progress, longer
// than --idle_timeout. Those checks cost a connection a few atomic stores per read and write
// rather than a timer per read.
//
// --tls CERT KEY serves HTTPS instead (coral::TlsStream; CERT holds the certificate chain and KEY
// the private key, both PEM): the handshake counts as waiting for a request, so the idle timeout
// bounds it too.
//
// SIGINT or SIGTERM (a coral::SignalListener) shuts the service down gracefully: it stops
// accepting, closes every connection that is waiting for a request, lets the others finish the
// requests they have received, and cancels whatever is left after --drain_timeout; then exits 0.
//
//   bazel/bazelw build //examples:http_server && bazel-bin/examples/http_server 8080
//   curl http://127.0.0.1:8080/json
//   bazel-bin/examples/http_server --tls cert.pem key.pem 8443 & curl -k
//   https://127.0.0.1:8443/json

#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/interval.h"
#include "coral/runtime.h"
#include "coral/signal.h"
#include "coral/task_group.h"
#include "coral/tcp.h"
#include "coral/tls.h"
#include "examples/annotated_mutex.h"
#include "examples/http_session.h"

ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(60),
          "close a connection that has waited this long for a (whole) request, or for a write to "
          "make progress (inf: never)");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(3),
          "how long a shutdown waits for the connections to finish their requests");
ABSL_FLAG(int, max_header_bytes, 8192, "limit on a request's URL, header names and values");
ABSL_FLAG(int, max_headers, 64, "limit on a request's header count");
ABSL_FLAG(int, workers, 2, "worker threads");

namespace coral::examples {
namespace {

// Bytes one read takes: 16 pipelined wrk requests are about 640 bytes.
constexpr size_t kReadSize = 4096;
// A client that goes on sending after the server closed its side gets at most this much read and
// thrown away, so that the close is not a reset that destroys the last response in flight.
constexpr size_t kLingerBytes = 64 * 1024;

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// What the ticker knows of one connection.
struct Watched {
  static constexpr int64_t kNotWaiting = INT64_MAX;

  explicit Watched(const CancellationToken& parent) : stop(parent) {}

  CancellationSource stop;  // The connection task runs under its token.
  // The tick at which the connection began waiting for a request, or kNotWaiting.
  std::atomic<int64_t> idle_since{kNotWaiting};
  // The tick since which its write has made no progress (the client reads nothing), or
  // kNotWaiting.
  std::atomic<int64_t> stalled_since{kNotWaiting};
  size_t answered = 0;  // Written by the connection task only.
};

class Server {
 public:
  // `idle_timeout` is positive (infinite: no idle timeout). The ticker ticks 4 times per idle
  // timeout (at most every 500 ms, for the Date), so a connection is closed between 1 and 1.25
  // idle timeouts after its last request.
  Server(absl::Duration idle_timeout, HttpLimits limits)
      : limits_(limits),
        period_(
            std::max(absl::Milliseconds(1), std::min(absl::Milliseconds(500), idle_timeout / 4))),
        idle_ticks_(
            idle_timeout == absl::InfiniteDuration()
                ? Watched::kNotWaiting
                : static_cast<int64_t>(std::ceil(absl::FDivDuration(idle_timeout, period_)))),
        second_(absl::ToUnixSeconds(absl::Now())) {}

  const HttpLimits& limits() const { return limits_; }
  // The current Unix second, as of the last tick.
  int64_t second() const {
    // Relaxed: a connection needs the value, not anything written before it.
    return second_.load(std::memory_order_relaxed);
  }

  // Watches `connection` while this lives (also if the connection's task is torn down).
  class Registration {
   public:
    Registration(Server* server, Watched* connection) : server_(server), connection_(connection) {
      MutexLock lock(&server_->mu_);
      server_->connections_.insert(connection_);
      ++server_->accepted_;
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() {
      MutexLock lock(&server_->mu_);
      server_->connections_.erase(connection_);
      server_->answered_ += connection_->answered;
    }

   private:
    Server* const server_;
    Watched* const connection_;
  };

  // Before a connection waits for a request, or for the rest of one: false if the service is
  // draining (then the connection closes instead). The clock starts at the first wait and runs
  // until StopWaiting, so a request trickled in byte by byte gets no longer than an idle one.
  // Paired with Drain: either this sees the drain, or Drain sees the connection waiting and
  // cancels it (both the store, or the earlier one, and the loads are seq_cst, so they cannot both
  // miss each other).
  bool StartWaiting(Watched* connection) {
    // Relaxed load: only this connection's task writes idle_since.
    if (connection->idle_since.load(std::memory_order_relaxed) == Watched::kNotWaiting) {
      connection->idle_since.store(tick_.load(std::memory_order_relaxed));
    }
    return !draining_.load();
  }
  void StopWaiting(Watched* connection) {
    // Relaxed: a tick that still sees the connection waiting may cancel it as idle, which is the
    // same race as a request arriving just as the timeout passes; nothing else depends on it.
    connection->idle_since.store(Watched::kNotWaiting, std::memory_order_relaxed);
  }
  // Around a write, and after each part of it: a write that makes no progress for the idle
  // timeout is cancelled like an idle wait (but not by the drain, which lets writes finish).
  // Relaxed, as StopWaiting.
  void WriteProgress(Watched* connection) {
    connection->stalled_since.store(tick_.load(std::memory_order_relaxed),
                                    std::memory_order_relaxed);
  }
  void WriteDone(Watched* connection) {
    connection->stalled_since.store(Watched::kNotWaiting, std::memory_order_relaxed);
  }

  // The ticker: publishes the second for the Date headers and cancels the connections that have
  // been idle or stalled in a write for the idle timeout, until cancelled.
  Task<void> RunTicker() {
    Interval interval(period_);
    while ((co_await interval.Tick()).ok()) {
      second_.store(absl::ToUnixSeconds(absl::Now()), std::memory_order_relaxed);
      // Only this task writes tick_; relaxed, as a connection only copies it (see StartWaiting).
      const int64_t now = tick_.load(std::memory_order_relaxed) + 1;
      tick_.store(now, std::memory_order_relaxed);
      MutexLock lock(&mu_);
      for (Watched* connection : connections_) {
        const int64_t since = std::min(connection->idle_since.load(std::memory_order_relaxed),
                                       connection->stalled_since.load(std::memory_order_relaxed));
        if (since != Watched::kNotWaiting && now - since > idle_ticks_) connection->stop.Cancel();
      }
    }
  }

  // Starts the drain: the connections waiting for a request are cancelled, the others close
  // before their next wait (StartWaiting). Returns how many connections were open.
  size_t Drain() {
    draining_.store(true);
    MutexLock lock(&mu_);
    for (Watched* connection : connections_) {
      if (connection->idle_since.load() != Watched::kNotWaiting) connection->stop.Cancel();
    }
    return connections_.size();
  }

  std::string Summary() {
    MutexLock lock(&mu_);
    return absl::StrCat(accepted_, " connections served, ", answered_, " requests answered");
  }

 private:
  const HttpLimits limits_;
  const absl::Duration period_;
  const int64_t idle_ticks_;  // Whole periods a connection may wait.
  std::atomic<int64_t> second_;
  std::atomic<int64_t> tick_{0};
  std::atomic<bool> draining_{false};
  Mutex mu_;
  std::unordered_set<Watched*> connections_ ABSL_GUARDED_BY(mu_);
  size_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  size_t answered_ ABSL_GUARDED_BY(mu_) = 0;
};

// The Date header's value (RFC 9110's IMF-fixdate), formatted when the second changes.
class DateCache {
 public:
  absl::string_view Get(int64_t second) {
    if (second != second_) {
      second_ = second;
      const std::time_t t = static_cast<std::time_t>(second);
      std::tm utc;
      gmtime_r(&t, &utc);
      length_ = std::strftime(text_.data(), text_.size(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
    }
    return absl::string_view(text_.data(), length_);
  }

 private:
  int64_t second_ = -1;
  size_t length_ = 0;
  std::array<char, 32> text_;
};

// Shuts down the writing side: the client reads the end of the stream (after TLS's close_notify).
Task<absl::Status> ShutdownWrite(TcpStream* stream) { co_return stream->ShutdownWrite(); }
Task<absl::Status> ShutdownWrite(TlsStream* stream) { return stream->Shutdown(); }

// The conversation of one connection (a TcpStream or a TlsStream), under its Watched token.
template <typename Stream>
Task<void> Converse(Stream* stream, Server* server, Watched* watched) {
  HttpSession session(server->limits());
  std::array<char, kReadSize> input;
  std::string output;
  output.reserve(kReadSize);
  DateCache date;
  for (;;) {
    if (!server->StartWaiting(watched)) break;
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(input));
    if (!n.ok() || *n == 0) co_return;  // Closed, failed, idle or drained.
    output.clear();
    const bool go_on =
        session.Consume(absl::string_view(input.data(), *n), date.Get(server->second()), &output);
    // Until a request is complete, its clock goes on (also while a "100 Continue" is written).
    if (session.answered() != watched->answered) {
      server->StopWaiting(watched);
      watched->answered = session.answered();
    }
    if (output.empty() && go_on) continue;
    // The write, inline: a task per write would cost an allocation per request.
    for (absl::string_view rest = output; !rest.empty();) {
      server->WriteProgress(watched);
      absl::StatusOr<size_t> written = co_await stream->Write(rest);
      if (!written.ok()) co_return;
      rest.remove_prefix(*written);
    }
    server->WriteDone(watched);
    if (!go_on) break;
  }
  // This side ends the connection: say so, then read until the client closes (a bounded amount,
  // and the wait counts as idle), so that the close does not reset the connection under the last
  // response.
  const absl::Status shut_down = co_await ShutdownWrite(stream);
  if (shut_down.ok()) {
    size_t discarded = 0;
    while (discarded < kLingerBytes) {
      (void)server->StartWaiting(watched);
      absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(input));
      if (!n.ok() || *n == 0) break;
      discarded += *n;
    }
  }
}

// With `tls`, first the TLS handshake, which waits for the client as a request does.
Task<void> Serve(TcpStream stream, Server* server, Watched* watched, const TlsContext* tls) {
  if (tls == nullptr) {
    co_await Converse(&stream, server, watched);
    co_return;
  }
  if (!server->StartWaiting(watched)) co_return;
  absl::StatusOr<TlsStream> tls_stream = co_await TlsStream::Accept(*tls, std::move(stream));
  server->StopWaiting(watched);
  if (tls_stream.ok()) co_await Converse(&*tls_stream, server, watched);
}

Task<void> ServeConnection(TcpStream stream, Server* server, const TlsContext* tls) {
  Watched watched(CurrentCancellationToken());
  const Server::Registration registration(server, &watched);
  co_await WithCancellation(watched.stop.token(), Serve(std::move(stream), server, &watched, tls));
}

Task<void> AcceptConnections(TcpListener listener, TaskGroup* connections, Server* server,
                             const TlsContext* tls) {
  for (;;) {
    absl::StatusOr<TcpStream> stream = co_await listener.Accept();
    if (absl::IsCancelled(stream.status())) break;
    if (!stream.ok()) continue;  // The client went away before accept; Accept handles EMFILE.
    (void)stream->SetNoDelay(true);
    connections->Spawn(ServeConnection, *std::move(stream), server, tls);
  }
}

Task<absl::Status> Run(TcpListener listener, SignalListener* signals, Server* server,
                       const TlsContext* tls, absl::Duration drain_timeout) {
  TaskGroup ticker;
  ticker.Spawn([server] { return server->RunTicker(); });
  TaskGroup connections(TaskGroup::OnFailure::kKeepGoing);
  absl::StatusOr<int> signal;
  {
    CancellationSource accepting(connections.token());
    connections.Spawn([&listener, &connections, server, tls, token = accepting.token()] {
      return WithCancellation(token,
                              AcceptConnections(std::move(listener), &connections, server, tls));
    });
    signal = co_await signals->Next();
    accepting.Cancel();  // The accept loop ends, and its listener closes with it.
    const size_t open = server->Drain();
    if (signal.ok()) {
      Say(absl::StrCat("received ", *signal == SIGTERM ? "SIGTERM" : "SIGINT", ": draining ", open,
                       " connections"));
    }
  }
  const CancellationSource deadline = CancellationSource::WithDeadline(Now() + drain_timeout);
  {
    CancellationCallback cut_off(deadline.token(), [&connections] { connections.Cancel(); });
    (void)co_await connections.Join();
  }
  ticker.Cancel();
  (void)co_await ticker.Join();
  Say(absl::StrCat("shutdown: ", server->Summary()));
  co_return signal.status();
}

}  // namespace
}  // namespace coral::examples

namespace {

// An HTTPS server's TLS context, from --tls CERT KEY.
absl::StatusOr<coral::TlsContext> MakeTlsContext(const std::string& certificate,
                                                 const std::string& key) {
  absl::StatusOr<coral::TlsContext> context = coral::TlsContext::Server();
  if (!context.ok()) return context.status();
  if (absl::Status loaded = context->UseCertificateFiles(certificate, key); !loaded.ok()) {
    return loaded;
  }
  if (absl::Status alpn = context->SetAlpnProtocols({"http/1.1"}); !alpn.ok()) return alpn;
  return context;
}

}  // namespace

int main(int argc, char** argv) {
  // --tls takes two values, which Abseil's flags cannot: it is taken out before they are parsed.
  std::vector<char*> flag_args;
  std::optional<std::pair<std::string, std::string>> tls_files;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) != "--tls") {
      flag_args.push_back(argv[i]);
    } else if (i + 2 < argc) {
      tls_files.emplace(argv[i + 1], argv[i + 2]);
      i += 2;
    } else {
      flag_args.clear();  // A usage error.
      break;
    }
  }
  std::vector<char*> args =
      flag_args.empty()
          ? std::vector<char*>()
          : absl::ParseCommandLine(static_cast<int>(flag_args.size()), flag_args.data());
  uint32_t port;
  if (args.size() != 2 || !absl::SimpleAtoi(args[1], &port) || port > 65535) {
    std::fprintf(stderr, "usage: %s [flags] [--tls CERT KEY] PORT\n", argv[0]);
    return 2;
  }
  std::optional<coral::TlsContext> tls;
  if (tls_files) {
    absl::StatusOr<coral::TlsContext> context = MakeTlsContext(tls_files->first, tls_files->second);
    if (!context.ok()) {
      std::fprintf(stderr, "http_server: --tls: %s\n", context.status().ToString().c_str());
      return 1;
    }
    tls.emplace(*std::move(context));
  }
  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(static_cast<uint16_t>(port)));
  if (!listener.ok()) {
    std::fprintf(stderr, "http_server: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  // Before the port is announced: from here on, SIGINT and SIGTERM are events, not deaths.
  absl::StatusOr<coral::SignalListener> signals = coral::SignalListener::Create({SIGINT, SIGTERM});
  if (!signals.ok()) {
    std::fprintf(stderr, "http_server: %s\n", signals.status().ToString().c_str());
    return 1;
  }
  if (absl::GetFlag(FLAGS_idle_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_max_header_bytes) <= 0 || absl::GetFlag(FLAGS_max_headers) <= 0) {
    std::fprintf(stderr, "http_server: --idle_timeout and the limits must be positive\n");
    return 2;
  }
  coral::examples::Say(absl::StrCat("listening on ", listener->LocalAddress()->ToString()));
  coral::examples::Server server(
      absl::GetFlag(FLAGS_idle_timeout),
      {.max_header_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_header_bytes)),
       .max_headers = absl::GetFlag(FLAGS_max_headers)});
  absl::Status status;
  {
    coral::Runtime runtime({.num_workers = absl::GetFlag(FLAGS_workers)});
    status = runtime.BlockOn(coral::examples::Run(*std::move(listener), &*signals, &server,
                                                  tls ? &*tls : nullptr,
                                                  absl::GetFlag(FLAGS_drain_timeout)));
  }
  if (!status.ok()) {
    std::fprintf(stderr, "http_server: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
