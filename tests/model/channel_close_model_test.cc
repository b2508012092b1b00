// Copyright 2026 The coral Authors.
//
// Model of a bounded channel's close (coral/channel.h and internal/channel_state.h over the ring
// of bounded_ring.h, with the shared wait queue of sync/wait_queue.cc, all shipped and compiled
// with CORAL_MODEL_CHECK). The threads use the real handles: TrySend and TryRecv, and Send and
// Recv awaited through the co_await protocol (await_ready, await_suspend, await_resume), where a
// task is a TaskHeader whose resumption is its thread being woken by Wake(). The channel has
// capacity 1, and three scenarios race Close (each exhaustive within its own preemption bound):
//   - waiting sender: the channel holds 0; a sender awaits Send(1) and then Send(2) while another
//     thread takes one value with TryRecv (letting a waiting sender in) and then closes;
//   - waiting receiver: the channel is empty; a receiver awaits Recv twice while another thread
//     sends 1 with TrySend and then closes;
//   - three ways: the channel is empty; TrySend(1), TryRecv and Close on three threads.
// The properties (channel.h, "Closing"): a Send or TrySend either succeeds or fails with
// absl::FailedPreconditionError and hands its own value back; a receive returns a value, or
// absl::OutOfRangeError once closed and drained, and nothing after that; each value whose send
// succeeded is received exactly once (by the threads, or by the receive that the model makes after
// them), and no other value is; a value sent before the close (on the closing thread) is received
// before the receiver's OutOfRangeError; a waiting sender or receiver is woken (a task never woken
// ends the execution in a deadlock), and the close does wake waiting senders and receivers in some
// executions; every waker reference taken is consumed once; the last handle frees the channel
// (Relacy reports a leak otherwise).
//
// The model found that a TrySend that read the channel open could land its value after the
// receiver's drain found the channel closed and empty (the ring claims and publishes without the
// channel's lock); the ring's close now freezes its producers' cursor and its pops wait for
// claims made before the close (bounded_ring.h), and the model checks that no value whose send
// succeeded is left for after OutOfRange (docs/reliability.md, "Model checking").

#include "coral/channel.h"
#include "coral/internal/select_awaiter.h"
#include "runtime/cancellation.cc"
#include "runtime/cancellation_token.cc"
#include "sync/channel.cc"
#include "sync/wait_queue.cc"
#include "tests/model/model.h"
#include "tests/model/unreached_deadlines.h"

namespace coral::internal {

namespace {

constexpr int kTasks = 3;  // One per thread.
TaskHeader* tasks;         // The model's, made inside the simulation.
// Per task: waker references taken and not yet consumed, and its wake-ups: a semaphore of
// Relacy's, so that a task waits blocked (a task never woken ends the execution in a deadlock)
// and is resumed with the waker's writes visible, as the run queue's hand-off makes them.
int references[kTasks];
struct WakeTag;
rl::semaphore<WakeTag>* wakes[kTasks];
// Across executions: how often a waiting sender and a waiting receiver were woken by the close.
int sender_closed_while_waiting = 0;
int receiver_closed_while_waiting = 0;

int IndexOf(const TaskHeader* task) {
  for (int i = 0; i < kTasks; ++i) {
    if (task == &tasks[i]) return i;
  }
  RL_ASSERT(false);
  return -1;
}

}  // namespace

// The model's tasks have no token and no deadline: timers, the scheduler and Select's task are
// linked in by the included sources' other functions, and never reached.
Scheduler* CurrentScheduler() noexcept {
  RL_ASSERT(false);
  return nullptr;
}
// Each thread runs one task; the budget is never spent (a budget yield is not about closing).
TaskHeader* CurrentTask() noexcept { return &tasks[rl::thread_index()]; }
bool SpendBudget() noexcept { return true; }
bool YieldIfBudgetSpent(Resumer*) noexcept { return false; }

void TaskHeader::AddReference() { ++references[IndexOf(this)]; }
void TaskHeader::DropReference() { --references[IndexOf(this)]; }
// Consumes the waker reference and makes the task runnable.
void Wake(TaskHeader* task) {
  const int index = IndexOf(task);
  --references[index];
  unsigned previous;
  wakes[index]->post(1, previous, $);
}

namespace {

// 0 (buffered before the threads start in the waiting-sender scenario), 1 and 2.
constexpr int kValues = 3;

// The co_await protocol on the calling thread; *waited: whether the task suspended.
template <typename Awaiter>
auto Await(Awaiter awaiter, bool* waited) {
  *waited = false;
  if (!awaiter.await_ready()) {
    if (awaiter.await_suspend(std::noop_coroutine())) {
      *waited = true;
      wakes[rl::thread_index()]->wait(/*try_wait=*/false, /*is_timed=*/false, $);
    }
  }
  return awaiter.await_resume();
}

enum class Scenario {
  kWaitingSender,    // full: [Send(1), Send(2), awaited] [TryRecv, then Close]
  kWaitingReceiver,  // empty: [Recv, Recv, awaited] [TrySend(1), then Close]
  kThreeWay,         // empty: [TrySend(1)] [TryRecv] [Close]
};

template <Scenario kScenario, int kThreads>
struct ChannelCloseModel : rl::test_suite<ChannelCloseModel<kScenario, kThreads>, kThreads> {
  TaskHeader task_headers[kTasks];
  rl::semaphore<WakeTag> wake_semaphores[kTasks];
  std::optional<Sender<int>> sender;
  std::optional<Sender<int>> closer;
  std::optional<Receiver<int>> receiver;
  // Bookkeeping; Relacy runs the threads as fibers of one OS thread.
  bool sent[kValues] = {};
  int received[kValues] = {};
  bool receiver_saw_close = false;

