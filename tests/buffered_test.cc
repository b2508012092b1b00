// Copyright 2026 The coral Authors.
//
// BufferedReader, BufferedWriter, Copy and CopyBidirectional over Unix-domain socket pairs: lines
// and delimiters split across reads, the max_buffered limit, end of stream, cancel safety (a read
// or flush cut short by a Timeout loses and duplicates no byte), coalescing, the destruction
// policy, and a proxy.

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/buffered_reader.h"
#include "coral/buffered_writer.h"
#include "coral/copy.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/stream.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/unix_socket.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

static_assert(Stream<UnixStream>);
static_assert(ReadStream<BufferedReader<UnixStream>>);

// A connected pair, ends `a` and `b`.
std::pair<UnixStream, UnixStream> Pair() {
  absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
  EXPECT_TRUE(pair.ok()) << pair.status();
  return *std::move(pair);
}

// Reads `stream` to its end.
Task<std::string> ReadToEnd(UnixStream* stream) {
  std::string all;
  char buffer[4096];
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
    if (!n.ok() || *n == 0) co_return all;
    all.append(buffer, *n);
  }
}

class BufferedTest : public ::testing::Test {
 protected:
  Runtime runtime_{{.num_workers = 2}};
};

TEST_F(BufferedTest, LinesSplitAcrossReads) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    // read_size 3: every line arrives over several reads.
    BufferedReader reader(&b, {.read_size = 3});
    EXPECT_TRUE((co_await a.WriteAll("first\r\nsecond\n\nlast")).ok());
    EXPECT_TRUE(a.ShutdownWrite().ok());
    absl::StatusOr<absl::string_view> line = co_await reader.ReadLine();
    EXPECT_EQ(line.value_or("error"), "first");
    line = co_await reader.ReadLine();
    EXPECT_EQ(line.value_or("error"), "second");
    line = co_await reader.ReadLine();
    EXPECT_EQ(line.value_or("error"), "");
    line = co_await reader.ReadLine();
    EXPECT_TRUE(absl::IsOutOfRange(line.status())) << line.status();
    EXPECT_EQ(reader.buffered(), "last");  // The unterminated rest stays readable.
  };
  runtime_.BlockOn(body());
}

TEST_F(BufferedTest, ReadUntilFindsADelimiterSplitAcrossReads) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    BufferedReader reader(&b, {.read_size = 2});
    EXPECT_TRUE((co_await a.WriteAll("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody")).ok());
    absl::StatusOr<absl::string_view> head = co_await reader.ReadUntil("\r\n\r\n");
    EXPECT_EQ(head.value_or("error"), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    absl::StatusOr<absl::string_view> body = co_await reader.Peek(4);
    EXPECT_EQ(body.value_or("error"), "body");
    EXPECT_EQ(reader.buffered(), "body");  // Peek consumed nothing.
  };
  runtime_.BlockOn(body());
}

TEST_F(BufferedTest, OverlongLineFailsAndTheReaderStaysConsistent) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    BufferedReader reader(&b, {.read_size = 4, .max_buffered = 16});
    EXPECT_TRUE((co_await a.WriteAll(std::string(20, 'x') + "\nshort\n")).ok());
    absl::StatusOr<absl::string_view> line = co_await reader.ReadLine();
    EXPECT_TRUE(absl::IsResourceExhausted(line.status())) << line.status();
    // Nothing consumed: exactly the first max_buffered bytes are held.
    EXPECT_EQ(reader.buffered(), std::string(16, 'x'));
    EXPECT_TRUE(absl::IsResourceExhausted((co_await reader.Fill()).status()));
    EXPECT_TRUE(absl::IsResourceExhausted((co_await reader.Peek(17)).status()));
    // The caller skips the over-long line and carries on.
    reader.Consume(16);
    line = co_await reader.ReadLine();
    EXPECT_EQ(line.value_or("error"), "xxxx");
    line = co_await reader.ReadLine();
    EXPECT_EQ(line.value_or("error"), "short");
  };
  runtime_.BlockOn(body());
}

