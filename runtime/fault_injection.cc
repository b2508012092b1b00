// Copyright 2026 The coral Authors.
//
// The fault injection hooks (coral/internal/fault_injection.h): null unless a test installs one.

#include "coral/internal/fault_injection.h"

namespace coral::internal {

std::atomic<AllocationFaultHook> allocation_fault_hook{nullptr};
std::atomic<SyscallFaultHook> syscall_fault_hook{nullptr};

}  // namespace coral::internal
