#!/usr/bin/env python3
"""Edge failover time (issue 16's "Measure"): two origins, each fed by its own ffmpeg publisher,
and an edge (`EdgePull`, origins [A, B]) with an HTTP-FLV reader on it. The origin the edge pulls
from is killed with SIGKILL (and restarted with its publisher afterwards), N times, alternating;
each kill's failover time is the longest wall-clock gap between the reader's socket reads in the
3 s after the kill (a merged-write flush every ~100-350 ms is the floor); with several players,
the longest such gap over all of them. Prints p50/p99/max, and how many players are still
connected at the end.

Usage: scripts/bench/edge-failover.py [SRS_BIN] [KILLS] [PLAYERS]   (default target/debug/srs, 20, 1)
"""
import os, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/srs"))
KILLS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PLAYERS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
DIR = tempfile.mkdtemp(prefix="edge-failover-")
PORTS = {"a": (19511, 19512), "b": (19521, 19522)}
EDGE_HTTP = 19531
procs = []


def graph(name, nodes, edges):
    path = os.path.join(DIR, name + ".dhall")
    with open(path, "w") as f:
        f.write(f"let srs = {ROOT}/nodes/package.dhall\nin srs.Graph::{{ nodes = [ {nodes} ], edges = [ {edges} ] }}\n")
    return path


def wait_port(port):
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


def start_origin(name):
    rtmp, http = PORTS[name]
    path = graph(name, f'srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }}), '
                       f'srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }}), '
                       f'srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})',
                 'srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "play"')
    server = subprocess.Popen([SRS, "run", path], stderr=open(os.path.join(DIR, name + ".log"), "a"), cwd=DIR)
    wait_port(rtmp)
    publisher = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i",
         "sine=frequency=440:sample_rate=44100", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", f"rtmp://127.0.0.1:{rtmp}/live/fo"],
        stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return server, publisher


origins = {name: start_origin(name) for name in "ab"}
origin_list = ", ".join(f'"127.0.0.1:{PORTS[n][0]}"' for n in "ab")
edge = subprocess.Popen([SRS, "run", graph("edge",
    f'srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{{ origin = [ {origin_list} ] }}), '
    f'srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }}), '
    f'srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{EDGE_HTTP}" }})',
    'srs.edge "edge" "__defaultVhost__", srs.edge "__defaultVhost__" "flv"')],
    stderr=open(os.path.join(DIR, "edge.log"), "w"), cwd=DIR)
wait_port(EDGE_HTTP)
time.sleep(2)

reads = [[] for _ in range(PLAYERS)]
ended = []
stop = False


def reader(times):
    sock = socket.create_connection(("127.0.0.1", EDGE_HTTP))
    sock.sendall(b"GET /live/fo.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    while not stop:
        if not sock.recv(65536):
            ended.append(times)
            break
        times.append(time.monotonic())


for times in reads:
    threading.Thread(target=reader, args=(times,), daemon=True).start()
time.sleep(3)
gaps = []
current = "a"  # the edge starts on the first origin
try:
    for i in range(KILLS):
        server, publisher = origins[current]
        killed_at = time.monotonic()
        server.kill()
        server.wait()
        publisher.kill()
        time.sleep(3)
        gap = 0.0
        for times in reads:
            window = [t for t in times if t >= killed_at - 0.5]
            gap = max(gap, max(b - a for a, b in zip(window, window[1:])) if len(window) > 1 else float("inf"))
        gaps.append(gap)
        print(f"kill {i + 1}: origin {current}, longest gap {gap * 1000:.0f} ms", flush=True)
        origins[current] = start_origin(current)
        current = "b" if current == "a" else "a"
        time.sleep(2)
finally:
    stop = True
    for server, publisher in origins.values():
        server.kill()
        publisher.kill()
    edge.kill()

gaps.sort()
p = lambda q: gaps[min(len(gaps) - 1, int(q * len(gaps)))] * 1000
print(f"failover over {len(gaps)} kills, {PLAYERS} players (longest gap of any): p50 {p(0.5):.0f} ms, "
      f"p99 {p(0.99):.0f} ms, max {gaps[-1] * 1000:.0f} ms; players still connected: {PLAYERS - len(ended)}")
print(f"logs in {DIR}")