// The limit counts the delimiter: a line of exactly max_buffered bytes with its "\n" is read, one
// byte more is refused; and so is a delimiter past the limit in bytes a failed ReadExact put
// back (the buffer then holds more than max_buffered).
TEST_F(BufferedTest, TheLimitIsExactAndHoldsAfterAReadExactPutBack) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    BufferedReader reader(&b, {.read_size = 4, .max_buffered = 8});
    EXPECT_TRUE((co_await a.WriteAll("1234567\n123456\r\n12345678\n")).ok());
    EXPECT_EQ((co_await reader.ReadLine()).value_or("error"), "1234567");
    EXPECT_EQ((co_await reader.ReadUntil("\r\n")).value_or("error"), "123456\r\n");
    EXPECT_TRUE(absl::IsResourceExhausted((co_await reader.ReadLine()).status()));
    reader.Consume(reader.buffered().size());
    EXPECT_EQ((co_await reader.ReadLine()).value_or("error"), "");

    EXPECT_TRUE((co_await a.WriteAll("abcdefghijkl\nxy")).ok());
    a.Close();
    std::string out(20, '\0');
    EXPECT_TRUE(absl::IsOutOfRange(co_await reader.ReadExact(absl::MakeSpan(out))));
    EXPECT_EQ(reader.buffered(), "abcdefghijkl\nxy");
    EXPECT_TRUE(absl::IsResourceExhausted((co_await reader.ReadLine()).status()));
    EXPECT_EQ(reader.buffered(), "abcdefghijkl\nxy");
  };
  runtime_.BlockOn(body());
}

TEST_F(BufferedTest, ReadExactOfAnySizeAndEndOfStreamPutsTheBytesBack) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    BufferedReader reader(&b, {.read_size = 8, .max_buffered = 16});
    std::string sent;
    for (int i = 0; i < 1000; ++i) absl::StrAppend(&sent, i, ",");
    JoinHandle<absl::Status> writer = Spawn([&a, &sent]() -> Task<absl::Status> {
      absl::Status status = co_await a.WriteAll(sent);
      if (!status.ok()) co_return status;
      co_return a.ShutdownWrite();
    });
    std::string small(5, '\0');
    EXPECT_TRUE((co_await reader.ReadExact(absl::MakeSpan(small))).ok());
    EXPECT_EQ(small, sent.substr(0, 5));
    // Far larger than max_buffered: read straight into the destination.
    std::string large(sent.size() - 10, '\0');
    EXPECT_TRUE((co_await reader.ReadExact(absl::MakeSpan(large))).ok());
    EXPECT_EQ(large, sent.substr(5, large.size()));
    EXPECT_TRUE((co_await std::move(writer)).ok());
    std::string too_many(8, '\0');
    absl::Status status = co_await reader.ReadExact(absl::MakeSpan(too_many));
    EXPECT_TRUE(absl::IsOutOfRange(status)) << status;
    EXPECT_EQ(reader.buffered(), sent.substr(sent.size() - 5));
  };
  runtime_.BlockOn(body());
}

TEST_F(BufferedTest, ReadDrainsTheBufferFirst) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    BufferedReader reader(&b, {.read_size = 4});
    EXPECT_TRUE((co_await a.WriteAll("abcdefgh")).ok());
    EXPECT_EQ((co_await reader.Peek(2)).value_or("error"), "ab");
    char out[16];
    absl::StatusOr<size_t> n = co_await reader.Read(absl::MakeSpan(out));
    EXPECT_EQ(absl::string_view(out, n.value_or(0)), "abcd");  // What the Peek's read brought in.
    n = co_await reader.Read(absl::MakeSpan(out));  // Straight from the stream: 16 >= read_size.
    EXPECT_EQ(absl::string_view(out, n.value_or(0)), "efgh");
  };
  runtime_.BlockOn(body());
}

