// Copyright 2026 The coral Authors.
//
// chat_server: a line-based chat with rooms on coral (the protocol and the slow-client policy
// are in chat.h).
//
//   bazel/bazelw build //examples:chat_server && bazel-bin/examples/chat_server 7000
//   nc 127.0.0.1 7000      then: /join lobby, /nick ada, hello      (PORT 0: any free port)
//
// It listens on 127.0.0.1:PORT and stops on SIGINT or SIGTERM (received as events through
// coral::SignalListener): it stops accepting and reading, tells every client "*** server shutting
// down", flushes what each has pending for at most --drain_timeout, and exits 0.

#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/runtime.h"
#include "coral/signal.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/tcp.h"
#include "examples/chat.h"

ABSL_FLAG(int, workers, 2, "coral worker threads");
ABSL_FLAG(int64_t, max_line, 1024, "the longest line a client may send, in bytes");
ABSL_FLAG(int64_t, backlog, 256, "the messages a room keeps for its slowest members");
ABSL_FLAG(int, send_buffer, 0,
          "SO_SNDBUF of each connection in bytes (0: the kernel's default, which grows to MBs)");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(2),
          "how long a shutdown waits for pending output");

namespace {

coral::Task<absl::Status> Run(chat::Server* server, coral::TcpListener listener,
                              coral::SignalListener* signals) {
  coral::CancellationSource stop;
  coral::TaskGroup group;
  group.Spawn(
      [](chat::Server* chat, coral::TcpListener accepting, coral::CancellationToken token) {
        return chat->Serve(std::move(accepting), std::move(token));
      },
      server, std::move(listener), stop.token());
  absl::StatusOr<int> signal = co_await signals->Next();
  std::printf("chat_server: %s, shutting down\n",
              signal.ok() && *signal == SIGTERM ? "SIGTERM" : "SIGINT");
  std::fflush(stdout);
  stop.Cancel();
  (void)co_await group.Join();
  std::printf("chat_server: stopped (%llu connections served, %llu lines, %llu messages dropped)\n",
              static_cast<unsigned long long>(server->stats().accepted.load()),
              static_cast<unsigned long long>(server->stats().lines.load()),
              static_cast<unsigned long long>(server->stats().dropped.load()));
  co_return signal.status();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("chat_server PORT: a line-based chat on 127.0.0.1:PORT");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  int port = -1;
  if (positional.size() != 2 || !absl::SimpleAtoi(positional[1], &port) || port < 0 ||
      port > 65535) {
    std::fprintf(stderr, "usage: chat_server [flags] PORT (0: any free port)\n");
    return 2;
  }
  const int64_t max_line = absl::GetFlag(FLAGS_max_line);
  const int64_t backlog = absl::GetFlag(FLAGS_backlog);
  if (max_line < 1 || backlog < 1) {
    std::fprintf(stderr, "chat_server: --max_line and --backlog must be at least 1\n");
    return 2;
  }
  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(static_cast<uint16_t>(port)));
  if (!listener.ok()) {
    std::fprintf(stderr, "chat_server: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<coral::SignalListener> signals = coral::SignalListener::Create({SIGINT, SIGTERM});
  if (!signals.ok()) {
    std::fprintf(stderr, "chat_server: %s\n", signals.status().ToString().c_str());
    return 1;
  }
  std::printf("chat_server: listening on %s (pid %d)\n",
              listener->LocalAddress()->ToString().c_str(), static_cast<int>(::getpid()));
  std::fflush(stdout);
  chat::Server server({.max_line = static_cast<size_t>(max_line),
                       .backlog = static_cast<size_t>(backlog),
                       .send_buffer = absl::GetFlag(FLAGS_send_buffer),
                       .drain_timeout = absl::GetFlag(FLAGS_drain_timeout)});
  absl::Status status;
  {
    coral::Runtime runtime({.num_workers = absl::GetFlag(FLAGS_workers)});
    status = runtime.BlockOn(Run(&server, *std::move(listener), &*signals));
  }
  if (!status.ok()) {
    std::fprintf(stderr, "chat_server: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
