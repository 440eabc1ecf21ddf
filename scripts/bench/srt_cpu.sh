#!/usr/bin/env bash
# CPU of the server per SRT stream: ffmpeg publishes a 5 Mbps TS over SRT (copied, no encoding),
# optionally PLAYERS srt-live-transmit players pull it; the server's CPU time is read from
# /proc over WINDOW seconds. Usage: scripts/bench/srt_cpu.sh [PLAYERS] (needs a release build).
set -euo pipefail
PLAYERS=${1:-0}
WINDOW=${WINDOW:-30}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/srs}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d)
PORT=${PORT:-28080}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DIR"' EXIT
CLIP=$DIR/clip5m.ts
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=1280x720:rate=25 \
  -f lavfi -i sine=frequency=440:sample_rate=48000 -t $((WINDOW + 15)) -c:v libx264 -preset ultrafast \
  -b:v 5M -minrate 5M -maxrate 5M -bufsize 1M -x264-params nal-hrd=cbr -g 50 -pix_fmt yuv420p \
  -c:a aac -b:a 128k -muxrate 5600k -f mpegts "$CLIP"
cat > "$DIR/graph.dhall" <<DHALL
let srs = $ROOT/nodes/package.dhall
in srs.Graph::{
  nodes =
    [ srs.node "srt" (srs.Node.SrtIn srs.SrtIn::{ listen = "127.0.0.1:$PORT" })
    , srs.node "srt_play" (srs.Node.SrtOut srs.SrtOut::{ listen = "127.0.0.1:$PORT" })
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{=})
    ]
, edges = [ srs.edge "srt" "__defaultVhost__", srs.edge "__defaultVhost__" "srt_play" ]
}
DHALL
RUST_LOG=warn "$BIN" run "$DIR/graph.dhall" 2>"$DIR/srs.log" &
SRS=$!
sleep 1
ffmpeg -hide_banner -loglevel error -nostdin -re -i "$CLIP" -c copy -f mpegts \
  "srt://127.0.0.1:$PORT?streamid=#!::r=live/bench,m=publish" &
sleep 3
for _ in $(seq 1 "$PLAYERS"); do
  srt-live-transmit -q "srt://127.0.0.1:$PORT?streamid=#!::r=live/bench,m=request" file://con >>"${PLAYER_OUT:-/dev/null}" 2>/dev/null &
done
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$SRS/stat"; }
HZ=$(getconf CLK_TCK)
before=$(ticks)
sleep "$WINDOW"
after=$(ticks)
echo "players=$PLAYERS window=${WINDOW}s cpu=$(echo "scale=2; ($after - $before) * 100 / $HZ / $WINDOW" | bc)% of one core"