// The cancel-safety contract on the paused clock: a read cut short by a Timeout (the runtime goes
// idle with the read waiting, so the clock jumps to the deadline) has consumed nothing, and the
// next read sees every byte, in order.
TEST(BufferedCancelTest, ACancelledReadLosesNoByte) {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    BufferedReader reader(&b, {.read_size = 2});
    EXPECT_TRUE((co_await a.WriteAll("hel")).ok());
    absl::StatusOr<absl::string_view> line = co_await Timeout(absl::Seconds(1), reader.ReadLine());
    EXPECT_TRUE(absl::IsDeadlineExceeded(line.status())) << line.status();
    EXPECT_EQ(reader.buffered(), "hel");

    std::string ten(10, '\0');
    EXPECT_TRUE((co_await a.WriteAll("lo\n0123")).ok());
    EXPECT_EQ((co_await reader.ReadLine()).value_or("error"), "hello");
    absl::Status exact = co_await Timeout(absl::Seconds(1), reader.ReadExact(absl::MakeSpan(ten)));
    EXPECT_TRUE(absl::IsDeadlineExceeded(exact)) << exact;
    EXPECT_EQ(reader.buffered(), "0123");
    absl::StatusOr<absl::string_view> peeked = co_await Timeout(absl::Seconds(1), reader.Peek(6));
    EXPECT_TRUE(absl::IsDeadlineExceeded(peeked.status())) << peeked.status();

    EXPECT_TRUE((co_await a.WriteAll("456789")).ok());
    EXPECT_TRUE((co_await reader.ReadExact(absl::MakeSpan(ten))).ok());
    EXPECT_EQ(ten, "0123456789");
  };
  runtime.BlockOn(body());
}

// A stream that reads the chunks it was given, then parks: it sets `parked` and waits on an event
// nobody sets, until its task is torn down. Its Write takes at most `write_size` bytes a call and
// parks on the call numbered `park_write` (counting from 0), the first time only.
struct ParkingStream {
  Task<absl::StatusOr<size_t>> Read(absl::Span<char> out) {
    if (chunks.empty()) {
      parked.Set();
      co_return co_await Never();
    }
    const size_t n = std::min(out.size(), chunks.front().size());
    std::memcpy(out.data(), chunks.front().data(), n);
    chunks.front().erase(0, n);
    if (chunks.front().empty()) chunks.erase(chunks.begin());
    co_return n;
  }
  Task<absl::StatusOr<size_t>> Write(absl::string_view data) {
    if (writes++ == park_write) {
      parked.Set();
      co_return co_await Never();
    }
    const size_t n = std::min(data.size(), write_size);
    written.append(data.data(), n);
    co_return n;
  }
  Task<absl::StatusOr<size_t>> Never() {
    (void)co_await never.Wait();
    co_return absl::CancelledError("parked");
  }

  std::vector<std::string> chunks;
  size_t write_size = 3;
  int park_write = -1;
  int writes = 0;
  std::string written;
  Event parked;
  Event never;
};

// A reader moved from holds nothing (and no dangling view of its old buffer).
TEST_F(BufferedTest, AMovedFromReaderIsEmpty) {
  auto body = []() -> Task<void> {
    ParkingStream stream;
    stream.chunks = {"one\ntwo"};
    BufferedReader reader(&stream);
    EXPECT_EQ((co_await reader.ReadLine()).value_or("error"), "one");
    BufferedReader other = std::move(reader);
    EXPECT_EQ(other.buffered(), "two");
    EXPECT_TRUE(reader.buffered().empty());
  };
  runtime_.BlockOn(body());
}

// A ReadExact torn down (JoinHandle::Abort) while it waits for more bytes puts back the bytes it
// had already taken: the reader's owner reads them next.
TEST_F(BufferedTest, AReadExactTornDownLosesNoByte) {
  auto body = []() -> Task<void> {
    ParkingStream stream;
    stream.chunks = {"ab", "cd"};
    BufferedReader reader(&stream, {.read_size = 2});
    std::string out(6, '\0');
    JoinHandle<absl::Status> handle = Spawn(
        [&]() -> Task<absl::Status> { co_return co_await reader.ReadExact(absl::MakeSpan(out)); });
    EXPECT_TRUE((co_await stream.parked.Wait()).ok());
    handle.Abort();
    EXPECT_TRUE(absl::IsCancelled(co_await std::move(handle)));
    EXPECT_EQ(reader.buffered(), "abcd");
  };
  runtime_.BlockOn(body());
}

// A Flush torn down after some writes drops what it wrote: the next Flush writes only the rest.
TEST_F(BufferedTest, AFlushTornDownWritesNothingTwice) {
  auto body = []() -> Task<void> {
    ParkingStream stream;
    stream.park_write = 2;
    BufferedWriter writer(&stream);
    writer.Append("abcdefghij");
    JoinHandle<absl::Status> handle =
        Spawn([&]() -> Task<absl::Status> { co_return co_await writer.Flush(); });
    EXPECT_TRUE((co_await stream.parked.Wait()).ok());
    handle.Abort();
    EXPECT_TRUE(absl::IsCancelled(co_await std::move(handle)));
    EXPECT_EQ(writer.buffered(), "ghij");
    EXPECT_TRUE((co_await writer.Flush()).ok());
    EXPECT_EQ(stream.written, "abcdefghij");
  };
  runtime_.BlockOn(body());
}

