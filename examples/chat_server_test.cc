// Copyright 2026 The coral Authors.
//
// The chat service in process, on loopback: 2,000 clients (200 under the sanitizers) in rooms of
// 40, of which 34 per room join and then never read. Four clients per room each send kLines
// lines, one at a time (the next once its own copy came back). The slow clients' kernel buffers
// are kept small (SO_SNDBUF on the server, SO_RCVBUF on the client), so they fill well before
// a room's 400 lines (about 170 KB) end. The test shows:
//   - every reading client receives every line of its room, in each sender's order, none missing,
//     and never a "messages dropped" notice, within a generous deadline;
//   - the clients that do not read stall nobody, cost the server a bounded amount of memory (the
//     largest buffer a connection's writer ever held is one write chunk and one message: the
//     room's backlog is the only queue), and lose their oldest messages: one of them per room,
//     reading at last, finds "*** N messages dropped" notices that account for every line it
//     missed, and the lines it kept in each sender's order;
//   - after the clients leave and the server drains, no room and no connection remains.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "coral/buffered_reader.h"
#include "coral/cancellation.h"
#include "coral/latch.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task_group.h"
#include "coral/tcp.h"
#include "examples/annotated_mutex.h"
#include "examples/chat.h"
#include "gtest/gtest.h"

namespace chat {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kClients = 200;
#else
constexpr int kClients = 2000;
#endif
constexpr int kRoomSize = 40;
constexpr int kRooms = kClients / kRoomSize;
constexpr int kReaders = 6;  // Per room; the first kSenders of them send.
constexpr int kSenders = 4;
constexpr int kLines = 100;  // Per sender.
// A room's backlog: far short of its 400 lines, far more than a reading client lags behind on a
// loaded machine (at 32, a reader was once seen 32 lines behind).
constexpr size_t kBacklog = 128;
constexpr size_t kMaxLine = 1024;
const std::string kPadding(400, '.');

std::string RoomName(int room) { return absl::StrCat("room", room); }

// One client's failures, collected from the client tasks and asserted on the test's thread.
class Failures {
 public:
  void Add(std::string failure) {
    coral::examples::MutexLock hold(&mu_);
    failures_.push_back(std::move(failure));
  }
  std::vector<std::string> Get() {
    coral::examples::MutexLock hold(&mu_);
    return failures_;
  }

