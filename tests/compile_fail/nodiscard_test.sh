#!/usr/bin/env bash
# Usage: nodiscard_test.sh CXX SNIPPET...
#
# Each snippet states "// cases: N". Compiled as it is, it must compile (the control: the headers
# are found and the correct use is valid); compiled with -DCORAL_DISCARD=i for each i in 1..N, it
# must fail with a diagnostic naming [[nodiscard]].
set -uo pipefail

cxx=$1
shift
flags=(-x c++ -std=c++20 -fsyntax-only -Wall -Wextra -Werror=unused-result -Iinclude)
log=${TEST_TMPDIR:-/tmp}/nodiscard.log
failures=0

for snippet in "$@"; do
  cases=$(sed -n 's|^// cases: \([0-9][0-9]*\)$|\1|p' "${snippet}")
  if [[ -z ${cases} ]]; then
    echo "FAIL ${snippet}: no '// cases: N' line"
    failures=$((failures + 1))
    continue
  fi
  if ! "${cxx}" "${flags[@]}" "${snippet}" 2>"${log}"; then
    echo "FAIL ${snippet}: the control (nothing discarded) does not compile:"
    cat "${log}"
    failures=$((failures + 1))
    continue
  fi
  for ((i = 1; i <= cases; ++i)); do
    if "${cxx}" "${flags[@]}" -DCORAL_DISCARD="${i}" "${snippet}" 2>"${log}"; then
      echo "FAIL ${snippet} case ${i}: compiled, but its result was discarded"
      failures=$((failures + 1))
    elif ! grep -q "nodiscard" "${log}"; then
      echo "FAIL ${snippet} case ${i}: failed for another reason than [[nodiscard]]:"
      cat "${log}"
      failures=$((failures + 1))
    else
      echo "ok   ${snippet} case ${i}: $(grep -m1 -o "ignoring return.*" "${log}")"
    fi
  done
done

echo "${failures} failure(s)"
((failures == 0))