TEST_F(BufferedTest, WriterCoalescesUntilFlush) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    BufferedWriter writer(&a, {.capacity = 64});
    for (int i = 0; i < 10; ++i) EXPECT_TRUE((co_await writer.Write("12345")).ok());
    writer.Append("!");
    char out[128];
    // Nothing was written yet.
    EXPECT_TRUE(absl::IsUnavailable(b.TryRead(absl::MakeSpan(out)).status()));
    EXPECT_EQ(writer.buffered().size(), 51u);
    EXPECT_TRUE((co_await writer.Flush()).ok());
    EXPECT_TRUE(writer.buffered().empty());
    BufferedReader reader(&b);
    std::string got(51, '\0');
    EXPECT_TRUE((co_await reader.ReadExact(absl::MakeSpan(got))).ok());
    std::string expected;
    for (int i = 0; i < 10; ++i) expected += "12345";
    EXPECT_EQ(got, expected + "!");
    // Reaching the capacity flushes; a large write into an empty buffer goes straight out.
    EXPECT_TRUE((co_await writer.Write(std::string(60, 'a'))).ok());
    EXPECT_TRUE((co_await writer.Write(std::string(10, 'b'))).ok());
    EXPECT_TRUE(writer.buffered().empty());
    EXPECT_TRUE((co_await writer.Write(std::string(100, 'c'))).ok());
    EXPECT_TRUE(writer.buffered().empty());
    std::string rest(170, '\0');
    EXPECT_TRUE((co_await reader.ReadExact(absl::MakeSpan(rest))).ok());
    EXPECT_EQ(rest, std::string(60, 'a') + std::string(10, 'b') + std::string(100, 'c'));
  };
  runtime_.BlockOn(body());
}

// A flush cut short while the peer does not read keeps the unwritten bytes; the next flush writes
// exactly the rest.
TEST(BufferedCancelTest, ACancelledFlushKeepsTheRest) {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    std::string sent;
    for (int i = 0; sent.size() < (4 << 20); ++i) absl::StrAppend(&sent, i, ";");
    BufferedWriter writer(&a);
    writer.Append(sent);  // Far more than a socket buffer holds.
    absl::Status flushed = co_await Timeout(absl::Seconds(1), writer.Flush());
    EXPECT_TRUE(absl::IsDeadlineExceeded(flushed)) << flushed;
    EXPECT_FALSE(writer.buffered().empty());
    EXPECT_LT(writer.buffered().size(), sent.size());
    EXPECT_EQ(writer.buffered(),
              absl::string_view(sent).substr(sent.size() - writer.buffered().size()));
    TaskGroup group;
    std::string received;
    group.Spawn([&]() -> Task<void> { received = co_await ReadToEnd(&b); });
    EXPECT_TRUE((co_await writer.Flush()).ok());
    a.Close();
    EXPECT_TRUE((co_await group.Join()).ok());
    EXPECT_EQ(received, sent);
  };
  runtime.BlockOn(body());
}

void DropUnflushedBytes() {
  auto [a, b] = Pair();
  BufferedWriter writer(&a);
  writer.Append("lost");
}

// A Copy through no buffer would read 0 bytes, which means the end of stream: it copied nothing.
void CopyWithNoBuffer() {
  Runtime runtime({.num_workers = 1});
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    auto [c, d] = Pair();
    (void)co_await Copy(b, c, /*buffer_size=*/0);
  };
  runtime.BlockOn(body());
}

TEST(BufferedWriterDeathTest, DestroyedWithUnflushedBytesAborts) {
  EXPECT_DEATH(DropUnflushedBytes(), "coral::BufferedWriter destroyed with unflushed bytes");
}

