// Copyright 2026 The coral Authors.
//
// Smoke tests of echo_demo: the README's default run, and C10k (10,000 connections, the load in a
// child process; 500 under the sanitizers, which multiply each connection's cost).

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/subprocess.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kManyConnections = 500;
#else
constexpr int kManyConnections = 10000;
#endif

struct DemoRun {
  std::string output;
  Subprocess::Exit exit;
};

DemoRun RunDemo(const std::vector<std::string>& args) {
  absl::StatusOr<Subprocess> demo = Subprocess::Start("examples/echo_demo", args, {});
  EXPECT_TRUE(demo.ok()) << demo.status();
  if (!demo.ok()) return {};
  DemoRun run;
  run.output = demo->ReadToEnd();
  absl::StatusOr<Subprocess::Exit> exit = demo->Wait();
  EXPECT_TRUE(exit.ok()) << exit.status();
  if (exit.ok()) run.exit = *exit;
  std::printf("%s", run.output.c_str());
  return run;
}

// The two numbers the demo prints after its load: round trips and the server's peak.
void ExpectServed(const std::string& output, int connections) {
  long long round_trips = -1;
  const size_t at = output.find(" round trips of 64 bytes");
  ASSERT_NE(at, std::string::npos) << output;
  const size_t line = output.rfind('\n', at);
  ASSERT_EQ(std::sscanf(output.c_str() + (line == std::string::npos ? 0 : line + 1), "%lld",
                        &round_trips),
            1);
  // Each echo is checked byte by byte by the load, which fails on a wrong one. (How many fit in
  // the measured second depends on the machine's load: only that there were some is a fact.)
  EXPECT_GT(round_trips, 0) << output;
  EXPECT_NE(output.find("latency: p50 "), std::string::npos) << output;
  EXPECT_NE(output.find(absl::StrCat("server: ", connections,
                                     " connections open at once at the "
                                     "peak, ",
                                     connections, " accepted")),
            std::string::npos)
      << output;
}

TEST(EchoDemo, DefaultRunServesAThousandConnections) {
  DemoRun run = RunDemo({"--seconds=1"});
  EXPECT_TRUE(run.exit.exited_ok()) << run.exit.Describe();
  EXPECT_NE(run.output.find("1000 client connections for 1 s"), std::string::npos) << run.output;
  ExpectServed(run.output, 1000);
}

TEST(EchoDemo, ServesTenThousandConnectionsWithTheLoadInAChildProcess) {
  DemoRun run = RunDemo({absl::StrCat("--connections=", kManyConnections), "--seconds=1"});
  EXPECT_TRUE(run.exit.exited_ok()) << run.exit.Describe();
  ExpectServed(run.output, kManyConnections);
}

}  // namespace
}  // namespace coral::examples
