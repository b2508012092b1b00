// Copyright 2026 The coral Authors.

#include "examples/kv_commands.h"

#include <algorithm>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/clock.h"
#include "examples/kv_resp.h"

namespace kv {
namespace {

using Arguments = absl::Span<const absl::string_view>;

constexpr absl::string_view kNotAnInteger = "ERR value is not an integer or out of range";
constexpr absl::string_view kSyntaxError = "ERR syntax error";

bool Is(absl::string_view name, absl::string_view command) {
  return absl::EqualsIgnoreCase(name, command);
}

void WrongArity(std::string* out, absl::string_view command) {
  AppendError(out, absl::StrCat("ERR wrong number of arguments for '", command, "' command"));
}

// A client's bytes made safe inside an error line: at most 128 of them, line ends as spaces.
std::string Quote(absl::string_view text) {
  std::string quoted(text.substr(0, 128));
  std::replace_if(
      quoted.begin(), quoted.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return quoted;
}

void UnknownCommand(Arguments arguments, std::string* out) {
  std::string text =
      absl::StrCat("ERR unknown command '", Quote(arguments[0]), "', with args beginning with: ");
  for (size_t i = 1; i < arguments.size() && text.size() < 512; ++i) {
    absl::StrAppend(&text, "'", Quote(arguments[i]), "' ");
  }
  AppendError(out, text);
}

void Set(Arguments arguments, Store* store, std::string* out) {
  if (arguments.size() < 3) return WrongArity(out, "set");
  Store::Condition condition = Store::Condition::kAlways;
  coral::Instant expires = coral::Instant::InfiniteFuture();
  bool has_expiry = false;
  for (size_t i = 3; i < arguments.size(); ++i) {
    const absl::string_view option = arguments[i];
    if (Is(option, "NX") || Is(option, "XX")) {
      if (condition != Store::Condition::kAlways) return AppendError(out, kSyntaxError);
      condition = Is(option, "NX") ? Store::Condition::kIfAbsent : Store::Condition::kIfPresent;
    } else if (Is(option, "EX") || Is(option, "PX")) {
      if (has_expiry || i + 1 == arguments.size()) return AppendError(out, kSyntaxError);
      int64_t amount = 0;
      if (!ParseInteger(arguments[++i], &amount)) return AppendError(out, kNotAnInteger);
      if (amount <= 0) return AppendError(out, "ERR invalid expire time in 'set' command");
      has_expiry = true;
      expires =
          coral::Now() + (Is(option, "EX") ? absl::Seconds(amount) : absl::Milliseconds(amount));
    } else {
      return AppendError(out, kSyntaxError);
    }
  }
  if (store->Set(arguments[1], arguments[2], condition, expires)) {
    AppendSimple(out, "OK");
  } else {
    AppendNull(out);
  }
}

void IncrementBy(absl::string_view key, int64_t delta, Store* store, std::string* out) {
  absl::StatusOr<int64_t> value = store->IncrementBy(key, delta);
  if (value.ok()) return AppendInteger(out, *value);
  AppendError(out, absl::StrCat("ERR ", value.status().message()));
}

void Config(Arguments arguments, std::string* out) {
  if (arguments.size() < 2) return WrongArity(out, "config");
  if (!Is(arguments[1], "GET")) {
    return AppendError(
        out, absl::StrCat("ERR unknown subcommand '", Quote(arguments[1]), "'. Try CONFIG HELP."));
  }
  if (arguments.size() < 3) return WrongArity(out, "config|get");
  // No persistence: what redis-server --save '' --appendonly no reports.
  std::string pairs;
  size_t count = 0;
  for (size_t i = 2; i < arguments.size(); ++i) {
    if (Is(arguments[i], "save")) {
      AppendBulk(&pairs, "save");
      AppendBulk(&pairs, "");
      count += 2;
    } else if (Is(arguments[i], "appendonly")) {
      AppendBulk(&pairs, "appendonly");
      AppendBulk(&pairs, "no");
      count += 2;
    }
  }
  AppendArrayHeader(out, count);
  out->append(pairs);
}

// Every command but QUIT.
void Dispatch(Arguments arguments, Store* store, std::string* out) {
  const absl::string_view name = arguments[0];
  const size_t n = arguments.size();
  // The benchmark's commands first.
  if (Is(name, "GET")) {
    if (n != 2) {
      WrongArity(out, "get");
    } else if (!store->Get(arguments[1],
                           [out](absl::string_view value) { AppendBulk(out, value); })) {
      AppendNull(out);
    }
  } else if (Is(name, "SET")) {
    Set(arguments, store, out);
  } else if (Is(name, "PING")) {
    if (n == 1) {
      AppendSimple(out, "PONG");
    } else if (n == 2) {
      AppendBulk(out, arguments[1]);
    } else {
      WrongArity(out, "ping");
    }
  } else if (Is(name, "ECHO")) {
    if (n != 2) return WrongArity(out, "echo");
    AppendBulk(out, arguments[1]);
  } else if (Is(name, "DEL") || Is(name, "EXISTS")) {
    const bool del = Is(name, "DEL");
    if (n < 2) return WrongArity(out, del ? "del" : "exists");
    int64_t count = 0;
    for (size_t i = 1; i < n; ++i) {
      count += del ? store->Delete(arguments[i]) : store->Exists(arguments[i]);
    }
    AppendInteger(out, count);
  } else if (Is(name, "INCR") || Is(name, "DECR")) {
    const bool incr = Is(name, "INCR");
    if (n != 2) return WrongArity(out, incr ? "incr" : "decr");
    IncrementBy(arguments[1], incr ? 1 : -1, store, out);
  } else if (Is(name, "INCRBY") || Is(name, "DECRBY")) {
    const bool incr = Is(name, "INCRBY");
    if (n != 3) return WrongArity(out, incr ? "incrby" : "decrby");
    int64_t delta = 0;
    if (!ParseInteger(arguments[2], &delta) || (!incr && delta == INT64_MIN)) {
      AppendError(out, kNotAnInteger);
    } else {
      IncrementBy(arguments[1], incr ? delta : -delta, store, out);
    }
  } else if (Is(name, "MGET")) {
    if (n < 2) return WrongArity(out, "mget");
    AppendArrayHeader(out, n - 1);
    for (size_t i = 1; i < n; ++i) {
      if (!store->Get(arguments[i], [out](absl::string_view value) { AppendBulk(out, value); })) {
        AppendNull(out);
      }
    }
  } else if (Is(name, "MSET")) {
    if (n < 3 || n % 2 == 0) return WrongArity(out, "mset");
    for (size_t i = 1; i < n; i += 2) {
      store->Set(arguments[i], arguments[i + 1], Store::Condition::kAlways,
                 coral::Instant::InfiniteFuture());
    }
    AppendSimple(out, "OK");
  } else if (Is(name, "EXPIRE")) {
    if (n != 3) return WrongArity(out, "expire");
    int64_t seconds = 0;
    if (!ParseInteger(arguments[2], &seconds)) {
      AppendError(out, kNotAnInteger);
    } else {
      AppendInteger(out, store->Expire(arguments[1], coral::Now() + absl::Seconds(seconds)));
    }
  } else if (Is(name, "TTL") || Is(name, "PTTL")) {
    const bool seconds = Is(name, "TTL");
    if (n != 2) return WrongArity(out, seconds ? "ttl" : "pttl");
    const int64_t millis = store->TimeToLiveMillis(arguments[1]);
    // Rounded to the nearest second, as Redis does.
    AppendInteger(out, millis < 0 || !seconds ? millis : (millis + 500) / 1000);
  } else if (Is(name, "DBSIZE")) {
    if (n != 1) return WrongArity(out, "dbsize");
    AppendInteger(out, static_cast<int64_t>(store->Size()));
  } else if (Is(name, "FLUSHALL")) {
    if (n > 2 || (n == 2 && !Is(arguments[1], "SYNC") && !Is(arguments[1], "ASYNC"))) {
      AppendError(out, kSyntaxError);
    } else {
      store->Clear();
      AppendSimple(out, "OK");
    }
  } else if (Is(name, "CONFIG")) {
    Config(arguments, out);
  } else if (Is(name, "COMMAND")) {
    AppendArrayHeader(out, 0);
  } else {
    UnknownCommand(arguments, out);
  }
}

}  // namespace

AfterCommand Execute(Arguments arguments, Store* store, std::string* out) {
  if (Is(arguments[0], "QUIT")) {
    AppendSimple(out, "OK");
    return AfterCommand::kClose;
  }
  Dispatch(arguments, store, out);
  return AfterCommand::kContinue;
}

}  // namespace kv
