// Copyright 2026 The coral Authors.
//
// Model of cancellation callbacks (runtime/cancellation.cc, shipped, compiled with
// CORAL_MODEL_CHECK): a root CancellationState is cancelled while two registrants race it.
//   - Registrant A registers a node and then deregisters it, and frees it as soon as Deregister
//     returns (as an awaitable does when its task resumes or is torn down).
//   - Registrant B registers a node whose callback deregisters its own node from inside the
//     callback and frees it (the callback runs on the canceller's thread).
// The properties: each callback runs exactly once if its Register succeeded and its node was not
// deregistered first, and never otherwise; a registration refused (already cancelled) never runs;
// Deregister returns only after a callback running on another thread has returned (its effects,
// a plain variable Relacy checks for data races, are visible to the deregistering thread); and
// nothing touches a node after Deregister returns or after the callback freed it (Relacy checks
// every access to the node's atomic against the freed block).

#include "runtime/cancellation.cc"
#include "tests/model/model.h"
#include "tests/model/unreached_deadlines.h"

namespace coral::internal {

// The model's state is a root without a deadline and no task runs: the current task is linked in
// by cancellation.cc's other functions, and never reached (the deadlines: unreached_deadlines.h).
TaskHeader* CurrentTask() noexcept {
  RL_ASSERT(false);
  return nullptr;
}

namespace {

struct CountingNode {
  CancellationNode node;  // First: the callback gets its CountingNode back with a cast.
  rl::var<int> runs{0};   // Written by the callback, read by the registrant: race-checked.
};

struct CancellationModel : rl::test_suite<CancellationModel, 3> {
  CancellationState* state = nullptr;
  // Bookkeeping; Relacy runs the threads as fibers of one OS thread.
  bool b_registered = false;
  int b_runs = 0;

  void before() { state = CancellationState::Create(nullptr); }

  static void CountRun(CancellationNode* node) {
    CountingNode* counting = reinterpret_cast<CountingNode*>(node);
    counting->runs($) = counting->runs($) + 1;
  }

  static CancellationModel* self;
  static void DeregisterSelf(CancellationNode* node) {
    ++self->b_runs;
    self->state->Deregister(node);  // From inside its own callback: returns at once.
    delete node;                    // Cancel must not touch it again.
  }

  void thread(unsigned index) {
    if (index == 0) {
      state->Cancel();
    } else if (index == 1) {
      auto* a = new CountingNode;
      a->node.invoke = &CountRun;
      const bool registered = state->Register(&a->node);
      if (registered) state->Deregister(&a->node);
      // After Deregister: the callback has run to completion or will never run.
      const int runs = a->runs($);
      RL_ASSERT(runs == 0 || (registered && runs == 1));
      delete a;
    } else {
      self = this;
      auto* b = new CancellationNode;
      b->invoke = &DeregisterSelf;
      b_registered = state->Register(b);
      if (!b_registered) delete b;
    }
  }

  void after() {
    // Cancel has returned: every node still linked when it ran has run.
    RL_ASSERT(b_runs == (b_registered ? 1 : 0));
    RL_ASSERT(state->IsCancelled());
    state->DropReference();
  }
};

CancellationModel* CancellationModel::self = nullptr;

TEST(CancellationModel, CallbackRunsOnceOrNeverAndNodeIsUntouchedAfterRemoval) {
  EXPECT_TRUE(
      model_check::Explore<CancellationModel>({.preemption_bound = 3, .random_iterations = 50000}));
}

}  // namespace
}  // namespace coral::internal
