#!/usr/bin/env bash
# Builds every coral_fuzzer (bazel/fuzz.bzl; found by its "coral_fuzzer" tag, so new ones are
# picked up) with libFuzzer under --config=fuzz (clang-14, ASan + UBSan), then runs each for
# CORAL_FUZZ_SECONDS (default 10) seconds, starting from a temporary copy of its checked-in corpus
# (the tree is never modified). Exits non-zero if any fuzzer crashes, leaks, times out on an input
# or fails a property; the crashing input is kept and its path printed. Installs Debian's clang-14,
# its libFuzzer runtime, lld and llvm-symbolizer if missing.
#
#   .ci/fuzz.sh                          all fuzzers, 15 s each
#   CORAL_FUZZ_SECONDS=600 .ci/fuzz.sh   longer
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${CORAL_FUZZ_SECONDS:-10}

# Debian package -> a file that proves it is installed.
declare -A PACKAGES=(
  [clang-14]=/usr/bin/clang-14
  [libclang-rt-14-dev]=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
  [lld-14]=/usr/bin/ld.lld-14
  [llvm-14]=/usr/bin/llvm-symbolizer-14
)
missing=()
for pkg in "${!PACKAGES[@]}"; do
  [[ -e "${PACKAGES[$pkg]}" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "fuzz: installing missing Debian packages: ${missing[*]}" >&2
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
  # A clang toolchain configured before clang-14 was installed (bazel/clang.bzl) is stale.
  bazel/bazelw sync --configure >/dev/null 2>&1
fi

query() { bazel/bazelw query --noshow_progress --output=label "$1" 2>/dev/null; }

mapfile -t fuzzers < <(query 'attr(tags, "\bcoral_fuzzer\b", //...)')
if ((${#fuzzers[@]} == 0)); then
  echo "fuzz: no coral_fuzzer targets"
  exit 0
fi
echo "fuzz: ${#fuzzers[@]} fuzzers, ${seconds} s each: ${fuzzers[*]}"
bazel/bazelw build --config=fuzz --noshow_progress --ui_event_filters=-info "${fuzzers[@]}"
bin=$(bazel/bazelw info --config=fuzz bazel-bin 2>/dev/null)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14

failed=()
for fuzzer in "${fuzzers[@]}"; do
  name=${fuzzer##*:}
  package=${fuzzer#//}
  package=${package%%:*}
  corpus="${work}/${name}/corpus"
  artifacts="${work}/${name}/artifacts"
  mkdir -p "$corpus" "$artifacts"
  # The corpus is the fuzzer's data: source files //pkg:path -> pkg/path.
  seeds=0
  while read -r label; do
    [[ -z $label ]] && continue
    path=${label#//}
    path=${path/://}
    path=${path#/}
    cp "$path" "${corpus}/$((seeds++))-${path##*/}"
  done < <(query "kind('source file', labels(data, ${fuzzer}))")
  log="${work}/${name}/log"
  if "${bin}/${package}/${name}" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="${artifacts}/" "$corpus" >"$log" 2>&1; then
    runs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    echo "fuzz: ${name}: ${runs:-?} executions in ${seconds} s, ${cov:-no coverage line}," \
      "corpus ${seeds} -> $(find "$corpus" -type f | wc -l) inputs"
  else
    failed+=("$name")
    echo "fuzz: ${name}: FAILED; its output:"
    tail -60 "$log"
    kept=$(mktemp -d "${TMPDIR:-/tmp}/coral-fuzz-${name}.XXXXXX")
    cp -r "$artifacts/." "$kept/"
    echo "fuzz: ${name}: crashing input(s) kept in ${kept}; replay one with"
    echo "  bazel/bazelw run //${package}:${name} -- ${kept}/<file>"
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} of ${#fuzzers[@]} fuzzers failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#fuzzers[@]} fuzzers ran clean"
