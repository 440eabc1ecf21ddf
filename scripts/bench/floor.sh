#!/bin/sh
# One pass against the kernel floor: starts `srs bench --floor` (same input, 350 ms batches) and
# `srs bench` with N HTTP-FLV players against it. Example: scripts/bench/floor.sh --players-flv 1000
set -eu
srs=${SRS:-target/release/srs}
input=${INPUT:-/work/bench-data/bench_1mbps.flv}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$srs" bench --floor --listen 127.0.0.1:18090 --input "$input" 2>/tmp/srs-bench-floor.log &
floor=$!
trap 'kill $floor 2>/dev/null; wait $floor 2>/dev/null || true' EXIT
sleep 1
"$srs" bench --publishers 0 --flv-url http://127.0.0.1:18090/live/bench.flv --server-pid "$floor" "$@"
