#!/bin/bash
# WebRTC fan-out load: the bench publishes a ~1 Mbit/s H.264 stream over RTMP (1 s GOP, baseline,
# no B-frames) and N WHEP players of its own (`srs bench --players-whep`, the rtc crate as the
# client) play it; reports the server's CPU-ms per player-minute, RSS per player and after the
# players left, the share of players within 3 % of the median frame rate, first-frame p50/p99
# and where the first frame waited: each phase of the players' start (answer, first STUN, ICE,
# DTLS, first RTP, first frame), DTLS flights sent again on either side (the players' count and
# the server's, from /api/v1/clients), UDP receive-buffer drops (server sockets, player sockets,
# the machine), the machine's load.
# Release build. Examples:
#   scripts/bench/whep-load.sh 100
#   DURATION=60 RAMP=50 scripts/bench/whep-load.sh 1000
#   ICE_MS=200 SRS=/other/srs BENCH=target/release/srs scripts/bench/whep-load.sh 100
# (ICE_MS: the players' ICE check interval, 48 ms by default as a browser's, 200 the crate's own;
# BENCH: the binary whose `srs bench` runs the players, when the server is another build.)
# The players run in the same machine as the server: their CPU (DTLS, SRTP decryption) competes
# with it. The stream's AAC is not sent to WebRTC players (no AAC-to-Opus bridge in this graph).
set -eu
players=${1:-100}
duration=${DURATION:-30}
ramp=${RAMP:-50}
srs=${SRS:-target/release/srs}
bench=${BENCH:-$srs}
ice_ms=${ICE_MS:-48}
clip=${CLIP:-/tmp/whep-load-1mbps.flv}
if [ ! -f "$clip" ]; then
    ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25 \
        -f lavfi -i sine=frequency=440:sample_rate=44100 -t 30 -c:v libx264 -preset veryfast \
        -profile:v baseline -b:v 900k -maxrate 900k -bufsize 900k -g 25 -pix_fmt yuv420p \
        -c:a aac -b:a 96k -f flv "$clip"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
RUST_LOG=${RUST_LOG:-warn,srs::servers::rtc_udp=info} "$srs" run "${GRAPH:-scripts/bench/whep-load.dhall}" 2>/tmp/srs-whep-load-server.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/19850) 2>/dev/null && break
    sleep 0.1
done
echo "server idle: $(grep VmRSS /proc/$server/status)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" bench --whep-ice-check-ms "$ice_ms" --publishers 1 --input "$clip" --url rtmp://127.0.0.1:19350/live/bench \
    --players-whep "$players" --whep-url "http://127.0.0.1:19850/rtc/v1/whep/?app=live&stream=bench" \
    --ramp "$ramp" --warmup 5 --duration "$duration" --server-pid "$server"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -h -e "socket buffers" -e "not sent" /tmp/srs-whep-load-server.log | tail -5 || true
# RSS once the sessions are gone (DELETEs, or the 30 s idle sweep for any that did not send one).
sleep 5
echo "server 5 s after the players left: $(grep VmRSS /proc/$server/status)"
