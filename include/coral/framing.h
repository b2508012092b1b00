// Copyright 2026 The coral Authors.
//
// Framing: a byte stream cut into messages (frames), with a size limit, over a BufferedReader and
// a BufferedWriter (buffered_reader.h, buffered_writer.h).
//
//   coral::LengthPrefixedCodec codec({.max_frame_size = 1 << 20});
//   absl::StatusOr<std::string> request = co_await codec.Read(reader);
//   absl::Status s = co_await codec.Write(writer, response);   // buffered: Flush to send
//
// LengthPrefixedCodec: each frame is a 4-byte big-endian payload length, then the payload.
// DelimitedCodec: each frame is the payload, then a delimiter ("\n" by default) that the payload
// does not contain.
//
// Limits. A frame whose payload is longer than max_frame_size is refused, on both sides, with
// absl::ResourceExhaustedError when read and absl::InvalidArgumentError when written:
//   - Read refuses a length-prefixed frame from its header alone, before any of its payload is
//     buffered, and a delimited frame once max_frame_size + delimiter bytes have arrived without a
//     delimiter. It consumes nothing then: the header, or the over-long frame's first bytes, stay
//     buffered. A length-prefixed stream cannot be resynchronised past a refused frame (close
//     it); a delimited one can, by consuming the buffered bytes and reading on to the delimiter.
//   - Write refuses before writing anything.
// A DelimitedCodec's reader must be able to hold a whole frame: its max_buffered must be at least
// max_frame_size + the delimiter's size (Read aborts with a message naming DelimitedCodec
// otherwise). A LengthPrefixedCodec reads a payload of any size straight into the returned string.
//
// End of stream. Read fails with absl::OutOfRangeError at the end of stream, before a complete
// frame (with no byte of it buffered: a clean end; otherwise the partial frame stays buffered).
//
// Thread-safety: a codec is an immutable value; its calls use the reader or writer they are given
// (one task at a time each, see their headers).
//
// Cancellation: Read is cancel-safe like BufferedReader's operations: a Read that fails, cancelled
// or not, consumed nothing, and the next Read sees the frame whole. Write buffers the frame whole
// even when its flush is cut short (BufferedWriter::Write), so the next Flush sends the rest.

#ifndef CORAL_FRAMING_H_
#define CORAL_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/buffered_reader.h"
#include "coral/buffered_writer.h"
#include "coral/internal/check.h"
#include "coral/stream.h"
#include "coral/task.h"

namespace coral {

struct LengthPrefixedCodecOptions {
  // The longest payload read or written (at most 2^32 - 1, what the header can say).
  size_t max_frame_size = 1 << 20;
};

class LengthPrefixedCodec {
 public:
  static constexpr size_t kHeaderSize = 4;
  using Options = LengthPrefixedCodecOptions;

  explicit LengthPrefixedCodec(Options options = {}) : options_(options) {}

  // co_await Read(reader): the next frame's payload.
  template <ReadStream S>
  [[nodiscard]] Task<absl::StatusOr<std::string>> Read(BufferedReader<S>& reader) const;

  // co_await Write(writer, payload): buffers the frame (flushing as BufferedWriter::Write does).
  template <WriteStream S>
  [[nodiscard]] Task<absl::Status> Write(BufferedWriter<S>& writer,
                                         absl::string_view payload) const;

 private:
  Options options_;
};

struct DelimitedCodecOptions {
  // Ends every frame; not empty.
  std::string delimiter = "\n";
  // The longest payload read or written, without the delimiter.
  size_t max_frame_size = 64 * 1024;
};

class DelimitedCodec {
 public:
  using Options = DelimitedCodecOptions;

  explicit DelimitedCodec(Options options = {}) : options_(std::move(options)) {
    CORAL_CHECK(!options_.delimiter.empty(), "coral::DelimitedCodec with an empty delimiter");
  }

  // co_await Read(reader): the next frame's payload, without its delimiter.
  template <ReadStream S>
  [[nodiscard]] Task<absl::StatusOr<std::string>> Read(BufferedReader<S>& reader) const;

  // co_await Write(writer, payload): buffers the payload and the delimiter.
  template <WriteStream S>
  [[nodiscard]] Task<absl::Status> Write(BufferedWriter<S>& writer,
                                         absl::string_view payload) const;

