// Copyright 2026 The coral Authors.

#include "examples/kv_resp.h"

#include "absl/strings/str_cat.h"

namespace kv {
namespace {

using Kind = ParseResult::Kind;

ParseResult Error(const char* text) { return {.kind = Kind::kError, .error = text}; }
ParseResult Incomplete() { return {.kind = Kind::kIncomplete}; }

}  // namespace

bool ParseInteger(absl::string_view text, int64_t* out) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 19) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > static_cast<uint64_t>(INT64_MAX) + (negative ? 1 : 0)) return false;
  *out = negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
  return true;
}

namespace {

enum class LineStatus { kOk, kIncomplete, kTooLong, kMalformed };

// The "\r\n"-terminated line that starts at `begin`: `*line` without its end, `*next` past it.
LineStatus FindLine(absl::string_view input, size_t begin, size_t max, absl::string_view* line,
                    size_t* next) {
  const absl::string_view rest = input.substr(begin);
  const size_t newline = rest.substr(0, max + 2).find('\n');
  if (newline == absl::string_view::npos) {
    return rest.size() >= max + 2 ? LineStatus::kTooLong : LineStatus::kIncomplete;
  }
  if (newline == 0 || rest[newline - 1] != '\r') return LineStatus::kMalformed;
  *line = rest.substr(0, newline - 1);
  *next = begin + newline + 1;
  return LineStatus::kOk;
}

ParseResult ParseArray(absl::string_view input, const RespLimits& limits,
                       std::vector<absl::string_view>* arguments) {
  absl::string_view line;
  size_t pos = 0;
  switch (FindLine(input, 1, limits.max_inline, &line, &pos)) {
    case LineStatus::kOk:
      break;
    case LineStatus::kIncomplete:
      return Incomplete();
    case LineStatus::kTooLong:
      return Error("Protocol error: too big mbulk count string");
    case LineStatus::kMalformed:
      return Error("Protocol error: invalid multibulk length");
  }
  int64_t count = 0;
  if (!ParseInteger(line, &count) || count > static_cast<int64_t>(limits.max_arguments)) {
    return Error("Protocol error: invalid multibulk length");
  }
  for (int64_t i = 0; i < count; ++i) {
    if (pos >= input.size()) return Incomplete();
    if (input[pos] != '$') return Error("Protocol error: expected '$'");
    switch (FindLine(input, pos + 1, limits.max_inline, &line, &pos)) {
      case LineStatus::kOk:
        break;
      case LineStatus::kIncomplete:
        return Incomplete();
      case LineStatus::kTooLong:
      case LineStatus::kMalformed:
        return Error("Protocol error: invalid bulk length");
    }
    int64_t length = 0;
    if (!ParseInteger(line, &length) || length < 0 ||
        static_cast<uint64_t>(length) > limits.max_bulk) {
      return Error("Protocol error: invalid bulk length");
    }
    const size_t size = static_cast<size_t>(length);
    if (input.size() - pos < size + 2) return Incomplete();
    if (input[pos + size] != '\r' || input[pos + size + 1] != '\n') {
      return Error("Protocol error: bulk string not followed by CRLF");
    }
    arguments->push_back(input.substr(pos, size));
    pos += size + 2;
  }
  return {.kind = Kind::kRequest, .consumed = pos};
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

ParseResult ParseInline(absl::string_view input, const RespLimits& limits,
                        std::vector<absl::string_view>* arguments) {
  const size_t newline = input.substr(0, limits.max_inline + 1).find('\n');
  if (newline == absl::string_view::npos) {
    if (input.size() > limits.max_inline) return Error("Protocol error: too big inline request");
    return Incomplete();
  }
  absl::string_view line = input.substr(0, newline);
  size_t i = 0;
  while (i < line.size()) {
    if (IsSpace(line[i])) {
      ++i;
      continue;
    }
    if (line[i] == '"' || line[i] == '\'') {
      const size_t close = line.find(line[i], i + 1);
      if (close == absl::string_view::npos) {
        return Error("Protocol error: unbalanced quotes in request");
      }
      if (close + 1 < line.size() && !IsSpace(line[close + 1])) {
        return Error("Protocol error: unbalanced quotes in request");
      }
      arguments->push_back(line.substr(i + 1, close - i - 1));
      i = close + 1;
      continue;
    }
    const size_t begin = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    arguments->push_back(line.substr(begin, i - begin));
  }
  if (arguments->size() > limits.max_arguments) {
    return Error("Protocol error: invalid multibulk length");
  }
  return {.kind = Kind::kRequest, .consumed = newline + 1};
}

}  // namespace

ParseResult ParseRequest(absl::string_view input, const RespLimits& limits,
                         std::vector<absl::string_view>* arguments) {
  arguments->clear();
  if (input.empty()) return Incomplete();
  if (input.front() == '*') return ParseArray(input, limits, arguments);
  return ParseInline(input, limits, arguments);
}

void AppendSimple(std::string* out, absl::string_view text) {
  absl::StrAppend(out, "+", text, "\r\n");
}
void AppendError(std::string* out, absl::string_view text) {
  absl::StrAppend(out, "-", text, "\r\n");
}
void AppendInteger(std::string* out, int64_t value) { absl::StrAppend(out, ":", value, "\r\n"); }
void AppendBulk(std::string* out, absl::string_view value) {
  absl::StrAppend(out, "$", value.size(), "\r\n", value, "\r\n");
}
void AppendNull(std::string* out) { out->append("$-1\r\n"); }
void AppendArrayHeader(std::string* out, size_t count) { absl::StrAppend(out, "*", count, "\r\n"); }

}  // namespace kv
