// Copyright 2026 The coral Authors.

#include "examples/chat.h"

#include <sys/socket.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "coral/async_mutex.h"
#include "coral/broadcast.h"
#include "coral/buffered_reader.h"
#include "coral/buffered_writer.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/task_group.h"

namespace chat {

// What a room's channel carries. Copied once per member: a shared string and two words.
struct Message {
  enum class Kind {
    kText,    // `text`, for every member (to == 0) or for member `to` only.
    kSwitch,  // Member `to` left for another room: its writer takes its next receiver.
    kQuit,    // Member `to` left the server: its writer flushes and ends.
  };
  Kind kind = Kind::kText;
  uint64_t to = 0;
  std::shared_ptr<const std::string> text;
};

struct Room {
  Room(std::string name_in, size_t backlog)
      : name(std::move(name_in)), channel(coral::Broadcast<Message>::Make(backlog).first) {}

  // "" for a connection's own room, where it is until its first /join (never in rooms_).
  const std::string name;
  // Guards members and removed; held across co_await by Move (see chat.h). Not checked by the
  // compiler: coral::AsyncMutex carries no thread-safety annotations (it is taken by co_await,
  // into an absl::StatusOr<Guard>, and may be released on another thread, which clang's analysis
  // does not follow). Touch the two fields only while holding a Guard of mu.
  coral::AsyncMutex mu;
  std::vector<Connection*> members;  // Guarded by mu.
  bool removed = false;              // Guarded by mu: emptied and taken out of rooms_.
  coral::BroadcastSender<Message> channel;
};

struct Connection {
  explicit Connection(uint64_t id_in) : id(id_in), nick(absl::StrCat("guest", id_in)) {}

  const uint64_t id;
  // Written by the reader under its room's lock; read by the others under that lock (and by the
  // reader at any time). Not checked by the compiler either: the lock is the AsyncMutex of
  // whichever room the connection is in.
  std::string nick;
  std::shared_ptr<Room> room;  // The reader's.
  // The receiver of the room the connection moved to, until its writer reaches the kSwitch in
  // the room it left. A later move replaces it: the writer then goes straight to the latest room.
  coral::examples::Mutex mu;  // Held for a swap, never across co_await.
  std::optional<coral::BroadcastReceiver<Message>> next ABSL_GUARDED_BY(mu);

