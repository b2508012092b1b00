// Copyright 2026 The coral Authors.
//
// Model of a bounded channel's ring (include/coral/internal/bounded_ring.h, shipped, compiled
// with CORAL_MODEL_CHECK): two senders each try to push two values into a ring of 2 cells while
// a receiver tries to pop three, so that cells are reused across laps while the other side is
// still claiming them. Every value that a push reported sent must come out exactly once, either
// from a receiver or from the ring afterwards; none may appear that was not sent.

#include <optional>

#include "coral/internal/bounded_ring.h"
#include "tests/model/model.h"

namespace coral::internal {
namespace {

constexpr int kValuesPerSender = 2;
constexpr int kValues = 2 * kValuesPerSender;

struct BoundedRingModel : rl::test_suite<BoundedRingModel, 3> {
  BoundedRing<int> ring{2};
  // Bookkeeping; Relacy runs the threads as fibers of one OS thread.
  bool sent[kValues] = {};
  int received[kValues] = {};

  void Receive(int value) {
    RL_ASSERT(value >= 0 && value < kValues);
    ++received[value];
  }

  void thread(unsigned index) {
    if (index < 2) {  // Two senders.
      for (int i = 0; i < kValuesPerSender; ++i) {
        const int value = static_cast<int>(index) * kValuesPerSender + i;
        std::optional<int> slot(value);
        sent[value] = ring.TryPush(&slot);
        RL_ASSERT(sent[value] != slot.has_value());  // A sent value is moved out of the slot.
      }
    } else {  // One receiver, for as many values as the ring holds and one more.
      for (int i = 0; i < 3; ++i) {
        std::optional<int> out;
        if (ring.TryPop(&out)) Receive(*out);
      }
    }
  }

  void after() {
    std::optional<int> out;
    while (ring.TryPop(&out)) {
      Receive(*out);
      out.reset();
    }
    for (int value = 0; value < kValues; ++value) {
      RL_ASSERT(received[value] == (sent[value] ? 1 : 0));
    }
  }
};

TEST(BoundedRingModel, EverySentValueReceivedExactlyOnce) {
  EXPECT_TRUE(
      model_check::Explore<BoundedRingModel>({.preemption_bound = 2, .random_iterations = 20000}));
}

}  // namespace
}  // namespace coral::internal
