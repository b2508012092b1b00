// Copyright 2026 The coral Authors.
//
// kv_server's commands: one parsed request (kv_resp.h) executed against the Store (kv_store.h),
// its RESP2 reply appended to a string. Synchronous: a command never waits.
//
// The commands: PING, ECHO, GET, SET (EX, PX, NX, XX), DEL, EXISTS, INCR, DECR, INCRBY, DECRBY,
// MGET, MSET, EXPIRE, TTL, PTTL, DBSIZE, FLUSHALL, CONFIG GET (save and appendonly, what
// redis-benchmark asks for; other parameters are absent), COMMAND (an empty list, enough for
// redis-cli's start-up), QUIT. Names are case-insensitive; the replies and error texts are
// Redis 7's.

#ifndef CORAL_EXAMPLES_KV_COMMANDS_H_
#define CORAL_EXAMPLES_KV_COMMANDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "examples/kv_store.h"

namespace kv {

enum class AfterCommand { kContinue, kClose };

// Executes `arguments` (the command name first; not empty) and appends the reply to `out`.
// kClose: the client asked to close the connection (QUIT), after the reply.
AfterCommand Execute(absl::Span<const absl::string_view> arguments, Store* store, std::string* out);

}  // namespace kv

#endif  // CORAL_EXAMPLES_KV_COMMANDS_H_