  std::optional<coral::BroadcastReceiver<Message>> TakeNext() {
    coral::examples::MutexLock hold(&mu);
    return std::exchange(next, std::nullopt);
  }
};

namespace {

constexpr size_t kMaxNick = 32;
// A connection's own room holds its welcome and its answers until the first /join.
constexpr size_t kOwnRoomBacklog = 16;

Message Text(std::string text, uint64_t to = 0) {
  return {Message::Kind::kText, to, std::make_shared<const std::string>(std::move(text))};
}

void RecordPeak(std::atomic<uint64_t>& peak, uint64_t value) {
  uint64_t seen = peak.load(std::memory_order_relaxed);
  // relaxed: a statistic on its own (see Stats).
  while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

std::string MemberList(const Room& room) {
  std::vector<absl::string_view> nicks;
  for (const Connection* member : room.members) nicks.push_back(member->nick);
  return absl::StrCat(room.members.size(), room.members.size() == 1 ? " member: " : " members: ",
                      absl::StrJoin(nicks, ", "));
}

// Sends the connection's output: the messages of its room for everyone or for it, gathered into
// writes of up to kWriteChunk bytes. Ends at the connection's kQuit, or with the first write
// error (the connection's other task is then cancelled).
coral::Task<absl::Status> WriteMessages(coral::TcpStream* stream, Connection* connection,
                                        coral::BroadcastReceiver<Message> receiver, Stats* stats) {
  coral::BufferedWriter writer(stream, {.capacity = kWriteChunk});
  for (bool quit = false; !quit;) {
    absl::StatusOr<Message> message = co_await receiver.Recv();
    // The first message waited for, then whatever else is there already, up to a chunk.
    while (!quit) {
      if (std::optional<uint64_t> missed = coral::BroadcastLagged(message.status())) {
        stats->dropped.fetch_add(*missed, std::memory_order_relaxed);
        writer.Append(absl::StrCat("*** ", *missed, " messages dropped\n"));
        // A lost kSwitch: the room it would have led to is waiting.
        if (auto next = connection->TakeNext()) receiver = *std::move(next);
      } else if (absl::IsOutOfRange(message.status())) {
        // The room closed: only after this connection left it, so its next receiver is there.
        std::optional<coral::BroadcastReceiver<Message>> next = connection->TakeNext();
        if (!next.has_value()) co_return absl::OkStatus();
        receiver = *std::move(next);
      } else if (!message.ok()) {
        co_return message.status();  // Cancelled: the connection is cut off.
      } else if (message->to == 0 || message->to == connection->id) {
        switch (message->kind) {
          case Message::Kind::kText:
            writer.Append(*message->text);
            break;
          case Message::Kind::kSwitch:
            // Set before the kSwitch was sent; already taken if a lag in this room took it.
            if (auto next = connection->TakeNext()) receiver = *std::move(next);
            break;
          case Message::Kind::kQuit:
            quit = true;
            continue;
        }
      }
      if (writer.buffered().size() >= kWriteChunk) break;
      message = receiver.TryRecv();
      if (absl::IsUnavailable(message.status())) break;
    }
    RecordPeak(stats->writer_peak, writer.buffered().size());
    if (absl::Status flushed = co_await writer.Flush(); !flushed.ok()) co_return flushed;
  }
  co_return absl::OkStatus();
}

}  // namespace

size_t Server::room_count() const {
  coral::examples::MutexLock hold(&rooms_mu_);
  return rooms_.size();
}

void Server::Remove(const std::shared_ptr<Room>& room) {
  coral::examples::MutexLock hold(&rooms_mu_);
  auto it = rooms_.find(room->name);
  if (it != rooms_.end() && it->second == room) rooms_.erase(it);
}

coral::Task<void> Server::Move(Connection* connection, const std::string& name) {
  const std::shared_ptr<Room> from = connection->room;
  for (;;) {
    std::shared_ptr<Room> to;
    if (!name.empty()) {
      coral::examples::MutexLock hold(&rooms_mu_);
      std::shared_ptr<Room>& slot = rooms_[name];
      if (slot == nullptr) slot = std::make_shared<Room>(name, options_.backlog);
      to = slot;
    }
    if (to == from) {
      from->channel.Send(Text(absl::StrCat("*** you are in ", name, " already\n"), connection->id));
      co_return;
    }
    // Both rooms locked for the whole move, in address order (see chat.h). The guards are
    // declared after the rooms they lock, so they unlock first.
    Room* first = from.get();
    Room* second = to.get();
    if (second != nullptr && std::less<Room*>()(second, first)) std::swap(first, second);
    // Shielded: a move, once started, is finished (the locks are held only briefly, never
    // across I/O), so a shutdown or a failed write cannot leave a room half joined.
    absl::StatusOr<coral::AsyncMutex::Guard> first_guard =
        co_await coral::Shielded(first->mu.Lock());
    absl::StatusOr<coral::AsyncMutex::Guard> second_guard;
    if (second != nullptr) second_guard = co_await coral::Shielded(second->mu.Lock());
    // `to` was emptied and removed while this move waited for its lock: find (or make) it again.
    if (to != nullptr && to->removed) continue;

    if (to != nullptr) {
      coral::examples::MutexLock hold(&connection->mu);
      connection->next = to->channel.Subscribe();  // Before anything is announced in `to`.
    }
    std::erase(from->members, connection);
    from->channel.Send(
        {to != nullptr ? Message::Kind::kSwitch : Message::Kind::kQuit, connection->id, nullptr});
    if (!from->name.empty()) {
      from->channel.Send(Text(absl::StrCat("*** ", connection->nick, " left\n")));
      if (from->members.empty()) {
        from->removed = true;
        Remove(from);
      }
    }
    if (to != nullptr) {
      to->members.push_back(connection);
      to->channel.Send(Text(absl::StrCat("*** you joined ", to->name, " (", MemberList(*to), ")\n"),
                            connection->id));
      to->channel.Send(Text(absl::StrCat("*** ", connection->nick, " joined\n")));
      connection->room = std::move(to);
    }
    co_return;
  }
}

coral::Task<absl::Status> Server::Who(Connection* connection) {
  Room& room = *connection->room;
  absl::StatusOr<coral::AsyncMutex::Guard> guard = co_await room.mu.Lock();
  if (!guard.ok()) co_return guard.status();
  room.channel.Send(Text(room.name.empty()
                             ? std::string("*** you are in no room: /join ROOM\n")
                             : absl::StrCat("*** ", room.name, ": ", MemberList(room), "\n"),
                         connection->id));
  co_return absl::OkStatus();
}

coral::Task<absl::Status> Server::Rename(Connection* connection, std::string nick) {
  Room& room = *connection->room;
  if (nick.empty() || nick.size() > kMaxNick || absl::StrContains(nick, ' ') ||
      absl::StartsWith(nick, "*")) {
    room.channel.Send(Text(absl::StrCat("*** a name is one word of at most ", kMaxNick,
                                        " bytes, not starting with '*'\n"),
                           connection->id));
    co_return absl::OkStatus();
  }
  absl::StatusOr<coral::AsyncMutex::Guard> guard = co_await room.mu.Lock();
  if (!guard.ok()) co_return guard.status();
  room.channel.Send(Text(absl::StrCat("*** ", connection->nick, " is now ", nick, "\n"),
                         room.name.empty() ? connection->id : 0));
  connection->nick = std::move(nick);
  co_return absl::OkStatus();
}

// Reads and acts on the client's lines until /quit, the end of the stream, an error or `stop`.
coral::Task<void> Server::ReadLines(coral::TcpStream* stream, Connection* connection) {
  // The line and its "\n" (a "\r" before it is part of the line for the limit).
  coral::BufferedReader reader(stream, {.read_size = 4096, .max_buffered = options_.max_line + 1});
  for (;;) {
    absl::StatusOr<absl::string_view> line = co_await reader.ReadLine();
    if (absl::IsResourceExhausted(line.status())) {
      connection->room->channel.Send(
          Text(absl::StrCat("*** line longer than ", options_.max_line, " bytes: closing\n"),
               connection->id));
      co_return;
    }
    if (!line.ok()) co_return;  // The end, a read error, or the shutdown.
    if (!absl::StartsWith(*line, "/")) {
      if (connection->room->name.empty()) {
        connection->room->channel.Send(Text("*** /join ROOM first\n", connection->id));
      } else {
        connection->room->channel.Send(Text(absl::StrCat(connection->nick, ": ", *line, "\n")));
        stats_.lines.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic.
      }
      continue;
    }
    const absl::string_view command = line->substr(0, line->find(' '));
    const absl::string_view argument =
        command.size() < line->size() ? line->substr(command.size() + 1) : absl::string_view();
    absl::Status status;
    if (command == "/quit") {
      co_return;
    } else if (command == "/join" && !argument.empty() && !absl::StrContains(argument, ' ')) {
      co_await Move(connection, std::string(argument));
    } else if (command == "/nick") {
      status = co_await Rename(connection, std::string(argument));
    } else if (command == "/who") {
      status = co_await Who(connection);
    } else {
      connection->room->channel.Send(
          Text("*** commands: /join ROOM, /nick NAME, /who, /quit\n", connection->id));
    }
    if (!status.ok()) co_return;  // Cancelled: the shutdown.
  }
}

coral::Task<void> Server::Read(coral::TcpStream* stream, Connection* connection,
                               coral::CancellationToken stop, coral::CancellationToken drain) {
  co_await coral::WithCancellation(std::move(stop), ReadLines(stream, connection));
  if (drain.IsCancelled()) {
    connection->room->channel.Send(Text("*** server shutting down\n", connection->id));
  }
  // Under the group's token, which only a failed write or the drain deadline cancels. Its kQuit
  // ends the writer once everything before it is written.
  co_await Move(connection, "");
}

coral::Task<void> Server::ServeConnection(coral::TcpStream stream, coral::CancellationToken drain) {
  stats_.open.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic.
  if (options_.send_buffer > 0) {
    (void)::setsockopt(stream.fd(), SOL_SOCKET, SO_SNDBUF, &options_.send_buffer,
                       sizeof(options_.send_buffer));
  }
  (void)stream.SetNoDelay(true);
  Connection connection(next_id_.fetch_add(1, std::memory_order_relaxed));  // relaxed: a counter.
  connection.room = std::make_shared<Room>("", kOwnRoomBacklog);
  connection.room->members.push_back(&connection);  // Nobody else knows the room yet.
  coral::BroadcastReceiver<Message> receiver = connection.room->channel.Subscribe();
  connection.room->channel.Send(Text(
      absl::StrCat("*** welcome, ", connection.nick, ": /join ROOM to start\n"), connection.id));
  {
    coral::TaskGroup tasks;  // A failed write cancels the reading; the reader ends the writer.
    // Reading ends at the shutdown (`drain`) or when the writer failed (the group's token).
    coral::CancellationSource stop_reading(tasks.token());
    coral::CancellationCallback on_drain(drain, [&stop_reading] { stop_reading.Cancel(); });
    tasks.Spawn(WriteMessages, &stream, &connection, std::move(receiver), &stats_);
    tasks.Spawn(
        [this](coral::TcpStream* reading, Connection* client, coral::CancellationToken stop,
               coral::CancellationToken shutdown) {
          return Read(reading, client, std::move(stop), std::move(shutdown));
        },
        &stream, &connection, stop_reading.token(), drain);
    (void)co_await tasks.Join();
  }
  stats_.open.fetch_sub(1, std::memory_order_relaxed);
}

coral::Task<void> Server::Accept(coral::TcpListener listener, coral::CancellationToken drain,
                                 coral::TaskGroup* connections) {
  for (;;) {
    absl::StatusOr<coral::TcpStream> stream =
        co_await coral::WithCancellation(drain, listener.Accept());
    if (absl::IsCancelled(stream.status())) break;
    if (!stream.ok()) continue;
    stats_.accepted.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic.
    connections->Spawn(
        [this](coral::TcpStream accepted, coral::CancellationToken token) {
          return ServeConnection(std::move(accepted), std::move(token));
        },
        *std::move(stream), drain);
  }
  listener.Close();
}

coral::Task<void> Server::Serve(coral::TcpListener listener, coral::CancellationToken stop) {
  coral::TaskGroup connections(coral::TaskGroup::OnFailure::kKeepGoing);
  coral::CancellationSource drain(connections.token());
  {
    coral::CancellationCallback on_stop(stop, [&drain] { drain.Cancel(); });
    connections.Spawn(
        [this](coral::TcpListener accepting, coral::CancellationToken token,
               coral::TaskGroup* group) {
          return Accept(std::move(accepting), std::move(token), group);
        },
        std::move(listener), drain.token(), &connections);
    (void)co_await drain.token().Cancelled();
  }
  const coral::CancellationSource deadline =
      coral::CancellationSource::WithDeadline(coral::Now() + options_.drain_timeout);
  coral::CancellationCallback cut_off(deadline.token(), [&connections] { connections.Cancel(); });
  (void)co_await connections.Join();
}

}  // namespace chat
