#!/usr/bin/env bash
# The hot-client check of the C10k issue: two connections that ping-pong 64-byte messages as fast
# as they can, served by coral's echo server with one worker, with two workers, and by Tokio's
# two-worker echo server, in interleaved rounds under ../shared/peers' load generator. Prints each
# round and then the median round trips per second and p99 of each server.
#
#   bazel/bazelw build //examples:echo_server && bench/hot_clients.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
seconds=${2:-4}
peers=../shared/peers/bin
server=bazel-bin/examples/echo_server
for binary in "$server" "$peers/loadgen"; do
  [[ -x $binary ]] || { echo "hot_clients: $binary is missing (see the README)" >&2; exit 1; }
done

declare -A commands=(
  [coral_1_worker]="$server --workers=1"
  [coral_2_workers]="$server --workers=2"
)
names=(coral_1_worker coral_2_workers)
if [[ -x $peers/tokio_echo ]]; then
  commands[tokio]="$peers/tokio_echo"
  names+=(tokio)
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
port=$((20000 + RANDOM % 20000))
for ((round = 1; round <= rounds; ++round)); do
  for name in "${names[@]}"; do
    port=$((port + 1))
    ${commands[$name]} "$port" &
    pid=$!
    sleep 0.3
    out=$("$peers/loadgen" echo "$name" "$port" 2 "$seconds" 2>/dev/null || true)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rate=$(sed -nE 's/.*metric=rate value=([0-9.]+).*/\1/p' <<<"$out")
    p99=$(sed -nE 's/.*metric=p99 value=([0-9.]+).*/\1/p' <<<"$out")
    echo "round $round $name rate=${rate:-failed} rt/s p99=${p99:-failed} us"
    echo "$name ${rate:-0} ${p99:-0}" >>"$results"
  done
done

echo "medians over $rounds rounds of $seconds s, 2 connections:"
for name in "${names[@]}"; do
  rate=$(awk -v n="$name" '$1 == n { print $2 }' "$results" | sort -n |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  p99=$(awk -v n="$name" '$1 == n { print $3 }' "$results" | sort -n |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  printf '%-16s %10s rt/s  p99 %8s us\n' "$name" "$rate" "$p99"
done
