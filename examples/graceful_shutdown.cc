// Copyright 2026 The coral Authors.
//
// graceful_shutdown: a service that stops cleanly on SIGINT or SIGTERM. Each line a client sends
// is a request; the service answers "done: <line>" after --work. Each connection is a TaskGroup
// of two tasks, a reader that queues the requests and a responder that answers them in order;
// the connections are children of one TaskGroup, with the accept loop. On a signal (received as
// an event through coral::SignalListener, not in a handler) the service:
//
//   1. stops accepting: the accept loop's token is cancelled and the listening socket closed;
//   2. drains: every reader stops reading (its token is cancelled too), every responder answers
//      the requests already received, says "bye" and closes its connection;
//   3. bounds the drain by --drain_timeout: when it passes, a CancellationCallback cancels the
//      connections' group, and the answers still being worked on are cut off;
//
// then reports what happened and exits 0.
//
//   bazel/bazelw run //examples:graceful_shutdown -- --port=8080 --work=1s --drain_timeout=5s
//   (in another shell: printf 'a\nb\n' | nc 127.0.0.1 8080, then Ctrl-C the service)

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/runtime.h"
#include "coral/signal.h"
#include "coral/sleep.h"
#include "coral/task_group.h"
#include "coral/tcp.h"

ABSL_FLAG(int, port, 0, "port on 127.0.0.1 (0: any free one, printed)");
ABSL_FLAG(absl::Duration, work, absl::Milliseconds(200), "the time each request takes");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(2),
          "how long a shutdown waits for requests in progress");

namespace {

struct Stats {
  std::atomic<int> open{0};
  std::atomic<int> drained{0};  // Finished their requests after the signal and said bye.
  std::atomic<int> cut_off{0};  // Cancelled by the drain deadline.
  std::atomic<int> answered{0};
};

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// Reads request lines into `requests` until end of stream, or until the drain starts (this runs
// under the drain token, so the pending Read then ends with CancelledError).
coral::Task<absl::Status> ReadRequests(coral::TcpStream* stream,
                                       coral::Sender<std::string> requests, int id) {
  std::string pending;
  char buffer[1024];
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
    if (absl::IsCancelled(n.status()) || (n.ok() && *n == 0)) co_return absl::OkStatus();
    if (!n.ok()) co_return n.status();
    pending.append(buffer, *n);
    for (size_t newline; (newline = pending.find('\n')) != std::string::npos;) {
      std::string request = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      Say(absl::StrCat("connection ", id, ": received \"", request, "\""));
      if (!(co_await requests.Send(std::move(request))).ok()) co_return absl::OkStatus();
    }
  }
}

coral::Task<absl::Status> Reader(coral::TcpStream* stream, coral::Sender<std::string> requests,
                                 coral::CancellationToken drain, int id) {
  coral::Task<absl::Status> read = ReadRequests(stream, std::move(requests), id);
  co_return co_await coral::WithCancellation(std::move(drain), std::move(read));
}

// Answers the queued requests in order. Ends when the reader has stopped and the queue is empty
// (saying bye if the service is draining), or with CancelledError when cut off.
coral::Task<absl::Status> Respond(coral::TcpStream* stream, coral::Receiver<std::string> requests,
                                  coral::CancellationToken drain, int id, Stats* stats) {
  for (;;) {
    absl::StatusOr<std::string> request = co_await requests.Recv();
    if (absl::IsOutOfRange(request.status())) break;  // The reader is done; all answered.
    if (!request.ok()) co_return request.status();
    if (absl::Status worked = co_await coral::SleepFor(absl::GetFlag(FLAGS_work)); !worked.ok()) {
      Say(absl::StrCat("connection ", id, ": cut off while working on \"", *request, "\""));
      co_return worked;
    }
    if (absl::Status sent = co_await stream->WriteAll(absl::StrCat("done: ", *request, "\n"));
        !sent.ok()) {
      co_return sent;
    }
    stats->answered.fetch_add(1);
  }
  if (drain.IsCancelled()) {
    (void)co_await stream->WriteAll("bye: the server is shutting down\n");
  }
  co_return absl::OkStatus();
}

