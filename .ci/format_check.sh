#!/usr/bin/env bash
# Checks that every C++ file under include/ runtime/ sync/ io/ tests/ stress/ examples/ bench/ is
# formatted as .clang-format says. Exits non-zero and names the files otherwise; fix them with
#   clang-format -i FILE...
# Installs Debian's clang-format if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
  echo "format_check: installing Debian's clang-format" >&2
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    clang-format >&2
fi

mapfile -t files < <(find include runtime sync io tests stress examples bench -type f \
  \( -name '*.h' -o -name '*.cc' \) | sort)
unformatted=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]})); then
  echo "format_check: ${#unformatted[@]} of ${#files[@]} files are not formatted:"
  printf '  %s\n' "${unformatted[@]}"
  exit 1
fi
echo "format_check: ${#files[@]} files formatted"
