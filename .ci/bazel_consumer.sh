#!/usr/bin/env bash
# Builds and runs tests/consumer, a Bazel workspace outside coral's that depends on it through
# local_repository and coral_dependencies() (bazel/deps.bzl), as a user's workspace would.
# Exits non-zero unless the consumer builds, runs and prints its checked result.
set -euo pipefail
cd "$(dirname "$0")/.."

bazel/bazelw info release >/dev/null  # Installs the Debian packages if missing.

cd tests/consumer
status=0
output=$(/usr/bin/bazel run //:consumer 2>&1) || status=$?
echo "$output"
# Its own Bazel server (another workspace): free its memory for the rest of the run.
/usr/bin/bazel shutdown
[[ $status -eq 0 ]] && grep -q '^consumer: OK$' <<<"$output"
