#!/usr/bin/env python3
"""First frame at an edge whose first origin lacks the stream (issue 16, "no 5 s wait"). Origins:
P (a plain server without the stream: it accepts the play and waits), A and B (SRS 4 origin
cluster, `OriginCoworkers` knowing each other's API; the stream is published on B). Edge 1 pulls
from [P, B] (P costs the 500 ms first-media wait), edge 2 from [A, B] (A answers the RTMP 302 to
B, which the edge follows). Each round opens an HTTP-FLV player on each edge and times the first
H.264 keyframe tag, then waits for the edges' pulls to close (3 s after the last player).
Prints p50/p99/max per edge.

Usage: scripts/bench/edge-first-frame.py [SRS_BIN] [ROUNDS]   (default target/debug/srs, 10)
"""
import os, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/srs"))
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
DIR = tempfile.mkdtemp(prefix="edge-first-frame-")
RTMP = {"p": 19611, "a": 19621, "b": 19631}
API = {"a": 19622, "b": 19632}
EDGE_HTTP = {"plain": 19641, "redirect": 19651}
procs = []


def run(name, nodes, edges, port):
    path = os.path.join(DIR, name + ".dhall")
    with open(path, "w") as f:
        f.write(f"let srs = {ROOT}/nodes/package.dhall\nin srs.Graph::{{ nodes = [ {nodes} ], edges = [ {edges} ] }}\n")
    procs.append(subprocess.Popen([SRS, "run", path], stderr=open(os.path.join(DIR, name + ".log"), "w"), cwd=DIR))
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{name}: port {port} never opened")


def origin(name, coworkers):
    rtmp = RTMP[name]
    nodes = (f'srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }}), '
             f'srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }}), '
             f'srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})')
    edges = 'srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "play"'
    if coworkers:
        listed = ", ".join(f'"127.0.0.1:{API[c]}"' for c in coworkers)
        nodes += (f', srs.node "cluster" (srs.Node.OriginCoworkers srs.OriginCoworkers::{{ coworkers = [ {listed} ] }})'
                  f', srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{API[name]}" }})')
        edges += ', srs.edge "cluster" "__defaultVhost__"'
    run(name, nodes, edges, rtmp)


def edge(name, origins):
    listed = ", ".join(f'"127.0.0.1:{RTMP[o]}"' for o in origins)
    run("edge-" + name,
        f'srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{{ origin = [ {listed} ] }}), '
        f'srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }}), '
        f'srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{EDGE_HTTP[name]}" }})',
        'srs.edge "edge" "__defaultVhost__", srs.edge "__defaultVhost__" "flv"', EDGE_HTTP[name])


def first_keyframe(port):
    """Seconds from the GET until the first H.264 keyframe tag of the FLV body."""
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    sock.sendall(b"GET /live/ff.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
            head = data.find(b"\r\n\r\n")
            if head < 0:
                continue
            at = head + 4 + 13
            while at + 11 <= len(data):
                size = int.from_bytes(data[at + 1:at + 4], "big")
                if at + 11 + size > len(data):
                    break
                body = data[at + 11:at + 11 + size]
                if data[at] == 9 and len(body) > 1 and body[0] >> 4 == 1 and body[1] == 1:
                    return time.monotonic() - started
                at += 11 + size + 4
    finally:
        sock.close()


try:
    origin("p", [])
    origin("a", ["a", "b"])
    origin("b", ["a", "b"])
    publisher = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i",
         "sine=frequency=440:sample_rate=44100", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", f"rtmp://127.0.0.1:{RTMP['b']}/live/ff"],
        stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(publisher)
    edge("plain", ["p", "b"])
    edge("redirect", ["a", "b"])
    time.sleep(2)
    times = {name: [] for name in EDGE_HTTP}
    for _ in range(ROUNDS):
        for name, port in EDGE_HTTP.items():
            took = first_keyframe(port)
            if took is not None:
                times[name].append(took)
        time.sleep(4.5)
    for name, values in times.items():
        values.sort()
        if not values:
            print(f"{name}: no keyframe in {ROUNDS} rounds (logs in {DIR})")
            continue
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
        print(f"edge [{'P' if name == 'plain' else 'A'}, B] ({name}): first keyframe over {len(values)} plays: "
              f"p50 {pick(0.5) * 1000:.0f} ms, p99 {pick(0.99) * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms")
finally:
    for p in reversed(procs):
        p.kill()
        p.wait()
