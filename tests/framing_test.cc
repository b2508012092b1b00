// Copyright 2026 The coral Authors.
//
// LengthPrefixedCodec and DelimitedCodec over Unix-domain socket pairs: round trips (empty,
// small, larger than the reader's buffer), oversized frames refused on both sides without
// consuming or writing anything, truncated frames, and a frame read cut short by a Timeout.

#include "coral/framing.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coral/buffered_reader.h"
#include "coral/buffered_writer.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/unix_socket.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

std::pair<UnixStream, UnixStream> Pair() {
  absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
  EXPECT_TRUE(pair.ok()) << pair.status();
  return *std::move(pair);
}

class FramingTest : public ::testing::Test {
 protected:
  Runtime runtime_{{.num_workers = 2}};
};

TEST_F(FramingTest, LengthPrefixedRoundTrip) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    const LengthPrefixedCodec codec({.max_frame_size = 1 << 20});
    const std::vector<std::string> frames = {"", "x", std::string(100000, 'y'), "last"};
    TaskGroup group;
    group.Spawn([&]() -> Task<absl::Status> {
      BufferedWriter writer(&a, {.capacity = 256});
      for (const std::string& frame : frames) {
        absl::Status status = co_await codec.Write(writer, frame);
        if (!status.ok()) co_return status;
      }
      absl::Status status = co_await writer.Flush();
      if (!status.ok()) co_return status;
      co_return a.ShutdownWrite();
    });
    // A small buffer: the large frame is read straight into its string.
    BufferedReader reader(&b, {.read_size = 64, .max_buffered = 1024});
    for (const std::string& frame : frames) {
      absl::StatusOr<std::string> got = co_await codec.Read(reader);
      EXPECT_EQ(got.value_or("error"), frame);
    }
    absl::StatusOr<std::string> end = co_await codec.Read(reader);
    EXPECT_TRUE(absl::IsOutOfRange(end.status())) << end.status();
    EXPECT_TRUE((co_await group.Join()).ok());
  };
  runtime_.BlockOn(body());
}

TEST_F(FramingTest, LengthPrefixedOversizedFramesAreRefused) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    const LengthPrefixedCodec codec({.max_frame_size = 10});
    BufferedWriter writer(&a);
    absl::Status refused = co_await codec.Write(writer, std::string(11, 'z'));
    EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;
    EXPECT_TRUE(writer.buffered().empty());
    // A header announcing 4 GiB - 1: refused from the header, before any payload is buffered.
    EXPECT_TRUE((co_await a.WriteAll(absl::string_view("\xff\xff\xff\xff"
                                                       "abc",
                                                       7)))
                    .ok());
    BufferedReader reader(&b, {.read_size = 4});
    absl::StatusOr<std::string> frame = co_await codec.Read(reader);
    EXPECT_TRUE(absl::IsResourceExhausted(frame.status())) << frame.status();
    EXPECT_EQ(reader.buffered(), "\xff\xff\xff\xff");
  };
  runtime_.BlockOn(body());
}

TEST_F(FramingTest, LengthPrefixedTruncatedFrame) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    const LengthPrefixedCodec codec;
    EXPECT_TRUE((co_await a.WriteAll(absl::string_view("\0\0\0\x05"
                                                       "ab",
                                                       6)))
                    .ok());
    EXPECT_TRUE(a.ShutdownWrite().ok());
    BufferedReader reader(&b);
    absl::StatusOr<std::string> frame = co_await codec.Read(reader);
    EXPECT_TRUE(absl::IsOutOfRange(frame.status())) << frame.status();
    EXPECT_EQ(reader.buffered().size(), 6u);  // The partial frame stays buffered.
  };
  runtime_.BlockOn(body());
}

TEST_F(FramingTest, DelimitedRoundTripAndOversizedFrames) {
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    const DelimitedCodec codec({.delimiter = "\r\n", .max_frame_size = 8});
    BufferedWriter writer(&a);
    EXPECT_TRUE((co_await codec.Write(writer, "one")).ok());
    EXPECT_TRUE((co_await codec.Write(writer, "")).ok());
    EXPECT_TRUE(absl::IsInvalidArgument(co_await codec.Write(writer, "a\r\nb")));
    EXPECT_TRUE(absl::IsInvalidArgument(co_await codec.Write(writer, "123456789")));
    EXPECT_EQ(writer.buffered(), "one\r\n\r\n");
    writer.Append("123456789\r\n12345678\r\ntail");
    EXPECT_TRUE((co_await writer.Flush()).ok());
    EXPECT_TRUE(a.ShutdownWrite().ok());

    // read_size 3: the delimiter arrives split across reads.
    BufferedReader reader(&b, {.read_size = 3, .max_buffered = 10});
    EXPECT_EQ((co_await codec.Read(reader)).value_or("error"), "one");
    EXPECT_EQ((co_await codec.Read(reader)).value_or("error"), "");
    absl::StatusOr<std::string> frame = co_await codec.Read(reader);
    EXPECT_TRUE(absl::IsResourceExhausted(frame.status())) << frame.status();
    EXPECT_EQ(reader.buffered(), "123456789\r");  // Nothing consumed.
    // Resynchronise: drop the over-long frame up to its delimiter.
    reader.Consume(reader.buffered().size());
    EXPECT_TRUE((co_await reader.ReadUntil("\n")).ok());
    EXPECT_EQ((co_await codec.Read(reader)).value_or("error"), "12345678");  // Exactly the limit.
    frame = co_await codec.Read(reader);
    EXPECT_TRUE(absl::IsOutOfRange(frame.status())) << frame.status();
    EXPECT_EQ(reader.buffered(), "tail");
  };
  runtime_.BlockOn(body());
}

TEST(FramingCancelTest, ACancelledFrameReadLosesNoByte) {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  auto body = []() -> Task<void> {
    auto [a, b] = Pair();
    const LengthPrefixedCodec codec;
    BufferedReader reader(&b, {.read_size = 4});
    EXPECT_TRUE((co_await a.WriteAll(absl::string_view("\0\0\0\x0a"
                                                       "01234",
                                                       9)))
                    .ok());
    absl::StatusOr<std::string> frame = co_await Timeout(absl::Seconds(1), codec.Read(reader));
    EXPECT_TRUE(absl::IsDeadlineExceeded(frame.status())) << frame.status();
    EXPECT_TRUE((co_await a.WriteAll("56789")).ok());
    EXPECT_EQ((co_await codec.Read(reader)).value_or("error"), "0123456789");
  };
  runtime.BlockOn(body());
}

}  // namespace
}  // namespace coral