// A Copy into a BufferedWriter cut short in a read: the writer's bytes are not reported as lost
// by the writer itself, so dropping it unflushed aborts (copy.h: Errors).
void DropAWriterAfterACancelledCopy() {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  auto body = []() -> Task<void> {
    ParkingStream source;
    source.chunks = {"abc"};
    auto [a, b] = Pair();
    BufferedWriter writer(&a);
    absl::StatusOr<uint64_t> copied = co_await Timeout(absl::Seconds(1), Copy(source, writer));
    EXPECT_TRUE(absl::IsDeadlineExceeded(copied.status())) << copied.status();
    EXPECT_EQ(writer.buffered(), "abc");
  };
  runtime.BlockOn(body());
}

TEST(CopyDeathTest, ZeroBufferSizeAborts) {
  EXPECT_DEATH(CopyWithNoBuffer(), "coral::Copy with a buffer_size of 0");
}

TEST(CopyDeathTest, AWriterLeftUnflushedByACancelledCopyAborts) {
  EXPECT_DEATH(DropAWriterAfterACancelledCopy(),
               "coral::BufferedWriter destroyed with unflushed bytes");
}

TEST(BufferedWriterTest, DiscardedOrFailedBytesMayBeDropped) {
  Runtime runtime({.num_workers = 1});
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    {
      BufferedWriter writer(&a);
      writer.Append("dropped on purpose");
      writer.Discard();
    }
    b.Close();
    {
      BufferedWriter writer(&a);
      writer.Append("the peer is gone");
      // The failure was reported: destroying the writer now is not a silent loss.
      EXPECT_FALSE((co_await writer.Flush()).ok());
      EXPECT_FALSE(writer.buffered().empty());
    }
  };
  runtime.BlockOn(body());
}

TEST_F(BufferedTest, CopyFromABufferedReaderToABufferedWriter) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    auto [c, d] = Pair();
    std::string sent;
    for (int i = 0; i < 20000; ++i) absl::StrAppend(&sent, i, "\n");
    TaskGroup group;
    group.Spawn([&]() -> Task<absl::Status> {
      absl::Status status = co_await WriteAll(a, sent);
      if (!status.ok()) co_return status;
      co_return a.ShutdownWrite();
    });
    std::string received;
    group.Spawn([&]() -> Task<void> { received = co_await ReadToEnd(&d); });
    BufferedReader reader(&b);
    // The first line is taken by hand; Copy moves the buffered rest first.
    EXPECT_EQ((co_await reader.ReadLine()).value_or("error"), "0");
    BufferedWriter writer(&c, {.capacity = 1000});
    absl::StatusOr<uint64_t> copied = co_await Copy(reader, writer, 777);
    EXPECT_EQ(copied.value_or(0), sent.size() - 2);
    c.Close();
    EXPECT_TRUE((co_await group.Join()).ok());
    EXPECT_EQ(received, sent.substr(2));
  };
  runtime_.BlockOn(body());
}

// client <-> (proxy_client_side | proxy_backend_side) <-> echo backend.
TEST_F(BufferedTest, CopyBidirectionalProxiesAndHalfCloses) {
  auto body = []() -> Task<void> {
    auto [client, proxy_front] = Pair();
    auto [proxy_back, backend] = Pair();
    std::string sent;
    for (int i = 0; i < 50000; ++i) absl::StrAppend(&sent, i, " ");
    TaskGroup group;
    CopyCounts counts;
    group.Spawn([&]() -> Task<absl::Status> {
      absl::StatusOr<CopyCounts> result = co_await CopyBidirectional(proxy_front, proxy_back);
      if (!result.ok()) co_return result.status();
      counts = *result;
      co_return absl::OkStatus();
    });
    // The backend echoes until end of stream, then half-closes.
    group.Spawn([&]() -> Task<absl::Status> {
      absl::StatusOr<uint64_t> n = co_await Copy(backend, backend);
      if (!n.ok()) co_return n.status();
      co_return backend.ShutdownWrite();
    });
    group.Spawn([&]() -> Task<absl::Status> {
      absl::Status status = co_await WriteAll(client, sent);
      if (!status.ok()) co_return status;
      co_return client.ShutdownWrite();
    });
    std::string echoed = co_await ReadToEnd(&client);
    EXPECT_TRUE((co_await group.Join()).ok());
    EXPECT_EQ(echoed, sent);
    EXPECT_EQ(counts.a_to_b, sent.size());
    EXPECT_EQ(counts.b_to_a, sent.size());
  };
  runtime_.BlockOn(body());
}

}  // namespace
}  // namespace coral
