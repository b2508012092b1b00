#!/usr/bin/env bash
# Checks the thread-safety annotations (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED, ...) with
# clang's -Wthread-safety analysis, which gcc does not run: every library source under runtime/,
# sync/ and io/ (sub-packages included, tests excluded), every source of examples/ (their tests
# included: they lock too), and every header they include are compiled with
# `clang++ -fsyntax-only -Wthread-safety -Werror`. Exits non-zero on any warning.
# Installs Debian's clang if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

bazel/bazelw info release >/dev/null  # Installs Debian's Abseil if missing.
if ! command -v clang++ >/dev/null; then
  echo "thread_safety_check: installing Debian's clang" >&2
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    clang >&2
fi

mapfile -t sources < <({
  find runtime sync io -name '*.cc' ! -name '*_test.cc' ! -name '*_benchmark.cc'
  find examples -name '*.cc'
} | sort)
echo "thread_safety_check: ${#sources[@]} sources"
printf '%s\0' "${sources[@]}" |
  xargs -0 -n 4 -P "$(nproc)" clang++ -std=c++20 -fsyntax-only -Wthread-safety -Werror \
    -Iinclude -I.
echo "thread_safety_check: no warnings"
