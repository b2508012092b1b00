#!/usr/bin/env bash
# Builds coral with CMake (CMakeLists.txt), installs it into a temporary prefix, then builds and
# runs tests/consumer/consumer.cc against the installed copy twice: with find_package(coral)
# (tests/consumer/CMakeLists.txt) and with pkg-config (coral.pc). Exits non-zero unless every step
# succeeds and both consumers print their checked result. Installs cmake and pkg-config from
# Debian (offline-capable) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

bazel/bazelw info release >/dev/null  # Installs g++ and Debian's Abseil if missing.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v pkg-config >/dev/null || missing+=(pkg-config)
if ((${#missing[@]})); then
  echo "cmake_consumer: installing missing Debian packages: ${missing[*]}" >&2
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
jobs=$(nproc)

echo "--- coral: configure, build (-Werror), install into a temporary prefix"
cmake -S . -B "$work/build" -DCMAKE_CXX_FLAGS=-Werror >/dev/null
cmake --build "$work/build" -j "$jobs"
# The prefix is chosen at install time: the CMake package and coral.pc must be relocatable.
cmake --install "$work/build" --prefix "$prefix" >/dev/null

echo "--- consumer with find_package(coral)"
cmake -S tests/consumer -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer" -j "$jobs"
"$work/consumer/consumer" | tee "$work/out_cmake"
grep -q '^consumer: OK$' "$work/out_cmake"

echo "--- consumer with pkg-config"
pc_dir=$(dirname "$(find "$prefix" -name coral.pc)")
flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs coral)
echo "pkg-config --cflags --libs coral: $flags"
# shellcheck disable=SC2086  # The flags are words.
g++ -std=c++20 -O2 tests/consumer/consumer.cc $flags -o "$work/consumer_pc"
"$work/consumer_pc" | tee "$work/out_pc"
grep -q '^consumer: OK$' "$work/out_pc"
