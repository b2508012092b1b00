// Copyright 2026 The coral Authors.
//
// What the examples' smoke tests share: a run of an example to its end, and a blocking loopback
// client for the servers.

#ifndef CORAL_EXAMPLES_EXAMPLE_TEST_UTIL_H_
#define CORAL_EXAMPLES_EXAMPLE_TEST_UTIL_H_

#include <optional>
#include <string>
#include <vector>

namespace coral::examples {

// Runs the example `binary` with `args` to its end and returns what it printed (also printed
// here, for the test's log). Records a test failure if it did not exit with 0; nullopt, with a
// failure recorded, if it could not be started or waited for.
std::optional<std::string> RunToEnd(const std::string& binary,
                                    const std::vector<std::string>& args);

// A blocking client connected to 127.0.0.1:`port`, or -1 if the connection failed (errno says
// why). Reads time out after 20 s, so no test hangs on a silent server.
int ConnectLoopback(int port);

}  // namespace coral::examples

#endif  // CORAL_EXAMPLES_EXAMPLE_TEST_UTIL_H_