 private:
  Options options_;
};

template <ReadStream S>
Task<absl::StatusOr<std::string>> LengthPrefixedCodec::Read(BufferedReader<S>& reader) const {
  absl::StatusOr<absl::string_view> header = co_await reader.Peek(kHeaderSize);
  if (!header.ok()) {
    if (absl::IsOutOfRange(header.status()) && reader.buffered().empty()) {
      co_return absl::OutOfRangeError("coral::LengthPrefixedCodec::Read: end of stream");
    }
    co_return header.status();
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(header->data());
  const size_t length = (size_t{bytes[0]} << 24) | (size_t{bytes[1]} << 16) |
                        (size_t{bytes[2]} << 8) | size_t{bytes[3]};
  if (length > options_.max_frame_size) {
    co_return absl::ResourceExhaustedError(
        absl::StrCat("coral::LengthPrefixedCodec::Read: a frame of ", length,
                     " bytes exceeds max_frame_size (", options_.max_frame_size, ")"));
  }
  // Header and payload in one ReadExact, which puts everything back if it fails.
  std::string frame(kHeaderSize + length, '\0');
  absl::Status read = co_await reader.ReadExact(absl::MakeSpan(frame));
  if (!read.ok()) co_return read;
  frame.erase(0, kHeaderSize);
  co_return frame;
}

template <WriteStream S>
Task<absl::Status> LengthPrefixedCodec::Write(BufferedWriter<S>& writer,
                                              absl::string_view payload) const {
  if (payload.size() > options_.max_frame_size || payload.size() > UINT32_MAX) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("coral::LengthPrefixedCodec::Write: a frame of ", payload.size(),
                     " bytes exceeds max_frame_size (", options_.max_frame_size, ")"));
  }
  const uint32_t length = static_cast<uint32_t>(payload.size());
  const char header[kHeaderSize] = {static_cast<char>(length >> 24),
                                    static_cast<char>(length >> 16), static_cast<char>(length >> 8),
                                    static_cast<char>(length)};
  writer.Append(absl::string_view(header, kHeaderSize));
  co_return co_await writer.Write(payload);
}

template <ReadStream S>
Task<absl::StatusOr<std::string>> DelimitedCodec::Read(BufferedReader<S>& reader) const {
  const absl::string_view delimiter = options_.delimiter;
  const size_t limit = options_.max_frame_size + delimiter.size();
  CORAL_CHECK(reader.options().max_buffered >= limit,
              "coral::DelimitedCodec::Read with a reader whose max_buffered is below "
              "max_frame_size + the delimiter's size");
  size_t searched = 0;  // No delimiter starts before this offset.
  for (;;) {
    const absl::string_view data = reader.buffered();
    const size_t found = data.substr(0, limit).find(delimiter, searched);
    if (found != absl::string_view::npos) {
      std::string payload(data.substr(0, found));
      reader.Consume(found + delimiter.size());
      co_return payload;
    }
    if (data.size() >= limit) {
      co_return absl::ResourceExhaustedError(
          absl::StrCat("coral::DelimitedCodec::Read: no delimiter within max_frame_size (",
                       options_.max_frame_size, ") bytes"));
    }
    if (data.size() >= delimiter.size()) searched = data.size() - delimiter.size() + 1;
    absl::StatusOr<size_t> added = co_await reader.Fill();
    if (!added.ok()) co_return added.status();
    if (*added == 0) {
      co_return absl::OutOfRangeError(
          reader.buffered().empty() ? "coral::DelimitedCodec::Read: end of stream"
                                    : "coral::DelimitedCodec::Read: end of stream inside a frame");
    }
  }
}

template <WriteStream S>
Task<absl::Status> DelimitedCodec::Write(BufferedWriter<S>& writer,
                                         absl::string_view payload) const {
  if (payload.size() > options_.max_frame_size) {
    co_return absl::InvalidArgumentError(
        absl::StrCat("coral::DelimitedCodec::Write: a frame of ", payload.size(),
                     " bytes exceeds max_frame_size (", options_.max_frame_size, ")"));
  }
  if (payload.find(options_.delimiter) != absl::string_view::npos) {
    co_return absl::InvalidArgumentError(
        "coral::DelimitedCodec::Write: the payload contains the delimiter");
  }
  writer.Append(payload);
  co_return co_await writer.Write(options_.delimiter);
}

}  // namespace coral

#endif  // CORAL_FRAMING_H_