  void before() {
    tasks = task_headers;
    for (int i = 0; i < kTasks; ++i) {
      references[i] = 0;
      wakes[i] = &wake_semaphores[i];
      wakes[i]->init(/*spurious_wakeups=*/false, /*initial_count=*/0, /*max_count=*/1, $);
    }
    auto [tx, rx] = Channel<int>::Bounded(1);
    closer.emplace(tx);
    sender.emplace(std::move(tx));
    receiver.emplace(std::move(rx));
    if (kScenario == Scenario::kWaitingSender) {
      sent[0] = sender->TrySend(0).ok();
      RL_ASSERT(sent[0]);
    }
  }

  void Send(int value, bool wait) {
    bool waited = false;
    SendResult<int> result = wait ? Await(sender->Send(value), &waited) : sender->TrySend(value);
    sent[value] = result.ok();
    if (!result.ok()) {  // Closed: the value comes back.
      RL_ASSERT(result.status.code() == absl::StatusCode::kFailedPrecondition);
      RL_ASSERT(result.unsent.has_value() && *result.unsent == value);
      if (waited) ++sender_closed_while_waiting;
    }
  }
  void Receive(bool wait) {
    bool waited = false;
    absl::StatusOr<int> value = wait ? Await(receiver->Recv(), &waited) : receiver->TryRecv();
    if (value.ok()) {
      RL_ASSERT(*value >= 0 && *value < kValues);
      RL_ASSERT(!receiver_saw_close);  // Nothing after OutOfRange.
      ++received[*value];
    } else if (value.status().code() == absl::StatusCode::kOutOfRange) {
      if (waited) ++receiver_closed_while_waiting;
      receiver_saw_close = true;
    } else {
      RL_ASSERT(!wait && value.status().code() == absl::StatusCode::kUnavailable);
    }
  }

  void thread(unsigned index) {
    switch (kScenario) {
      case Scenario::kWaitingSender:
        if (index == 0) {
          Send(1, /*wait=*/true);
          Send(2, /*wait=*/true);
        } else {
          Receive(/*wait=*/false);
          closer->Close();
        }
        break;
      case Scenario::kWaitingReceiver:
        if (index == 0) {
          Receive(/*wait=*/true);
          Receive(/*wait=*/true);
          RL_ASSERT(received[1] == 1 && receiver_saw_close);
        } else {
          Send(1, /*wait=*/false);
          closer->Close();
        }
        break;
      case Scenario::kThreeWay:
        if (index == 0) {
          Send(1, /*wait=*/false);
        } else if (index == 1) {
          Receive(/*wait=*/false);
        } else {
          closer->Close();
        }
        break;
    }
  }

  void after() {
    // What the threads left is received now, and then the channel is closed and empty.
    ChannelState<int>* state = ChannelAccess::SelectState(*receiver);
    std::optional<int> left;
    while (state->TryPop(&left)) {
      RL_ASSERT(*left >= 0 && *left < kValues);
      ++received[*left];
      RL_ASSERT(!receiver_saw_close);  // A value sent successfully came after OutOfRange.
      left.reset();
    }
    RL_ASSERT(state->closed());
    for (int value = 0; value < kValues; ++value) {
      RL_ASSERT(received[value] == (sent[value] ? 1 : 0));
    }
    for (int i = 0; i < kTasks; ++i) {
      RL_ASSERT(references[i] == 0);
      wakes[i]->deinit($);
    }
    sender.reset();
    closer.reset();
    receiver.reset();  // The last handle: frees the state.
  }
};

using WaitingSenderModel = ChannelCloseModel<Scenario::kWaitingSender, 2>;
using WaitingReceiverModel = ChannelCloseModel<Scenario::kWaitingReceiver, 2>;
using ThreeWayModel = ChannelCloseModel<Scenario::kThreeWay, 3>;

TEST(ChannelCloseModel, CloseWakesWaitingSenderAndHandsBackItsValue) {
  EXPECT_TRUE(model_check::Explore<WaitingSenderModel>(
      {.preemption_bound = 2, .random_iterations = 10000}));
  if (IsSkipped()) return;  // Under a sanitizer (model.h).
  EXPECT_GT(sender_closed_while_waiting, 0);
}

TEST(ChannelCloseModel, CloseWakesWaitingReceiverAfterItDrains) {
  EXPECT_TRUE(model_check::Explore<WaitingReceiverModel>(
      {.preemption_bound = 2, .random_iterations = 10000}));
  if (IsSkipped()) return;
  EXPECT_GT(receiver_closed_while_waiting, 0);
}

TEST(ChannelCloseModel, SendReceiveAndCloseRacingConserveValues) {
  EXPECT_TRUE(
      model_check::Explore<ThreeWayModel>({.preemption_bound = 2, .random_iterations = 10000}));
}

}  // namespace
}  // namespace coral::internal
