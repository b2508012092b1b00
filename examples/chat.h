// Copyright 2026 The coral Authors.
//
// The chat service behind examples/chat_server: rooms of clients over TCP, one line per message.
//
// Protocol (lines end in "\n"; a "\r" before it is dropped):
//   /join ROOM    leave the current room (if any) and enter ROOM (created on first use)
//   /nick NAME    change the name the others see (one word, at most 32 bytes)
//   /who          list the members of the current room
//   /quit         say goodbye and close
//   anything else a message: every member of the room, the sender included, receives
//                 "NAME: the line"
// The server's own lines start with "*** ": "*** welcome, guest7: /join ROOM to start",
// "*** you joined ROOM (3 members: ...)", "*** NAME joined", "*** NAME left", "*** N messages
// dropped". A client starts as guestN in no room; a line longer than --max_line bytes gets an
// error line and the connection is closed.
//
// Rooms and order. A room is a coral::Broadcast channel: every line of the room, the
// announcements and the answers to one member's commands (addressed to that member, skipped by
// the others), in one order that every member sees. Membership changes hold the room's
// coral::AsyncMutex across co_await: a move from room A to room B takes both rooms' locks (in
// address order, so two clients moving in opposite directions cannot deadlock) and awaits the
// second while holding the first. So a move is one step for the rest of the server: /who in A
// or in B never shows the client in both rooms or in neither, "left" and "joined" are announced
// in the same step, and the join is announced in B before any line the mover then sends to B.
// The joiner's receiver is subscribed under B's lock before the announcement, so its copy of B
// starts exactly with "*** you joined B", and nothing sent in B after that is missed. An emptied
// room is removed (a joiner that finds it removed after waiting for its lock looks again).
//
// Slow clients. Each connection is a TaskGroup of two tasks: a reader (lines and commands) and a
// writer, which receives from the room's channel and writes to the socket through a
// coral::BufferedWriter. A client that does not read stalls only its own writer, in a write
// that its socket buffer cannot take; the room does not wait for it: sends to the channel never
// wait. The channel keeps the last --backlog messages of the room, so a member's queue is
// bounded by --backlog messages (shared by all the members: each message is stored once). A
// member that falls further behind loses the oldest messages it has not received (Broadcast's
// lag policy) and, when it catches up, reads "*** N messages dropped" in their place, and then
// every later message in order. Dropping rather than disconnecting: a chat client that was
// suspended for a while keeps its connection and learns what it missed; a client that never
// reads costs the server its socket buffer, a writer buffer of at most one flush
// (kWriteChunk bytes plus a line) and nothing else, however long the room talks.
//
// Shutdown: Serve's `stop` token ends reading; every connection then says "*** server shutting
// down", flushes and closes; what is still unflushed after `drain_timeout` is cut off.

#ifndef CORAL_EXAMPLES_CHAT_H_
#define CORAL_EXAMPLES_CHAT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/tcp.h"
#include "examples/annotated_mutex.h"

namespace chat {

struct Options {
  // The longest line a client may send, without its "\n" (a "\r" before it counts).
  size_t max_line = 1024;
  // The messages each room retains for its slowest members (see Slow clients).
  size_t backlog = 256;
  // SO_SNDBUF for each connection, 0: the kernel's default. Smaller: a slow client holds less
  // kernel memory and starts losing messages sooner.
  int send_buffer = 0;
  absl::Duration drain_timeout = absl::Seconds(2);
};

// The writer flushes once it has gathered this many bytes (or has nothing more to send now).
inline constexpr size_t kWriteChunk = 16 * 1024;

// Counters, updated as the server runs (relaxed atomics: each is a statistic on its own).
struct Stats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> lines{0};    // Plain lines sent to a room.
  std::atomic<uint64_t> dropped{0};  // Messages lost by lagging members (all together).
  // The most bytes one writer held at once: the per-client memory beyond the room's channel.
  std::atomic<uint64_t> writer_peak{0};
};

struct Room;
struct Connection;

class Server {
 public:
  explicit Server(Options options) : options_(options) {}
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Accepts on `listener` and serves until `stop` is cancelled, then drains (see Shutdown) and
  // returns once every connection is closed.
  [[nodiscard]] coral::Task<void> Serve(coral::TcpListener listener, coral::CancellationToken stop);

  const Stats& stats() const { return stats_; }
  // The rooms that have members.
  size_t room_count() const;

 private:
  friend struct Connection;

  coral::Task<void> Accept(coral::TcpListener listener, coral::CancellationToken drain,
                           coral::TaskGroup* connections);
  coral::Task<void> ServeConnection(coral::TcpStream stream, coral::CancellationToken drain);
  // The reader task: reads under `stop`, then leaves the room (see Read in chat.cc).
  coral::Task<void> Read(coral::TcpStream* stream, Connection* connection,
                         coral::CancellationToken stop, coral::CancellationToken drain);
  coral::Task<void> ReadLines(coral::TcpStream* stream, Connection* connection);
  // Moves `connection` to the room `name` ("": out of every room, when it leaves).
  coral::Task<void> Move(Connection* connection, const std::string& name);
  coral::Task<absl::Status> Who(Connection* connection);
  coral::Task<absl::Status> Rename(Connection* connection, std::string nick);
  void Remove(const std::shared_ptr<Room>& room);

  const Options options_;
  Stats stats_;
  std::atomic<uint64_t> next_id_{1};
  // Held for a map operation, never across co_await.
  mutable coral::examples::Mutex rooms_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Room>> rooms_ ABSL_GUARDED_BY(rooms_mu_);
};

}  // namespace chat

#endif  // CORAL_EXAMPLES_CHAT_H_