 private:
  coral::examples::Mutex mu_;
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
};

// A line of sender `sender`: "NICK: s<sender> <seq> <padding>"; false for any other line.
bool ParseLine(absl::string_view line, int* sender, int* seq) {
  const size_t at = line.find(": s");
  if (at == absl::string_view::npos) return false;
  std::vector<absl::string_view> fields = absl::StrSplit(line.substr(at + 3), ' ');
  return fields.size() == 3 && absl::SimpleAtoi(fields[0], sender) &&
         absl::SimpleAtoi(fields[1], seq);
}

std::string Line(int sender, int seq) {
  return absl::StrCat("s", sender, " ", seq, " ", kPadding, "\n");
}

// A reading client: joins its room, says so on `joined`, waits for everyone, then reads until it
// has every sender's kLines lines; a sender sends its next line when its previous one came back.
coral::Task<void> Reader(uint16_t port, int room, int index, coral::Latch* joined,
                         Failures* failures) {
  const std::string who = absl::StrCat(RoomName(room), " reader ", index, ": ");
  absl::StatusOr<coral::TcpStream> stream =
      co_await coral::TcpStream::Connect(coral::SocketAddress::Loopback(port));
  if (!stream.ok()) {
    joined->CountDown();
    failures->Add(absl::StrCat(who, stream.status().ToString()));
    co_return;
  }
  (void)stream->SetNoDelay(true);  // Each line at once: the senders wait for their echo.
  coral::BufferedReader reader(&*stream);
  absl::Status status = co_await stream->WriteAll(absl::StrCat("/join ", RoomName(room), "\n"));
  const std::string confirmation = absl::StrCat("*** you joined ", RoomName(room), " ");
  while (status.ok()) {
    absl::StatusOr<absl::string_view> line = co_await reader.ReadLine();
    status = line.status();
    if (line.ok() && absl::StartsWith(*line, confirmation)) break;
  }
  joined->CountDown();
  if (status.ok()) status = co_await joined->Wait();
  const bool sender = index < kSenders;
  if (status.ok() && sender) status = co_await stream->WriteAll(Line(index, 0));
  std::vector<int> next(kSenders, 0);
  for (int complete = 0; status.ok() && complete < kSenders;) {
    absl::StatusOr<absl::string_view> line = co_await reader.ReadLine();
    if (!line.ok()) {
      status = line.status();
      break;
    }
    if (absl::StrContains(*line, "dropped")) {
      failures->Add(absl::StrCat(who, "a reading client lost messages: ", *line));
      co_return;
    }
    int from;
    int seq;
    if (!ParseLine(*line, &from, &seq)) continue;  // An announcement.
    if (from < 0 || from >= kSenders || seq != next[from]) {
      failures->Add(absl::StrCat(who, "expected line ", from < kSenders ? next[from] : -1,
                                 " of sender ", from, ", got: ", *line));
      co_return;
    }
    if (++next[from] == kLines) ++complete;
    if (sender && from == index && next[from] < kLines) {
      status = co_await stream->WriteAll(Line(index, next[from]));
    }
  }
  if (!status.ok()) failures->Add(absl::StrCat(who, status.ToString()));
}

coral::Task<absl::Status> SpawnReaders(uint16_t port, Failures* failures) {
  coral::Latch joined(kRooms * kReaders);
  coral::TaskGroup readers;
  for (int room = 0; room < kRooms; ++room) {
    for (int index = 0; index < kReaders; ++index) {
      readers.Spawn(Reader, port, room, index, &joined, failures);
    }
  }
  co_return co_await readers.Join();
}

// Under a generous deadline: "promptly", not a measurement.
coral::Task<absl::Status> RunReaders(uint16_t port, Failures* failures) {
  co_return co_await coral::Timeout(absl::Seconds(60), SpawnReaders(port, failures));
}

// A blocking client that reads only when told to.
class SlowClient {
 public:
  ~SlowClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects, joins `room`, and reads up to the join's confirmation.
  absl::Status Join(uint16_t port, const std::string& room) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // An Ethernet-sized MSS: with loopback's 64 KiB one, Linux keeps the window of a receiver
    // that was full shut after it drains (silly-window avoidance) until a persist probe, seconds
    // later once backed off.
    const int mss = 1400;
    (void)::setsockopt(fd_, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
    // A small receive buffer: the server's writer for this client blocks sooner.
    const int buffer = 16 * 1024;
    (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      return absl::ErrnoToStatus(errno, "connect");
    }
    if (absl::Status sent = Send(absl::StrCat("/join ", room, "\n")); !sent.ok()) return sent;
    const std::string confirmation = absl::StrCat("*** you joined ", room, " ");
    for (;;) {
      absl::StatusOr<std::string> line = ReadLine();
      if (!line.ok()) return line.status();
      if (absl::StartsWith(*line, confirmation)) return absl::OkStatus();
    }
  }

  absl::Status Send(absl::string_view data) {
    if (::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size())) {
      return absl::ErrnoToStatus(errno, "send");
    }
    return absl::OkStatus();
  }

