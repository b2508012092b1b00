#!/bin/bash
# Compiles every snippet (*.cc) next to this script and expects each to fail to compile with an
# error matching its `// EXPECT-ERROR: <extended regex>` line (one per snippet, required): what
# coral's ownership rules say must not compile, does not, and for the reason named.
#
# The compiler is the C++ toolchain's ($CXX, set by the BUILD file from $(CC)), else g++ from PATH;
# it runs with -fsyntax-only, -std=c++20 and coral's include directory (abseil is a system
# library, found without flags).
set -u

dir="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-coral}/tests/compile_fail"
[[ -d "$dir" ]] || dir="$(cd "$(dirname "$0")" && pwd)"
include="${dir%/tests/compile_fail}/include"
compiler="${CXX:-}"
[[ -n "$compiler" && -x "$(command -v "$compiler")" ]] || compiler="$(command -v g++)"
if [[ -z "$compiler" || ! -d "$include/coral" ]]; then
  echo "setup: compiler '${compiler}' or include directory '${include}' not found" >&2
  exit 1
fi

failures=0
count=0
for snippet in "$dir"/*.cc; do
  [[ -e "$snippet" ]] || continue
  name="$(basename "$snippet")"
  [[ "$name" == nodiscard_* ]] && continue  # nodiscard_test.sh's: they must compile as they are.
  expected="$(sed -n 's|^// EXPECT-ERROR: ||p' "$snippet" | head -n 1)"
  if [[ -z "$expected" ]]; then
    echo "FAIL $name: no '// EXPECT-ERROR: <regex>' line"
    failures=$((failures + 1))
    continue
  fi
  count=$((count + 1))
  if output="$("$compiler" -x c++ -std=c++20 -fsyntax-only -I "$include" "$snippet" 2>&1)"; then
    echo "FAIL $name: compiled, but must not (expected an error matching: $expected)"
    failures=$((failures + 1))
  elif ! grep -Eq -- "$expected" <<<"$output"; then
    echo "FAIL $name: failed to compile, but no error matches: $expected"
    echo "$output" | head -n 40
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
done

if ((count == 0)); then
  echo "no snippets found in $dir" >&2
  exit 1
fi
echo "$count snippets, $failures failures"
((failures == 0))
