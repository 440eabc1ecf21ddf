#!/usr/bin/env bash
# Native ingest vs an FFmpeg child doing the same pull (issue 17's "Measure"):
#   - CPU per ingested stream: server B pulls N copies of an RTMP stream with our own client
#     (`native = True`), server C pulls the same through FFmpeg children (`native = False`:
#     `ffmpeg -i rtmp://... -c copy -f flv pipe:1`, read by the server); C's CPU counts its children.
#   - time from ingest start to the first frame published (from each server's log).
#   The source is server A's stream over RTMP (default), HLS (`hls`: 2 s TS segments served by
#   A's HttpStatic) or MPEG-TS over HTTP (`ts`: A's HttpRemux).
# Usage: scripts/bench/ingest-native-vs-ffmpeg.sh [SRS_BIN] [SECONDS] [STREAMS] [rtmp|hls|ts]
#   WARMUP=S (default 1): seconds between the last ingest publishing and the measurement, the same
#   for both sides. WARMUP=35 measures a long-running ingest's steady state (until session 10 an
#   unwatched stream's hub held 30 s of packets, and the frames' memory was reused only after that;
#   it now holds its gop cache, so the two agree).
set -euo pipefail
SRS=${1:-target/release/srs}
SECS=${2:-20}
N=${3:-4}
SOURCE=${4:-rtmp}
case "$SOURCE" in
    rtmp) URL=rtmp://127.0.0.1:19411/live/src ;;
    hls) URL=http://127.0.0.1:19414/live/src.m3u8 ;;
    ts) URL=http://127.0.0.1:19415/live/src.ts ;;
    *) echo "source: rtmp, hls or ts" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRS=$(cd "$(dirname "$SRS")" && pwd)/$(basename "$SRS")
DIR=$(mktemp -d /tmp/ingest-bench-XXXXXX)
cd "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -t 30 -c:v libx264 -preset veryfast -b:v 900k -maxrate 900k -bufsize 900k -g 50 -pix_fmt yuv420p \
    -c:a aac -b:a 96k source.flv

graph() { # $1: name, $2: nodes, $3: edges
    printf 'let srs = %s/nodes/package.dhall\nin srs.Graph::{ nodes = [ srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{=}) %s ], edges = [ %s ] }\n' \
        "$ROOT" "$2" "$3" > "$1.dhall"
}
graph a ', srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "127.0.0.1:19411" }), srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "127.0.0.1:19411" }), srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{ hls_path = "'"$DIR"'/www", hls_fragment = 2.0 }), srs.node "www" (srs.Node.HttpStatic srs.HttpStatic::{ listen = "127.0.0.1:19414", dir = "'"$DIR"'/www" }), srs.node "ts" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "127.0.0.1:19415", mount = "[vhost]/[app]/[stream].ts" })' \
    'srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "play", srs.edge "__defaultVhost__" "hls", srs.edge "__defaultVhost__" "ts"'
for side in b c; do
    native=$([ "$side" = b ] && echo True || echo False)
    nodes=', srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "127.0.0.1:1841'"$([ "$side" = b ] && echo 2 || echo 3)"'" })'
    edges='srs.edge "__defaultVhost__" "flv"'
    for i in $(seq 1 "$N"); do
        nodes="$nodes, srs.node \"in$i\" (srs.Node.Ingest srs.Ingest::{ url = \"$URL\", stream = \"live/in$i\", native = $native })"
        edges="$edges, srs.edge \"in$i\" \"__defaultVhost__\""
    done
    graph "$side" "$nodes" "$edges"
done

wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
"$SRS" run a.dhall 2> a.log & pids+=($!)
wait_port 19411
ffmpeg -v error -re -stream_loop -1 -i source.flv -c copy -f flv rtmp://127.0.0.1:19411/live/src & pids+=($!)
sleep 2
# An HLS source needs a few segments listed first.
[ "$SOURCE" = hls ] && sleep 6

cpu_ns() { # CPU time in ns of pid $1 and its children, summed over their threads (schedstat:
    # nanoseconds, where /proc/<pid>/stat counts 10 ms ticks, too coarse for < 1 ms per second)
    local total=0 p t
    for p in $1 $(pgrep -P "$1" || true); do
        for t in /proc/"$p"/task/*/schedstat; do
            total=$((total + $(awk '{print $1}' "$t" 2>/dev/null || echo 0)))
        done
    done
    echo "$total"
}

measure() { # $1: side; prints CPU ms per stream per second and first-frame times
    "$SRS" run "$1.dhall" 2> "$1.log" & local pid=$!
    pids+=("$pid")
    # Measure once every ingest publishes (graph loading is not the ingest's cost).
    for _ in $(seq 1 300); do
        [ "$(grep -c "ingest publishing" "$1.log" || true)" -ge "$N" ] && break
        sleep 0.1
    done
    sleep "${WARMUP:-1}"
    local before after
    before=$(cpu_ns "$pid")
    sleep "$SECS"
    after=$(cpu_ns "$pid")
    kill "$pid"
    python3 - "$1" "$before" "$after" "$SECS" "$N" <<'PY'
import re, sys
from datetime import datetime
side, before, after, secs, n = sys.argv[1], *map(float, sys.argv[2:])
ms = (after - before) / 1e6 / secs / n
def when(line):
    return datetime.fromisoformat(line.split()[0].rstrip("Z"))
starts, firsts = {}, {}
for line in open(f"{side}.log"):
    m = re.search(r"ingest starts node=(\S+)", line)
    if m: starts[m.group(1)] = when(line)
    m = re.search(r"ingest publishing stream=\S+/live/(\S+)", line)
    if m and m.group(1) not in firsts: firsts[m.group(1)] = when(line)
delays = sorted((firsts[k] - starts[k]).total_seconds() * 1000 for k in starts if k in firsts)
label = "native (our client)" if side == "b" else "FFmpeg child (-c copy)"
median = delays[len(delays) // 2] if delays else float("nan")
print(f"{label:26} CPU {ms:7.2f} ms per stream per second; ingest start -> first frame published: median {median:.0f} ms over {len(delays)} streams")
PY
}
echo "$N streams of a 1 Mbit/s H.264 + AAC source over $SOURCE ($URL), $SECS s each, $(basename "$SRS")"
measure b
measure c
