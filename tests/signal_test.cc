// Copyright 2026 The coral Authors.
//
// SignalListener: delivery of raised and sent signals, broadcast to every listener, coalescing
// and order, the dispositions restored, refused signals, the listener limit, and cancellation.

#include "coral/signal.h"

#include <signal.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

class SignalTest : public ::testing::Test {
 protected:
  Runtime runtime_{{.num_workers = 2}};
};

// The next signal, or DeadlineExceeded if none comes within `wait`.
Task<absl::StatusOr<int>> NextWithin(SignalListener* listener, absl::Duration wait) {
  co_return co_await Timeout(wait, listener->Next());
}

void (*CurrentHandler(int signal))(int) {
  struct sigaction current {};
  sigaction(signal, nullptr, &current);
  return current.sa_handler;
}

TEST_F(SignalTest, ReceivesARaisedSignal) {
  absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGUSR1});
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto body = [](SignalListener* listener) -> Task<absl::StatusOr<int>> {
    raise(SIGUSR1);  // Before Next: pending when it looks.
    co_return co_await listener->Next();
  };
  absl::StatusOr<int> received = runtime_.BlockOn(body(&*listener));
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, SIGUSR1);
}

TEST_F(SignalTest, WakesAWaitingTaskWhenAnotherThreadSendsIt) {
  absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGUSR1, SIGUSR2});
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::thread sender([] {
    absl::SleepFor(absl::Milliseconds(50));  // Let the task wait first.
    kill(getpid(), SIGUSR2);
  });
  absl::StatusOr<int> received = runtime_.BlockOn(NextWithin(&*listener, absl::Seconds(10)));
  sender.join();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, SIGUSR2);
}

TEST_F(SignalTest, EveryListenerSeesEachArrival) {
  absl::StatusOr<SignalListener> first = SignalListener::Create({SIGUSR2});
  absl::StatusOr<SignalListener> second = SignalListener::Create({SIGUSR1, SIGUSR2});
  absl::StatusOr<SignalListener> other = SignalListener::Create({SIGUSR1});
  ASSERT_TRUE(first.ok() && second.ok() && other.ok());
  raise(SIGUSR2);
  auto first_got = runtime_.BlockOn(NextWithin(&*first, absl::Seconds(10)));
  auto second_got = runtime_.BlockOn(NextWithin(&*second, absl::Seconds(10)));
  auto other_got = runtime_.BlockOn(NextWithin(&*other, absl::Milliseconds(50)));
  ASSERT_TRUE(first_got.ok() && second_got.ok());
  EXPECT_EQ(*first_got, SIGUSR2);
  EXPECT_EQ(*second_got, SIGUSR2);
  EXPECT_TRUE(absl::IsDeadlineExceeded(other_got.status())) << "SIGUSR1 was never sent";
}

TEST_F(SignalTest, ArrivalsCoalesceAndTheLowestComesFirst) {
  absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGUSR1, SIGUSR2});
  ASSERT_TRUE(listener.ok());
  raise(SIGUSR2);
  raise(SIGUSR1);
  raise(SIGUSR1);
  std::vector<absl::StatusOr<int>> got;
  for (absl::Duration wait : {absl::Seconds(10), absl::Seconds(10), absl::Milliseconds(50)}) {
    got.push_back(runtime_.BlockOn(NextWithin(&*listener, wait)));
  }
  ASSERT_TRUE(got[0].ok() && got[1].ok());
  EXPECT_EQ(*got[0], SIGUSR1);
  EXPECT_EQ(*got[1], SIGUSR2);
  EXPECT_TRUE(absl::IsDeadlineExceeded(got[2].status())) << "the two SIGUSR1 became one";
}

TEST_F(SignalTest, TheLastListenerRestoresTheReplacedDisposition) {
  ASSERT_EQ(CurrentHandler(SIGUSR1), SIG_DFL);
  {
    absl::StatusOr<SignalListener> one = SignalListener::Create({SIGUSR1});
    ASSERT_TRUE(one.ok());
    {
      absl::StatusOr<SignalListener> two = SignalListener::Create({SIGUSR1});
      ASSERT_TRUE(two.ok());
      EXPECT_NE(CurrentHandler(SIGUSR1), SIG_DFL);
    }
    EXPECT_NE(CurrentHandler(SIGUSR1), SIG_DFL) << "one listener is left";
  }
  EXPECT_EQ(CurrentHandler(SIGUSR1), SIG_DFL);

  // A disposition set by someone else comes back too.
  signal(SIGHUP, SIG_IGN);
  {
    absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGHUP});
    ASSERT_TRUE(listener.ok());
    EXPECT_NE(CurrentHandler(SIGHUP), SIG_IGN);
  }
  EXPECT_EQ(CurrentHandler(SIGHUP), SIG_IGN);
  signal(SIGHUP, SIG_DFL);
}

TEST_F(SignalTest, RefusesSignalsThatCannotBeListenedFor) {
  for (int signal : {SIGKILL, SIGSTOP, SIGSEGV, SIGFPE, 0, SIGRTMAX + 1}) {
    absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGTERM, signal});
    EXPECT_TRUE(absl::IsInvalidArgument(listener.status())) << signal;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(SignalListener::Create({}).status()));
  EXPECT_EQ(CurrentHandler(SIGTERM), SIG_DFL) << "a refused Create installs nothing";
}

TEST_F(SignalTest, AtMostMaxListeners) {
  std::vector<SignalListener> listeners;
  for (int i = 0; i < SignalListener::kMaxListeners; ++i) {
    absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGUSR1});
    ASSERT_TRUE(listener.ok()) << i << ": " << listener.status();
    listeners.push_back(*std::move(listener));
  }
  EXPECT_TRUE(absl::IsResourceExhausted(SignalListener::Create({SIGUSR1}).status()));
  listeners.pop_back();
  EXPECT_TRUE(SignalListener::Create({SIGUSR1}).ok()) << "a slot was freed";
}

TEST_F(SignalTest, ACancelledNextTakesNoSignal) {
  absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGUSR1});
  ASSERT_TRUE(listener.ok());
  // Timeout cancels the waiting Next; the arrival after it is still there for the next one.
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      runtime_.BlockOn(NextWithin(&*listener, absl::Milliseconds(20))).status()));
  raise(SIGUSR1);
  absl::StatusOr<int> received = runtime_.BlockOn(NextWithin(&*listener, absl::Seconds(10)));
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(*received, SIGUSR1);
}

}  // namespace
}  // namespace coral
