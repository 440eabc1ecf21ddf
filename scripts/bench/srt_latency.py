#!/usr/bin/env python3
"""End-to-end latency through the server over SRT, against the configured SRT latency.

srt-live-transmit publishes a TS clip (paced by its video PTS from this script) and another
srt-live-transmit plays it back; the delay between sending and receiving each video PES (matched
by PTS; the graph's vhost runs with atc so timestamps pass unchanged) is the end-to-end latency.
Usage: scripts/bench/srt_latency.py CLIP.ts LATENCY_MS [SECONDS] (needs a release build).
"""
import os, statistics, subprocess, sys, tempfile, threading, time

clip, latency = sys.argv[1], int(sys.argv[2])
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 25.0
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = os.environ.get("BIN", os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release/srs"))
port = int(os.environ.get("PORT", "28090"))
VIDEO_PID = 0x100


def video_pts(packet):
    """The PTS of a video PES starting in this 188-byte packet, else None."""
    if packet[0] != 0x47 or not packet[1] & 0x40:
        return None
    if ((packet[1] & 0x1F) << 8 | packet[2]) != VIDEO_PID:
        return None
    offset = 4
    if packet[3] & 0x20:
        offset += 1 + packet[4]
    pes = packet[offset:]
    if len(pes) < 14 or pes[:3] != b"\x00\x00\x01" or not pes[7] & 0x80:
        return None
    p = pes[9:14]
    return ((p[0] >> 1) & 7) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1


work = tempfile.mkdtemp()
with open(os.path.join(work, "graph.dhall"), "w") as f:
    f.write(f"""let srs = {root}/nodes/package.dhall
let srt = srs.SrtIn::{{ listen = "127.0.0.1:{port}", latency = {latency} }}
in srs.Graph::{{
  nodes =
    [ srs.node "srt" (srs.Node.SrtIn srt)
    , srs.node "srt_play" (srs.Node.SrtOut srt)
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ atc = True }})
    ]
, edges = [ srs.edge "srt" "__defaultVhost__", srs.edge "__defaultVhost__" "srt_play" ]
}}
""")
log = open(os.path.join(work, "srs.log"), "w")
server = subprocess.Popen([binary, "run", os.path.join(work, "graph.dhall")], stderr=log)
time.sleep(1)
url = f"srt://127.0.0.1:{port}?latency={latency}&streamid=#!::r=live/latency,m="
publisher = subprocess.Popen(["srt-live-transmit", "-q", "-chunk:1316", "file://con", url + "publish"], stdin=subprocess.PIPE)
sent, received = {}, {}
stop = threading.Event()


def publish():
    data = open(clip, "rb").read()
    start, first = time.monotonic(), None
    for at in range(0, len(data) - 1316 + 1, 1316):
        if stop.is_set():
            break
        chunk = data[at:at + 1316]
        for i in range(0, 1316, 188):
            pts = video_pts(chunk[i:i + 188])
            if pts is not None:
                first = pts if first is None else first
                time.sleep(max(0.0, start + (pts - first) / 90000 - time.monotonic()))
                sent.setdefault(pts, time.monotonic())
        publisher.stdin.write(chunk)
        publisher.stdin.flush()


threading.Thread(target=publish, daemon=True).start()
time.sleep(2)
player = subprocess.Popen(["srt-live-transmit", "-q", url + "request", "file://con"], stdout=subprocess.PIPE)


def play():
    pending = b""
    while not stop.is_set():
        data = os.read(player.stdout.fileno(), 65536)
        if not data:
            break
        now = time.monotonic()
        pending += data
        while len(pending) >= 188:
            if pending[0] != 0x47:
                pending = pending[1:]
                continue
            pts = video_pts(pending[:188])
            if pts is not None:
                received.setdefault(pts, now)
            pending = pending[188:]


threading.Thread(target=play, daemon=True).start()
time.sleep(seconds)
stop.set()
for process in (player, publisher, server):
    process.kill()
joined = sorted(pts for pts in received if pts in sent)
steady = [1000 * (received[p] - sent[p]) for p in joined[len(joined) // 5:]]
if not steady:
    sys.exit(f"no PTS matched ({len(sent)} sent, {len(received)} received); log in {work}")
steady.sort()
print(f"configured latency {latency} ms: end-to-end median {statistics.median(steady):.0f} ms, "
      f"p90 {steady[int(len(steady) * 0.9)]:.0f} ms, min {steady[0]:.0f} ms over {len(steady)} frames")
