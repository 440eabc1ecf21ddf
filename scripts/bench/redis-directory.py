#!/usr/bin/env python3
"""Origin cluster directory costs (issue 16's "Measure"): what `OriginCluster` does per stream,
timed against a local redis-server started here (no persistence): a lookup is one connection
carrying one GET (per pull round of a player's missing stream), a record one connection carrying
`SET key value EX ttl` (at publish, then every third of the TTL). Prints p50/p99 of each over N.

Usage: scripts/bench/redis-directory.py [N]   (default 1000)
"""
import socket, subprocess, sys, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
PORT = probe.getsockname()[1]
probe.close()
redis = subprocess.Popen(["redis-server", "--port", str(PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                         stdout=subprocess.DEVNULL)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", PORT), 0.2).close()
        break
    except OSError:
        time.sleep(0.05)


def resp(*args):
    out = f"*{len(args)}\r\n".encode()
    for a in args:
        a = a.encode()
        out += f"${len(a)}\r\n".encode() + a + b"\r\n"
    return out


def once(command):
    start = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(command)
    reply = s.recv(4096)
    s.close()
    assert reply, "redis answered"
    return time.perf_counter() - start


key = "srs:stream:__defaultVhost__/live/bench"
try:
    records = sorted(once(resp("SET", key, "127.0.0.1:19350", "EX", "10")) for _ in range(N))
    lookups = sorted(once(resp("GET", key)) for _ in range(N))
finally:
    redis.kill()
for name, times in (("record (SET EX)", records), ("lookup (GET)", lookups)):
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e6
    print(f"{name}: p50 {p(0.5):.0f} us, p99 {p(0.99):.0f} us over {N}, one connection each")