coral::Task<void> ServeConnection(coral::TcpStream stream, coral::CancellationToken drain, int id,
                                  Stats* stats) {
  stats->open.fetch_add(1);
  Say(absl::StrCat("connection ", id, ": accepted"));
  auto [to_responder, from_reader] = coral::Channel<std::string>::Bounded(64);
  coral::TaskGroup tasks;  // This connection's: the first failure cancels the other.
  tasks.Spawn(Reader, &stream, std::move(to_responder), drain, id);
  tasks.Spawn(Respond, &stream, std::move(from_reader), drain, id, stats);
  const absl::Status status = co_await tasks.Join();
  if (!status.ok()) {
    if (absl::IsCancelled(status)) stats->cut_off.fetch_add(1);
    Say(absl::StrCat("connection ", id, ": closed (", status.ToString(), ")"));
  } else if (drain.IsCancelled()) {
    stats->drained.fetch_add(1);
    Say(absl::StrCat("connection ", id, ": drained"));
  } else {
    Say(absl::StrCat("connection ", id, ": closed by the client"));
  }
  stats->open.fetch_sub(1);
}

coral::Task<void> AcceptConnections(coral::TcpListener listener, coral::TaskGroup* connections,
                                    coral::CancellationToken drain, Stats* stats) {
  for (int id = 1;; ++id) {
    coral::Task<absl::StatusOr<coral::TcpStream>> accept = listener.Accept();
    absl::StatusOr<coral::TcpStream> stream =
        co_await coral::WithCancellation(drain, std::move(accept));
    if (absl::IsCancelled(stream.status())) break;
    if (!stream.ok()) continue;
    connections->Spawn(ServeConnection, *std::move(stream), drain, id, stats);
  }
  listener.Close();
  Say("stopped accepting: the listening socket is closed");
}

coral::Task<absl::Status> Serve(coral::TcpListener listener, coral::SignalListener* signals,
                                Stats* stats) {
  coral::TaskGroup connections(coral::TaskGroup::OnFailure::kKeepGoing);
  // Cancelled at the signal, or with the whole group at the deadline.
  coral::CancellationSource drain(connections.token());
  connections.Spawn(AcceptConnections, std::move(listener), &connections, drain.token(), stats);

  absl::StatusOr<int> signal = co_await signals->Next();
  if (!signal.ok()) co_return signal.status();
  const absl::Duration drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  Say(absl::StrCat("received ", *signal == SIGTERM ? "SIGTERM" : "SIGINT", ": draining ",
                   stats->open.load(), " connections (deadline ",
                   absl::FormatDuration(drain_timeout), ")"));
  drain.Cancel();
  const coral::CancellationSource deadline =
      coral::CancellationSource::WithDeadline(coral::Now() + drain_timeout);
  {
    coral::CancellationCallback cut_off(deadline.token(), [&connections] {
      Say("the drain deadline passed: cutting off the requests in progress");
      connections.Cancel();
    });
    (void)co_await connections.Join();
  }
  Say(absl::StrCat("shutdown: ", stats->drained.load(), " connections drained, ",
                   stats->cut_off.load(), " cut off at the deadline, ", stats->answered.load(),
                   " requests answered"));
  co_return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<coral::TcpListener> listener = coral::TcpListener::Bind(
      coral::SocketAddress::Loopback(static_cast<uint16_t>(absl::GetFlag(FLAGS_port))));
  if (!listener.ok()) {
    std::fprintf(stderr, "graceful_shutdown: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  // Before the port is announced: from here on, SIGINT and SIGTERM are events, not deaths.
  absl::StatusOr<coral::SignalListener> signals = coral::SignalListener::Create({SIGINT, SIGTERM});
  if (!signals.ok()) {
    std::fprintf(stderr, "graceful_shutdown: %s\n", signals.status().ToString().c_str());
    return 1;
  }
  Say(absl::StrCat("listening on ", listener->LocalAddress()->ToString(), " (pid ", ::getpid(),
                   "); SIGINT or SIGTERM drains and exits"));
  Stats stats;
  absl::Status status;
  {
    coral::Runtime runtime({.num_workers = 2});
    status = runtime.BlockOn(Serve(*std::move(listener), &*signals, &stats));
  }
  if (!status.ok()) {
    std::fprintf(stderr, "graceful_shutdown: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
