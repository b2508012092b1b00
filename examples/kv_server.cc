// Copyright 2026 The coral Authors.
//
// kv_server: a Redis-protocol (RESP2) key-value server on coral, which redis-cli and
// redis-benchmark drive as they drive redis-server.
//
//   bazel/bazelw build //examples:kv_server && bazel-bin/examples/kv_server 6379
//   redis-cli -p 6379 SET greeting hello        (PORT 0: any free port, printed)
//
// The commands are in kv_commands.h, the protocol in kv_resp.h, the data in kv_store.h. The
// server listens on 127.0.0.1:PORT with --workers coral workers (2, as the peer benchmarks run).
//
// A connection is one task of the server's TaskGroup, with a TaskGroup of its own: the task runs
// the request loop itself, under its group's token, and the group runs the connection's idle
// watchdog (--idle_timeout). The loop answers every whole request already
// buffered (pipelined requests in order, their replies appended to one buffer), sends that buffer
// in one write (awaited in place: no copy, no coroutine frame), and reads more. So a batch of
// pipelined requests costs one read and one write system call, however many requests it holds
// (one write per 64 KiB of replies, when they are larger: replies are not accumulated without
// bound). Requests are read through a coral::BufferedReader holding at most --max_request_bytes: a
// larger request is refused with an error reply and the connection closed, as is malformed input
// (Redis closes on protocol errors too); errors of a command (wrong arguments, unknown command)
// only get an error reply. The watchdog fails, and so cancels the connection's group and the loop
// under it, once a whole --idle_timeout went by without a read or a write (Redis's `timeout`): an
// idle connection is closed after between one and two timeouts. The loop, when it ends, cancels
// the watchdog.
//
// Shutdown. On SIGINT or SIGTERM (received as events through coral::SignalListener) the server
// stops accepting, stops reading, answers the requests it has already read, and closes each
// connection; connections still busy after --drain_timeout are cut off (the server's group is
// cancelled, and with it every connection's). Then it exits 0. Tokens: the accept loop and the
// expiry task wait under `drain`, a child of the server group's token; a connection reads under
// `reads`, a child of its own group's token that the drain cancels too, and writes under its
// group's token, which only the drain deadline or its watchdog cancels.
//
// Expiry: keys with a deadline are dead as soon as it passes (checked on every access), and a
// task on a coral::Interval frees those nobody touches, every 100 ms.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/buffered_reader.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/interval.h"
#include "coral/runtime.h"
#include "coral/signal.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/tcp.h"
#include "examples/kv_commands.h"
#include "examples/kv_resp.h"
#include "examples/kv_store.h"

ABSL_FLAG(int, workers, 2, "coral worker threads");
ABSL_FLAG(int64_t, max_request_bytes, 8 << 20,
          "the largest request accepted (a command with its arguments, as sent)");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(2),
          "how long a shutdown waits for connections to finish answering");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Minutes(5),
          "close a connection after this long without a read or a write (0: never)");

