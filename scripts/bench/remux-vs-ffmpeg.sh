#!/bin/sh
# `srs remux` against `ffmpeg -c copy`, whole processes, alternating runs, medians of wall time,
# CPU (user + sys) and peak RSS as `/usr/bin/time -f` reports them. Builds the input once in WORK:
# a 60 s, 1 Mbit/s H.264+AAC clip looped LOOPS+1 times with `ffmpeg -stream_loop -c copy` (~300 MB
# of FLV), and its TS and MP4 copies. Pairs: FLV→TS, FLV→MP4 (fragmented, faststart), FLV→FLV,
# TS→MP4, MP4→FLV, FLV→HLS VOD, and `cat in > out` as the disk's floor. Examples:
#   scripts/bench/remux-vs-ffmpeg.sh                          # target/release/srs, 5 passes
#   SRS=/tmp/target-batch/release/srs PASSES=3 scripts/bench/remux-vs-ffmpeg.sh
#   PAIRS="flv-ts flv-flv cat" scripts/bench/remux-vs-ffmpeg.sh
# SRS: the binary (a release build); PASSES: runs of each side per pair (default 5); LOOPS (default
# 39); WORK (default /tmp/srs-remux-bench): inputs stay there between runs, outputs are deleted
# after each run (and `sync`ed out of the next run's time); CLEAN=1 deletes WORK at the end. Prints one line per run, then the medians table.
set -eu
srs=${SRS:-target/release/srs}
passes=${PASSES:-5}
loops=${LOOPS:-39}
work=${WORK:-/tmp/srs-remux-bench}
pairs=${PAIRS:-"flv-ts flv-fmp4 flv-faststart flv-flv ts-mp4 mp4-flv flv-hls cat"}
mkdir -p "$work"
if [ "${CLEAN:-0}" = 1 ]; then trap 'rm -rf "$work"' EXIT; fi

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

if [ ! -f "$work/in.flv" ]; then
    [ -f "$work/clip.flv" ] || ff -f lavfi -i testsrc2=size=640x360:rate=25 \
        -f lavfi -i sine=frequency=440:sample_rate=44100 \
        -t 60 -c:v libx264 -preset veryfast -b:v 900k -maxrate 900k -bufsize 900k -g 50 \
        -pix_fmt yuv420p -c:a aac -b:a 96k "$work/clip.flv"
    ff -stream_loop "$loops" -i "$work/clip.flv" -c copy -f flv "$work/in.flv.part"
    mv "$work/in.flv.part" "$work/in.flv"
    rm -f "$work/clip.flv" "$work/in.ts" "$work/in.mp4"
fi
[ -f "$work/in.ts" ] || ff -i "$work/in.flv" -c copy "$work/in.ts"
[ -f "$work/in.mp4" ] || ff -i "$work/in.flv" -c copy "$work/in.mp4"
echo "inputs: $(ls -l "$work"/in.flv "$work"/in.ts "$work"/in.mp4 | awk '{printf "%s %d MB; ", $NF, $5/1048576}')"
echo "srs: $srs; ffmpeg: $(ffmpeg -version | head -1 | cut -d' ' -f3); $passes passes"

out="$work/out"
results="$work/results.txt"
: > "$results"

