#!/usr/bin/env bash
# Usage: nodiscard_test.sh CXX SNIPPET...
#
# Each snippet, compiled as it is, must compile (the control: the headers are found and the
# correct use is valid). Compiled with -DCORAL_DISCARD it must fail, with a diagnostic naming
# [[nodiscard]] on every line marked "expect-nodiscard" (one compilation reports them all).
set -uo pipefail

cxx=$1
shift
flags=(-x c++ -std=c++20 -fsyntax-only -Wall -Wextra -Werror=unused-result -Iinclude)
log=${TEST_TMPDIR:-/tmp}/nodiscard.log
failures=0

for snippet in "$@"; do
  lines=$(grep -n "expect-nodiscard$" "${snippet}" | cut -d: -f1)
  if [[ -z ${lines} ]]; then
    echo "FAIL ${snippet}: no line marked expect-nodiscard"
    failures=$((failures + 1))
    continue
  fi
  if ! "${cxx}" "${flags[@]}" "${snippet}" 2>"${log}"; then
    echo "FAIL ${snippet}: the control (nothing discarded) does not compile:"
    cat "${log}"
    failures=$((failures + 1))
    continue
  fi
  if "${cxx}" "${flags[@]}" -DCORAL_DISCARD "${snippet}" 2>"${log}"; then
    echo "FAIL ${snippet}: compiled, but results were discarded"
    failures=$((failures + 1))
    continue
  fi
  for line in ${lines}; do
    diagnostic=$(grep -m1 "^${snippet}:${line}:.*nodiscard" "${log}")
    if [[ -z ${diagnostic} ]]; then
      echo "FAIL ${snippet}:${line}: no [[nodiscard]] diagnostic for: $(sed -n "${line}p" "${snippet}")"
      failures=$((failures + 1))
    else
      echo "ok   ${diagnostic#*error: }"
    fi
  done
  # Nothing else may fail: a stray error would make the check meaningless.
  others=$(grep "error:" "${log}" | grep -vc "nodiscard")
  if ((others != 0)); then
    echo "FAIL ${snippet}: errors other than [[nodiscard]]:"
    cat "${log}"
    failures=$((failures + 1))
  fi
done

echo "${failures} failure(s)"
((failures == 0))
