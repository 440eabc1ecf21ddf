#!/usr/bin/env bash
# CPU of the WebRTC audio bridges per stream (issue 14's "Measure"): N RTMP streams (H.264 +
# AAC 44.1 kHz stereo, published with ffmpeg -c copy) run for SECONDS through three graphs in turn:
#   plain:   rtmp -> vhost -> RtcOut                          (no bridge)
#   to_opus: rtmp -> vhost -> AacToOpus -> RtcOut             (AAC decode, resample, Opus encode)
#   both:    rtmp -> vhost -> AacToOpus -> OpusToAac -> RtcOut (and back: Opus decode, AAC encode)
# and the server's user+system CPU is read from /proc before and after. to_opus - plain is the
# AAC->Opus bridge, both - to_opus the Opus->AAC bridge, each in % of one core per stream.
# Usage: scripts/bench/rtc-bridge-cpu.sh [SRS_BIN] [SECONDS] [STREAMS]
#   OPUS_COMPLEXITY=N (default 5): AacToOpus's libopus complexity.
set -euo pipefail
SRS=${1:-target/debug/srs}
SECS=${2:-20}
N=${3:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRS=$(cd "$(dirname "$SRS")" && pwd)/$(basename "$SRS")
DIR=$(mktemp -d /tmp/rtc-bridge-bench-XXXXXX)
cd "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
HZ=$(getconf CLK_TCK)

ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -t 30 -c:v libx264 -preset veryfast -b:v 800k -g 50 -pix_fmt yuv420p -ac 2 -c:a aac -b:a 96k source.flv

graph() { # $1: name, $2: port, $3: extra nodes, $4: the chain from the vhost to rtc_play
    cat > "$1.dhall" <<DHALL
let srs = $ROOT/nodes/package.dhall
in srs.Graph::{ nodes =
  [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "127.0.0.1:$2" })
  , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{ listen = "127.0.0.1:$(($2 + 1))" })
  , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{=})
  , srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::{ listen = "127.0.0.1:$(($2 + 2))", api = "127.0.0.1:$(($2 + 1))", candidate = "127.0.0.1" })
  $3 ]
, edges = [ srs.edge "rtmp" "__defaultVhost__" $4 ] }
DHALL
}
graph plain 19431 '' ', srs.edge "__defaultVhost__" "rtc_play"'
graph to_opus 19441 ', srs.node "to_opus" (srs.Node.AacToOpus srs.AacToOpus::{ complexity = '"${OPUS_COMPLEXITY:-5}"' })' \
    ', srs.edge "__defaultVhost__" "to_opus", srs.edge "to_opus" "rtc_play"'
graph both 19451 ', srs.node "to_opus" (srs.Node.AacToOpus srs.AacToOpus::{ complexity = '"${OPUS_COMPLEXITY:-5}"' }), srs.node "to_aac" (srs.Node.OpusToAac srs.OpusToAac::{=})' \
    ', srs.edge "__defaultVhost__" "to_opus", srs.edge "to_opus" "to_aac", srs.edge "to_aac" "rtc_play"'

wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() { # $1: graph, $2: port; prints CPU ticks over SECS
    "$SRS" run "$1.dhall" 2> "$1.log" & local pid=$!
    pids+=("$pid")
    wait_port "$2"
    local pubs=()
    for i in $(seq 1 "$N"); do
        ffmpeg -v error -re -stream_loop -1 -i source.flv -c copy -f flv "rtmp://127.0.0.1:$2/live/s$i" & pubs+=($!)
        pids+=("${pubs[-1]}")
    done
    sleep 3
    local before; before=$(ticks "$pid")
    sleep "$SECS"
    local after; after=$(ticks "$pid")
    for p in "${pubs[@]}"; do kill "$p" 2>/dev/null || true; done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo $((after - before))
}

plain=$(measure plain 19431)
to_opus=$(measure to_opus 19441)
both=$(measure both 19451)
pct() { awk -v t="$1" -v hz="$HZ" -v s="$SECS" -v n="$N" 'BEGIN { printf "%.2f", t * 100 / hz / s / n }'; }
echo "streams=$N seconds=$SECS (server CPU, % of one core per stream)"
echo "plain (no bridge):        $(pct "$plain")"
echo "AacToOpus:                $(pct "$to_opus")  -> bridge $(pct $((to_opus - plain)))"
echo "AacToOpus + OpusToAac:    $(pct "$both")  -> OpusToAac $(pct $((both - to_opus)))"