# The command line of one side of a pair.
command_for() { # pair side
    i="$work/in"
    case "$1/$2" in
        flv-ts/ours) echo "$srs remux $i.flv $out/o.ts" ;;
        flv-ts/ffmpeg) echo "ffmpeg -nostdin -loglevel error -y -i $i.flv -c copy $out/o.ts" ;;
        flv-fmp4/ours) echo "$srs remux --mp4-layout fragmented $i.flv $out/o.mp4" ;;
        flv-fmp4/ffmpeg) echo "ffmpeg -nostdin -loglevel error -y -i $i.flv -c copy -movflags frag_keyframe+empty_moov $out/o.mp4" ;;
        flv-faststart/ours) echo "$srs remux --mp4-layout faststart $i.flv $out/o.mp4" ;;
        flv-faststart/ffmpeg) echo "ffmpeg -nostdin -loglevel error -y -i $i.flv -c copy -movflags +faststart $out/o.mp4" ;;
        flv-flv/ours) echo "$srs remux $i.flv $out/o.flv" ;;
        flv-flv/ffmpeg) echo "ffmpeg -nostdin -loglevel error -y -i $i.flv -c copy $out/o.flv" ;;
        ts-mp4/ours) echo "$srs remux --mp4-layout classic $i.ts $out/o.mp4" ;;
        ts-mp4/ffmpeg) echo "ffmpeg -nostdin -loglevel error -y -i $i.ts -c copy $out/o.mp4" ;;
        mp4-flv/ours) echo "$srs remux $i.mp4 $out/o.flv" ;;
        mp4-flv/ffmpeg) echo "ffmpeg -nostdin -loglevel error -y -i $i.mp4 -c copy $out/o.flv" ;;
        flv-hls/ours) echo "$srs remux --segment-duration 6 $i.flv $out/o.m3u8" ;;
        flv-hls/ffmpeg) echo "ffmpeg -nostdin -loglevel error -y -i $i.flv -c copy -f hls -hls_time 6 -hls_playlist_type vod -hls_segment_filename $out/o-%d.ts $out/o.m3u8" ;;
        cat/ours) echo "sh -c 'cat $i.flv > $out/o.flv'" ;;
        *) return 1 ;;
    esac
}

for pass in $(seq "$passes"); do
    for pair in $pairs; do
        sides="ours ffmpeg"
        [ "$pair" = cat ] && sides=ours
        for side in $sides; do
            rm -rf "$out"
            mkdir -p "$out"
            cmd=$(command_for "$pair" "$side")
            # The previous run's output is written back now, not during this run: on a shared
            # machine that writeback otherwise lands as system time on whichever run follows.
            sync
            # Elapsed seconds, user seconds, system seconds, peak RSS in KiB.
            if ! /usr/bin/time -o "$work/time.txt" -f "%e %U %S %M" sh -c "$cmd" >"$work/log.txt" 2>&1; then
                echo "FAILED: $cmd"
                cat "$work/log.txt"
                exit 1
            fi
            set -- $(tail -1 "$work/time.txt")
            echo "pass $pass $pair $side: wall $1 s, cpu $(awk "BEGIN { print $2 + $3 }") s, rss $(($4 / 1024)) MB"
            echo "$pair $side $1 $2 $3 $4" >> "$results"
        done
    done
done
rm -rf "$out"

python3 - "$results" "$pairs" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
pairs = sys.argv[2].split()
def med(pair, side, column):
    values = [column(r) for r in rows if r[0] == pair and r[1] == side]
    return statistics.median(values) if values else None
wall = lambda r: float(r[2])
cpu = lambda r: float(r[3]) + float(r[4])
rss = lambda r: float(r[5]) / 1024
print()
print("| pair | ours wall s | ffmpeg wall s | wall ratio | ours CPU s | ffmpeg CPU s | CPU ratio | ours RSS MB | ffmpeg RSS MB | RSS ratio |")
print("|---|---|---|---|---|---|---|---|---|---|")
for pair in pairs:
    if pair == "cat":
        continue
    o = [med(pair, "ours", f) for f in (wall, cpu, rss)]
    f = [med(pair, "ffmpeg", g) for g in (wall, cpu, rss)]
    if None in o or None in f:
        continue
    cells = []
    for a, b in zip(o, f):
        cells += [f"{a:.2f}", f"{b:.2f}", f"{a / b:.2f}×" if b else "-"]
    print(f"| {pair} | " + " | ".join(cells) + " |")
c = [med("cat", "ours", g) for g in (wall, cpu, rss)]
if None not in c:
    print(f"| cat in > out | {c[0]:.2f} | | | {c[1]:.2f} | | | {c[2]:.1f} | | |")
    flv = med("flv-flv", "ours", wall)
    if flv is not None and c[0] > 0:
        print(f"\nFLV→FLV wall / cat wall: {flv / c[0]:.2f}×")
PY
