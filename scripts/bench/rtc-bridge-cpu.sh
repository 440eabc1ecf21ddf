#!/usr/bin/env bash
# CPU of the WebRTC audio bridges per stream (issue 14's "Measure"): N RTMP streams (H.264 +
# AAC 44.1 kHz stereo, published with ffmpeg -c copy) run for SECONDS through these graphs in turn:
#   plain:    rtmp -> vhost -> {RtcOut, HttpRemux}                    (no bridge)
#   to_opus:  rtmp -> vhost -> AacToOpus -> {RtcOut, HttpRemux}       (AAC decode, resample, Opus encode)
#   both:     rtmp -> vhost -> AacToOpus -> OpusToAac -> {RtcOut, HttpRemux} (and back: Opus decode, AAC encode)
#   rtc_only: rtmp -> vhost -> RtcOut;  idle: rtmp -> vhost -> AacToOpus -> RtcOut
# and the server's user+system CPU is read from /proc before and after. A bridge whose children
# are all RtcOut transcodes only while the stream has a WebRTC player (none here: `idle`), so the
# HttpRemux child (no players: it serializes video once and drops Opus) keeps the bridges busy.
# to_opus - plain is the AAC->Opus bridge, both - to_opus the Opus->AAC bridge, idle - rtc_only
# the AAC->Opus bridge of a stream nobody plays over WebRTC; in % of one core per stream.
# Usage: scripts/bench/rtc-bridge-cpu.sh [SRS_BIN] [SECONDS] [STREAMS] [SOURCE]
#   OPUS_COMPLEXITY=N (default 5): AacToOpus's libopus complexity.
#   SOURCE: what each stream publishes. Default: testsrc2 640x360 800 kbit/s + a 440 Hz tone in
#   AAC 96 kbit/s; an .flv: that file as it is; an .aac (ADTS, e.g. ../shared/media/avatar.aac, a
#   film's soundtrack, on which libopus works harder than on a tone): that audio, looped and
#   encoded to AAC 96 kbit/s stereo, under the default video.
set -euo pipefail
SRS=${1:-target/debug/srs}
SECS=${2:-20}
N=${3:-4}
SOURCE=${4:-}
[ -n "$SOURCE" ] && SOURCE=$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRS=$(cd "$(dirname "$SRS")" && pwd)/$(basename "$SRS")
DIR=$(mktemp -d /tmp/rtc-bridge-bench-XXXXXX)
cd "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
HZ=$(getconf CLK_TCK)

case "$SOURCE" in
    *.flv) cp "$SOURCE" source.flv ;;
    *.aac) AUDIO=(-stream_loop -1 -i "$SOURCE") ;;
    *) AUDIO=(-f lavfi -i sine=frequency=440:sample_rate=44100) ;;
esac
if [ ! -f source.flv ]; then
    ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=25 "${AUDIO[@]}" -map 0:v -map 1:a \
        -t 30 -c:v libx264 -preset veryfast -b:v 800k -g 50 -pix_fmt yuv420p -ac 2 -c:a aac -b:a 96k source.flv
fi

graph() { # $1: name, $2: port, $3: extra nodes (FLV_PORT: port + 3), $4: the edges after the vhost's
    local flv_port=$(($2 + 3))
    local extra=${3//FLV_PORT/$flv_port}
    cat > "$1.dhall" <<DHALL
let srs = $ROOT/nodes/package.dhall
in srs.Graph::{ nodes =
  [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "127.0.0.1:$2" })
  , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{ listen = "127.0.0.1:$(($2 + 1))" })
  , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{=})
  , srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::{ listen = "127.0.0.1:$(($2 + 2))", api = "127.0.0.1:$(($2 + 1))", candidate = "127.0.0.1" })
  $extra ]
, edges = [ srs.edge "rtmp" "__defaultVhost__" $4 ] }
DHALL
}
FLV=', srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "127.0.0.1:FLV_PORT" })'
TO_OPUS=', srs.node "to_opus" (srs.Node.AacToOpus srs.AacToOpus::{ complexity = '"${OPUS_COMPLEXITY:-5}"' })'
graph plain 19431 "$FLV" ', srs.edge "__defaultVhost__" "rtc_play", srs.edge "__defaultVhost__" "flv"'
graph to_opus 19441 "$FLV $TO_OPUS" \
    ', srs.edge "__defaultVhost__" "to_opus", srs.edge "to_opus" "rtc_play", srs.edge "to_opus" "flv"'
graph both 19451 "$FLV $TO_OPUS"', srs.node "to_aac" (srs.Node.OpusToAac srs.OpusToAac::{=})' \
    ', srs.edge "__defaultVhost__" "to_opus", srs.edge "to_opus" "to_aac", srs.edge "to_aac" "rtc_play", srs.edge "to_aac" "flv"'
graph rtc_only 19461 '' ', srs.edge "__defaultVhost__" "rtc_play"'
graph idle 19471 "$TO_OPUS" ', srs.edge "__defaultVhost__" "to_opus", srs.edge "to_opus" "rtc_play"'

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
rtc_only=$(measure rtc_only 19461)
idle=$(measure idle 19471)
pct() { awk -v t="$1" -v hz="$HZ" -v s="$SECS" -v n="$N" 'BEGIN { printf "%.2f", t * 100 / hz / s / n }'; }
echo "streams=$N seconds=$SECS (server CPU, % of one core per stream)"
echo "plain (no bridge):        $(pct "$plain")"
echo "AacToOpus:                $(pct "$to_opus")  -> bridge $(pct $((to_opus - plain)))"
echo "AacToOpus + OpusToAac:    $(pct "$both")  -> OpusToAac $(pct $((both - to_opus)))"
echo "RtcOut only:              $(pct "$rtc_only")"
echo "AacToOpus, no player:     $(pct "$idle")  -> idle bridge $(pct $((idle - rtc_only)))"