namespace {

struct Server {
  kv::Store store;
  kv::RespLimits limits;
  size_t max_request_bytes = 0;
  absl::Duration idle_timeout;
};

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// The replies a connection builds before it sends them. Requests are bounded by the read buffer,
// but not the replies they ask for (a batch of GETs of one large value): past this much, the
// connection sends what it has before it answers the rest of the batch.
constexpr size_t kMaxPendingReplies = 64 * 1024;

// The connection's reads and writes so far, for its watchdog. relaxed: the watchdog only compares
// two readings of the count; it orders nothing else. Only the request loop writes it, so a plain
// load and store count (no read-modify-write on every request).
using ActivityCount = std::atomic<uint64_t>;
void Bump(ActivityCount* count) {
  count->store(count->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

coral::Task<void> ServeRequests(coral::TcpStream* stream, Server* server,
                                coral::CancellationToken writes, ActivityCount* activity) {
  (void)stream->SetNoDelay(true);
  coral::BufferedReader reader(stream, {.max_buffered = server->max_request_bytes});
  std::vector<absl::string_view> arguments;
  // A batch's replies, sent from here: stream->Write is awaited in place (no coroutine frame) and
  // the replies are not copied into a writer's buffer first.
  std::string replies;
  for (bool open = true;;) {
    // Every whole request buffered, in order, until the replies reach kMaxPendingReplies.
    bool backlog = false;  // Whole requests are left, to answer before reading more.
    while (open) {
      if (replies.size() >= kMaxPendingReplies) {
        backlog = true;
        break;
      }
      const kv::ParseResult parsed =
          kv::ParseRequest(reader.buffered(), server->limits, &arguments);
      if (parsed.kind == kv::ParseResult::Kind::kIncomplete) break;
      if (parsed.kind == kv::ParseResult::Kind::kError) {
        kv::AppendError(&replies, absl::StrCat("ERR ", parsed.error));
        open = false;
        break;
      }
      if (!arguments.empty() &&
          kv::Execute(arguments, &server->store, &replies) == kv::AfterCommand::kClose) {
        open = false;
      }
      reader.Consume(parsed.consumed);  // After Execute: the arguments point into the buffer.
    }
    for (absl::string_view rest = replies; !rest.empty();) {
      absl::StatusOr<size_t> n = co_await stream->Write(rest);
      if (n.ok()) {
        rest.remove_prefix(*n);
        Bump(activity);
        continue;
      }
      // The drain cancels the reads' token: the replies to the requests read are still sent,
      // under `writes`, which only the drain deadline or the watchdog cancels.
      if (!absl::IsCancelled(n.status()) || writes.IsCancelled() ||
          !(co_await coral::WithCancellation(writes, stream->WriteAll(rest))).ok()) {
        co_return;
      }
      break;
    }
    replies.clear();
    if (!open) co_return;
    if (backlog) continue;
    absl::StatusOr<size_t> n = co_await reader.Fill();
    if (absl::IsResourceExhausted(n.status())) {
      // A request larger than the limit: refused, never buffered further.
      kv::AppendError(&replies, absl::StrCat("ERR Protocol error: request larger than ",
                                             server->max_request_bytes, " bytes"));
      open = false;  // Sends the error, then closes.
      continue;
    }
    if (!n.ok() || *n == 0) co_return;  // End of stream, an error, or the drain.
    Bump(activity);
  }
}

// Fails once a whole `timeout` went by without the count moving; ends quietly when cancelled.
coral::Task<absl::Status> CloseWhenIdle(absl::Duration timeout, const ActivityCount& activity) {
  for (uint64_t seen = activity.load(std::memory_order_relaxed);;) {
    if (!(co_await coral::SleepFor(timeout)).ok()) co_return absl::OkStatus();
    const uint64_t now = activity.load(std::memory_order_relaxed);
    if (now == seen) co_return absl::DeadlineExceededError("idle connection closed");
    seen = now;
  }
}

// A child of the server's group; the connection's own group borrows this frame's locals.
coral::Task<void> ServeConnection(coral::TcpStream stream, Server* server,
                                  coral::CancellationToken drain) {
  coral::TaskGroup connection;
  coral::CancellationSource reads(connection.token());
  const coral::CancellationCallback stop_reading(drain, [&reads] { reads.Cancel(); });
  ActivityCount activity{0};
  if (server->idle_timeout > absl::ZeroDuration()) {
    connection.Spawn(CloseWhenIdle, server->idle_timeout, std::cref(activity));
  }
  // The group must be joined before this frame goes, exception or not (task_group.h): a throw out
  // of the loop is held until then, and then fails this connection alone (the server's group keeps
  // going).
  std::exception_ptr failure;
  try {
    co_await coral::WithCancellation(reads.token(),
                                     ServeRequests(&stream, server, connection.token(), &activity));
  } catch (...) {
    failure = std::current_exception();
  }
  connection.Cancel();               // The watchdog's work is over.
  (void)co_await connection.Join();  // A watchdog's failure only says why the connection closed.
  if (failure) std::rethrow_exception(failure);
}

coral::Task<void> AcceptConnections(coral::TcpListener listener, coral::TaskGroup* connections,
                                    Server* server, coral::CancellationToken drain) {
  for (;;) {
    absl::StatusOr<coral::TcpStream> stream =
        co_await coral::WithCancellation(drain, listener.Accept());
    if (absl::IsCancelled(stream.status())) break;
    if (!stream.ok()) continue;
    connections->Spawn(ServeConnection, *std::move(stream), server, drain);
  }
  listener.Close();
}

// Frees expired keys that no request touches, until the drain.
coral::Task<void> RemoveExpiredKeys(Server* server, coral::CancellationToken drain) {
  coral::Interval interval(absl::Milliseconds(100));
  while ((co_await coral::WithCancellation(drain, interval.Tick())).ok()) {
    server->store.RemoveExpired(1000);
  }
}

coral::Task<absl::Status> Serve(coral::TcpListener listener, coral::SignalListener* signals,
                                Server* server) {
  coral::TaskGroup connections(coral::TaskGroup::OnFailure::kKeepGoing);
  // Cancelled at the signal, or with the whole group at the deadline.
  coral::CancellationSource drain(connections.token());
  connections.Spawn(AcceptConnections, std::move(listener), &connections, server, drain.token());
  connections.Spawn(RemoveExpiredKeys, server, drain.token());

  absl::StatusOr<int> signal = co_await signals->Next();
  if (!signal.ok()) co_return signal.status();
  Say(absl::StrCat("kv_server: ", *signal == SIGTERM ? "SIGTERM" : "SIGINT", ", draining"));
  drain.Cancel();
  const coral::CancellationSource deadline =
      coral::CancellationSource::WithDeadline(coral::Now() + absl::GetFlag(FLAGS_drain_timeout));
  {
    coral::CancellationCallback cut_off(deadline.token(), [&connections] { connections.Cancel(); });
    (void)co_await connections.Join();
  }
  Say("kv_server: stopped");
  co_return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("kv_server PORT: a RESP2 key-value server on 127.0.0.1:PORT");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  int port = -1;
  if (positional.size() != 2 || !absl::SimpleAtoi(positional[1], &port) || port < 0 ||
      port > 65535) {
    std::fprintf(stderr, "usage: kv_server [flags] PORT (0: any free port)\n");
    return 2;
  }
  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(static_cast<uint16_t>(port)));
  if (!listener.ok()) {
    std::fprintf(stderr, "kv_server: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<coral::SignalListener> signals = coral::SignalListener::Create({SIGINT, SIGTERM});
  if (!signals.ok()) {
    std::fprintf(stderr, "kv_server: %s\n", signals.status().ToString().c_str());
    return 1;
  }
  Server server;
  server.max_request_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_request_bytes));
  server.limits.max_bulk = server.max_request_bytes;
  server.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  Say(absl::StrCat("kv_server: listening on ", listener->LocalAddress()->ToString(), " (pid ",
                   ::getpid(), ")"));
  absl::Status status;
  {
    coral::Runtime runtime({.num_workers = absl::GetFlag(FLAGS_workers)});
    status = runtime.BlockOn(Serve(*std::move(listener), &*signals, &server));
  }
  if (!status.ok()) {
    std::fprintf(stderr, "kv_server: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
