// Copyright 2026 The coral Authors.
//
// hedged_request: cancellation via select. A request goes to two backends at once (two loopback
// servers of this program, one slow and one fast); coral::Select takes whichever answer comes
// first; the other request, still waiting for its answer, is cancelled through its TaskGroup and
// reports that it observed the cancellation; and a deadline (coral::Timeout) bounds the whole
// exchange: when neither backend answers in time, both requests are cancelled.
//
//   bazel/bazelw run //examples:hedged_request -- --slow=400ms --fast=50ms --deadline=1s
//
// The two requests run as children of a TaskGroup and hand their answers over channels, one per
// backend; the Select waits on both channels and, through the task's token, on the deadline.

#include <cstdio>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/runtime.h"
#include "coral/select.h"
#include "coral/sleep.h"
#include "coral/task_group.h"
#include "coral/tcp.h"

ABSL_FLAG(absl::Duration, slow, absl::Milliseconds(400), "backend A's delay before it answers");
ABSL_FLAG(absl::Duration, fast, absl::Milliseconds(50), "backend B's delay before it answers");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(1), "the first request's deadline");
ABSL_FLAG(absl::Duration, short_deadline, absl::Milliseconds(10),
          "the second request's deadline, shorter than both delays");

namespace {

// A backend: answers each line it reads, after `delay`.
coral::Task<void> AnswerConnection(coral::TcpStream stream, std::string name,
                                   absl::Duration delay) {
  char buffer[256];
  absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buffer));
  if (!n.ok() || *n == 0) co_return;
  const std::string request(buffer, *n - (buffer[*n - 1] == '\n' ? 1 : 0));
  (void)co_await coral::SleepFor(delay);  // The backend's work.
  // If the client gave up meanwhile, this write fails; nobody is waiting for it.
  (void)co_await stream.WriteAll(absl::StrCat(name, "'s answer to ", request));
}

coral::Task<void> Backend(coral::TcpListener listener, std::string name, absl::Duration delay) {
  for (;;) {
    absl::StatusOr<coral::TcpStream> stream = co_await listener.Accept();
    if (stream.ok()) coral::Spawn(AnswerConnection, *std::move(stream), name, delay).Detach();
  }
}

double MillisecondsSince(coral::Instant start) {
  return absl::ToDoubleMilliseconds(coral::Now() - start);
}

// One of the two requests: asks `backend` and hands the answer over `answers`. Records what
// happened to it in `*outcome`, including the cancellation it observed if it lost.
coral::Task<void> Ask(coral::SocketAddress backend, std::string request,
                      coral::Sender<std::string> answers, coral::Instant start,
                      std::string* outcome) {
  absl::StatusOr<coral::TcpStream> stream = co_await coral::TcpStream::Connect(backend);
  absl::Status status = stream.status();
  std::string answer(256, '\0');
  absl::StatusOr<size_t> n = 0;
  if (status.ok()) status = co_await stream->WriteAll(absl::StrCat(request, "\n"));
  if (status.ok()) {
    n = co_await stream->Read(absl::MakeSpan(answer));
    status = n.status();
  }
  if (absl::IsCancelled(status)) {
    *outcome = absl::StrFormat("cancelled after %.1f ms while waiting for its answer (%s)",
                               MillisecondsSince(start), status.ToString());
    co_return;
  }
  if (!status.ok() || *n == 0) {
    *outcome = absl::StrCat("failed: ", status.ok() ? "no answer" : status.ToString());
    co_return;
  }
  answer.resize(*n);
  *outcome = absl::StrFormat("answered after %.1f ms", MillisecondsSince(start));
  (void)co_await answers.Send(std::move(answer));
}

struct Outcomes {
  std::string a;
  std::string b;
};

// Sends `request` to both backends; returns the first answer. The loser is cancelled.
coral::Task<absl::StatusOr<std::string>> Hedged(coral::SocketAddress a, coral::SocketAddress b,
                                                std::string request, coral::Instant start,
                                                Outcomes* outcomes) {
  auto [to_a, from_a] = coral::Channel<std::string>::Bounded(1);
  auto [to_b, from_b] = coral::Channel<std::string>::Bounded(1);
  coral::TaskGroup requests;
  requests.Spawn(Ask, a, request, std::move(to_a), start, &outcomes->a);
  requests.Spawn(Ask, b, request, std::move(to_b), start, &outcomes->b);
  // The first answer, or (through this task's token) the deadline, whichever comes first.
  absl::StatusOr<coral::SelectResult<std::string, std::string>> first =
      co_await coral::Select(from_a, from_b);
  const double decided_ms = MillisecondsSince(start);
  requests.Cancel();  // The loser stops waiting for its backend.
  (void)co_await requests.Join();
  if (!first.ok()) co_return first.status();
  absl::StatusOr<std::string> answer = first->index == 0 ? std::get<0>(std::move(first->value))
                                                         : std::get<1>(std::move(first->value));
  if (!answer.ok()) co_return answer.status();  // That backend failed before answering.
  co_return absl::StrFormat("answer from %s after %.1f ms: \"%s\"", first->index == 0 ? "A" : "B",
                            decided_ms, *answer);
}

coral::Task<void> Request(int number, coral::SocketAddress a, coral::SocketAddress b,
                          absl::Duration deadline) {
  const coral::Instant start = coral::Now();
  Outcomes outcomes;
  coral::Task<absl::StatusOr<std::string>> hedged =
      Hedged(a, b, absl::StrCat("request ", number), start, &outcomes);
  absl::StatusOr<std::string> result = co_await coral::Timeout(deadline, std::move(hedged));
  std::printf("request %d, deadline %s: %s\n", number, absl::FormatDuration(deadline).c_str(),
              result.ok() ? result->c_str()
                          : absl::StrFormat("%s after %.1f ms", result.status().ToString(),
                                            MillisecondsSince(start))
                                .c_str());
  std::printf("  backend A: %s\n  backend B: %s\n", outcomes.a.c_str(), outcomes.b.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<coral::TcpListener> a =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(0));
  absl::StatusOr<coral::TcpListener> b =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(0));
  if (!a.ok() || !b.ok()) {
    std::fprintf(stderr, "hedged_request: %s\n", (a.ok() ? b : a).status().ToString().c_str());
    return 1;
  }
  const coral::SocketAddress a_address = *a->LocalAddress();
  const coral::SocketAddress b_address = *b->LocalAddress();
  std::printf("backend A answers after %s, backend B after %s\n",
              absl::FormatDuration(absl::GetFlag(FLAGS_slow)).c_str(),
              absl::FormatDuration(absl::GetFlag(FLAGS_fast)).c_str());
  coral::Runtime runtime({.num_workers = 2});
  runtime.Spawn(Backend, *std::move(a), std::string("A"), absl::GetFlag(FLAGS_slow)).Detach();
  runtime.Spawn(Backend, *std::move(b), std::string("B"), absl::GetFlag(FLAGS_fast)).Detach();
  runtime.BlockOn(Request(1, a_address, b_address, absl::GetFlag(FLAGS_deadline)));
  runtime.BlockOn(Request(2, a_address, b_address, absl::GetFlag(FLAGS_short_deadline)));
  return 0;
}
