#!/bin/sh
# One load-test pass against our server (release build): starts `srs run GRAPH`, runs `srs bench`
# with the given arguments and the server's pid, stops the server. Examples:
#   scripts/bench/measure.sh scripts/bench/live-bench.dhall --players-rtmp 1000
#   scripts/bench/measure.sh scripts/bench/live-bench-realtime.dhall --players-flv 1000
# INPUT (default /work/bench-data/bench_1mbps.flv) is the FLV the publisher loops.
set -eu
graph=$1
shift
srs=${SRS:-target/release/srs}
input=${INPUT:-/work/bench-data/bench_1mbps.flv}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
RUST_LOG=warn "$srs" run "$graph" 2>/tmp/srs-bench-server.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
sleep 1
"$srs" bench --input "$input" --url rtmp://127.0.0.1:19350/live/bench \
    --flv-url http://127.0.0.1:18080/live/bench.flv --server-pid "$server" "$@"
