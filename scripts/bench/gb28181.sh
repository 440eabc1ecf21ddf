#!/bin/bash
# GB28181 load: N simulated cameras (SIP + PS over RTP at about 1 Mbit/s each) against our server
# (release build), reporting the server's CPU and RSS per device. Examples:
#   scripts/bench/gb28181.sh 100 tcp
#   scripts/bench/gb28181.sh 100 udp
# GRAPH (default scripts/bench/gb28181-bench.dhall) is the server; CLIP (default /tmp/gb28181-bench-1mbps.ts) is made with ffmpeg when missing.
set -eu
devices=${1:-100}
transport=${2:-tcp}
duration=${DURATION:-30}
srs=${SRS:-target/release/srs}
clip=${CLIP:-/tmp/gb28181-bench-1mbps.ts}
if [ ! -f "$clip" ]; then
    ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25 \
        -f lavfi -i sine=frequency=440:sample_rate=44100 -t 30 -c:v libx264 -preset veryfast \
        -b:v 900k -maxrate 900k -bufsize 900k -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k \
        -f mpegts "$clip"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
RUST_LOG=warn "$srs" run "${GRAPH:-scripts/bench/gb28181-bench.dhall}" 2>/tmp/srs-gb28181-server.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
# Wait for the SIP listener (the graph is evaluated first).
for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/15060) 2>/dev/null && break
    sleep 0.1
done
echo "server idle: $(grep VmRSS /proc/$server/status)"
"$srs" bench gb28181 --server 127.0.0.1:15060 --file "$clip" --devices "$devices" \
    --transport "$transport" --duration "$duration" --server-pid "$server"