  // The next line, without its "\n"; waits at most 30 s for it (generous: a stuck server).
  absl::StatusOr<std::string> ReadLine() {
    for (;;) {
      const size_t end = buffer_.find('\n');
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      pollfd readable{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&readable, 1, 30'000) != 1) return absl::DeadlineExceededError("no line in 30 s");
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return absl::UnavailableError("the server closed the connection");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

void RaiseOpenFileLimit(rlim_t needed) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur >= needed) return;
  ASSERT_GE(limit.rlim_max, needed) << "the hard RLIMIT_NOFILE is too low for this test";
  limit.rlim_cur = needed;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
}

TEST(ChatServerTest, SlowClientsLoseTheirOldestMessagesAndStallNobody) {
  RaiseOpenFileLimit(2 * kClients + 256);
  Server server({.max_line = kMaxLine,
                 .backlog = kBacklog,
                 .send_buffer = 4096,
                 .drain_timeout = absl::Seconds(5)});
  coral::Runtime runtime({.num_workers = 2});
  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(0));
  ASSERT_TRUE(listener.ok()) << listener.status();
  const uint16_t port = listener->LocalAddress()->port();
  coral::CancellationSource stop;
  coral::JoinHandle<void> serving = runtime.Spawn(
      [](Server* chat, coral::TcpListener accepting, coral::CancellationToken token) {
        return chat->Serve(std::move(accepting), std::move(token));
      },
      &server, *std::move(listener), stop.token());

  // The clients that never read (until the end): each room's first, after the readers.
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int room = 0; room < kRooms; ++room) {
    for (int i = kReaders; i < kRoomSize; ++i) {
      slow.push_back(std::make_unique<SlowClient>());
      ASSERT_TRUE(slow.back()->Join(port, RoomName(room)).ok());
    }
  }

  Failures failures;
  const absl::Status readers = runtime.BlockOn(RunReaders(port, &failures));
  EXPECT_TRUE(readers.ok()) << readers;

  for (const std::string& failure : failures.Get()) ADD_FAILURE() << failure;
  EXPECT_EQ(server.stats().lines.load(), uint64_t{kRooms} * kSenders * kLines);

  // Memory: nothing but the room's backlog queues a message for a client; a writer holds at most
  // one chunk and then one message (the longest here: a join confirmation listing 40 members).
  EXPECT_LE(server.stats().writer_peak.load(), kWriteChunk + 4096);

  // One slow client per room reads at last, up to a line it sends now (the room's latest, so
  // retained): notices of the drops, and the lines it did not lose in each sender's order. A
  // sender's last lines may all have been lost, if the others went on talking after it.
  uint64_t total_missed = 0;
  for (int room = 0; room < kRooms; ++room) {
    SlowClient& client = *slow[static_cast<size_t>(room) * (kRoomSize - kReaders)];
    ASSERT_TRUE(client.Send("the end\n").ok());
    std::vector<int> next(kSenders, 0);
    uint64_t reported = 0;
    uint64_t received = 0;
    for (;;) {
      absl::StatusOr<std::string> line = client.ReadLine();
      ASSERT_TRUE(line.ok()) << line.status();
      if (absl::EndsWith(*line, ": the end")) break;
      absl::string_view notice = *line;
      uint64_t dropped;
      if (absl::ConsumePrefix(&notice, "*** ") &&
          absl::ConsumeSuffix(&notice, " messages dropped") && absl::SimpleAtoi(notice, &dropped)) {
        reported += dropped;
        continue;
      }
      int from;
      int seq;
      if (!ParseLine(*line, &from, &seq)) continue;
      ASSERT_TRUE(from >= 0 && from < kSenders && seq >= next[from]) << *line;
      next[from] = seq + 1;
      ++received;
    }
    const uint64_t missed = uint64_t{kSenders} * kLines - received;
    total_missed += missed;
    EXPECT_LE(missed, reported) << RoomName(room);  // Announcements were dropped too.
  }
  // That the slow clients fill at all depends on the kernel's buffers and the run's pace; with the
  // sanitizers' 200 clients a run was seen where the checked ones never did. The accounting above
  // holds either way; the drop policy must show in the full-size run.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_GT(total_missed, 0u);
  EXPECT_GT(server.stats().dropped.load(), 0u);
#endif

  slow.clear();
  stop.Cancel();
  EXPECT_TRUE(coral::BlockingJoin(std::move(serving)).ok());
  EXPECT_EQ(server.stats().accepted.load(), uint64_t{kClients});
  EXPECT_EQ(server.stats().open.load(), 0u);
  EXPECT_EQ(server.room_count(), 0u);
}

}  // namespace
}  // namespace chat
