#!/bin/sh
# Compares two builds of srs under the same load, alternating passes, and prints the medians of
# the server's CPU-ms per player-minute and KB per player for RTMP and HTTP-FLV players:
#   scripts/bench/compare.sh OLD_SRS OLD_GRAPH NEW_SRS NEW_GRAPH [PASSES] [PLAYERS] [SECONDS]
# Each graph is that build's own scripts/bench/live-bench.dhall (the catalogue must match the
# binary). INPUT (default /tmp/bench_1mbps.flv, made if missing) is the FLV the publisher loops.
set -eu
old_srs=$1 old_graph=$2 new_srs=$3 new_graph=$4
passes=${5:-3} players=${6:-1000} seconds=${7:-20}
here=$(cd "$(dirname "$0")" && pwd)
export INPUT=${INPUT:-/tmp/bench_1mbps.flv}
if [ ! -f "$INPUT" ]; then
    ffmpeg -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
        -t 30 -c:v libx264 -preset veryfast -b:v 900k -maxrate 900k -bufsize 900k -g 50 \
        -pix_fmt yuv420p -c:a aac -b:a 96k "$INPUT"
fi
results=$(mktemp)
for pass in $(seq "$passes"); do
    for kind in rtmp flv; do
        for build in old new; do
            if [ $build = old ]; then srs=$old_srs graph=$old_graph; else srs=$new_srs graph=$new_graph; fi
            report=$(SRS=$srs "$here/measure.sh" "$graph" --players-$kind "$players" --duration "$seconds" 2>&1)
            cpu=$(echo "$report" | sed -n 's/.*= \([0-9.]*\) CPU-ms per player-minute.*/\1/p' | tail -1)
            kb=$(echo "$report" | sed -n 's/.*(\([0-9.]*\) KB per player).*/\1/p' | tail -1)
            echo "pass $pass $kind $build: ${cpu:-?} CPU-ms/player-min, ${kb:-?} KB/player"
            echo "$kind $build ${cpu:-nan} ${kb:-nan}" >> "$results"
        done
    done
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for kind in ("rtmp", "flv"):
    for build in ("old", "new"):
        cpu = [float(r[2]) for r in rows if r[0] == kind and r[1] == build and r[2] != "nan"]
        kb = [float(r[3]) for r in rows if r[0] == kind and r[1] == build and r[3] != "nan"]
        if cpu:
            print(f"{kind:4} {build}: median {statistics.median(cpu):.2f} CPU-ms/player-min "
                  f"(min {min(cpu):.2f}, max {max(cpu):.2f}), median {statistics.median(kb):.1f} KB/player, {len(cpu)} passes")
PY
rm -f "$results"
