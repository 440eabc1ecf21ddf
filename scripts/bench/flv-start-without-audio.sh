#!/usr/bin/env bash
# How long FFmpeg takes to record N seconds of a live HTTP-FLV stream that has no audio, from each
# server binary given, runs alternating; prints each run and the median per binary.
# The FLV header's flags decide it: announced with audio, FFmpeg reads up to its 5 MB probe size
# looking for the audio stream before it writes anything.
# Usage: scripts/bench/flv-start-without-audio.sh SECONDS RUNS SRS_BIN [SRS_BIN...]
#   e.g. scripts/bench/flv-start-without-audio.sh 3 5 /tmp/srs-old target/debug/srs
set -euo pipefail
SECONDS_RECORDED=${1:?seconds}; RUNS=${2:?runs}; shift 2
CATALOGUE=$(cd "$(dirname "$0")/../.." && pwd)/nodes/package.dhall
DIR=$(mktemp -d /tmp/flv-start-XXXXXX)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$DIR"' EXIT
# Lossless 320x240 video, no audio (about 1 Mbit/s): the stream a camera without a microphone makes.
ffmpeg -v error -f lavfi -i testsrc=size=320x240:rate=25 -t 120 -c:v libx264 -preset ultrafast -qp 0 -g 25 \
  -f flv "$DIR/in.flv"
cat > "$DIR/g.dhall" <<GRAPH
let srs = $CATALOGUE
in srs.Graph::{
  nodes =
    [ srs.node "file" (srs.Node.FileIn srs.FileIn::{ path = "$DIR/in.flv", stream = "live/novoice", realtime = True, repeat = True })
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{=})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "127.0.0.1:19716" })
    ]
, edges = [ srs.edge "file" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
}
GRAPH
declare -A TIMES
for run in $(seq "$RUNS"); do
  for bin in "$@"; do
    "$bin" run "$DIR/g.dhall" > "$DIR/srs.log" 2>&1 &
    server=$!
    sleep 2
    start=$(date +%s.%N)
    ffmpeg -v error -rw_timeout 60000000 -i http://127.0.0.1:19716/live/novoice.flv -t "$SECONDS_RECORDED" -c copy -y "$DIR/out.flv"
    took=$(echo "$(date +%s.%N) - $start" | bc)
    kill "$server"; wait "$server" 2>/dev/null || true
    echo "run $run $bin: ${took} s"
    TIMES[$bin]="${TIMES[$bin]:-} $took"
  done
done
for bin in "$@"; do
  echo "median $bin: $(printf '%s\n' ${TIMES[$bin]} | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}') s"
done
