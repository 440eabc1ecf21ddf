#!/bin/sh
# What the console's polling costs the server: with PLAYERS RTMP players connected (default 1000),
# alternates 10 s windows without and with a poller doing what an open console does every second
# (GET summaries, streams, clients, vhosts and graph from the API), and prints the server's CPU in
# each window and the medians (percent of one core):
#   scripts/bench/console-poll.sh [PLAYERS] [PAIRS]
# SRS (default target/release/srs) is the binary; INPUT the FLV the publisher loops.
set -eu
players=${1:-1000}
pairs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
srs=${SRS:-target/release/srs}
input=${INPUT:-/tmp/bench_1mbps.flv}
if [ ! -f "$input" ]; then
    ffmpeg -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
        -t 30 -c:v libx264 -preset veryfast -b:v 900k -maxrate 900k -bufsize 900k -g 50 \
        -pix_fmt yuv420p -c:a aac -b:a 96k "$input"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
RUST_LOG=warn "$srs" run "$here/console-poll.dhall" 2>/tmp/srs-console-poll.log &
server=$!
for _ in $(seq 150); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', 19350))" 2>/dev/null && break
    sleep 0.2
done
seconds=$((pairs * 20 + 30))
"$srs" bench --input "$input" --url rtmp://127.0.0.1:19350/live/bench --players-rtmp "$players" \
    --duration "$seconds" >/tmp/srs-console-poll-bench.log 2>&1 &
bench=$!
trap 'kill $bench $server 2>/dev/null; wait 2>/dev/null || true' EXIT
sleep $((players / 200 + 8))
python3 - "$server" "$pairs" <<'PY'
import statistics, sys, threading, time, urllib.request
pid, pairs = int(sys.argv[1]), int(sys.argv[2])
paths = ["summaries", "streams?count=100", "clients?count=100", "vhosts", "graph"]
def ticks():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
def poll(stop):
    while not stop.is_set():
        start = time.time()
        for path in paths:
            urllib.request.urlopen(f"http://127.0.0.1:19850/api/v1/{path}").read()
        stop.wait(max(0.0, 1.0 - (time.time() - start)))
def window(polling):
    stop = threading.Event()
    poller = threading.Thread(target=poll, args=(stop,)) if polling else None
    if poller: poller.start()
    t0, c0 = time.time(), ticks()
    time.sleep(10)
    c1, t1 = ticks(), time.time()
    stop.set()
    if poller: poller.join()
    return (c1 - c0) / 100 / (t1 - t0) * 100
off, on = [], []
for _ in range(pairs):
    off.append(window(False)); on.append(window(True))
    print(f"window: without polling {off[-1]:.1f} % CPU, with polling {on[-1]:.1f} %", flush=True)
print(f"median without polling {statistics.median(off):.2f} %, with {statistics.median(on):.2f} %, "
      f"the console's polling: {statistics.median(on) - statistics.median(off):.2f} % of a core")
PY
