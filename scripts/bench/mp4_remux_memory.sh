#!/bin/sh
# Peak memory and wall time of `srs remux` reading a big MP4 (the reader must not hold the file):
# builds a ~2 GB MP4 by looping a 10 s clip (`ffmpeg -stream_loop ... -c copy`, `moov` at the end),
# remuxes it to FLV and to MPEG-TS under `/usr/bin/time -v`, prints "Maximum resident set size"
# and the wall time of each, and deletes every file it made. Examples:
#   scripts/bench/mp4_remux_memory.sh            # 2048 MB, target/release/srs
#   SRS=/tmp/target/debug/srs scripts/bench/mp4_remux_memory.sh 200
# SIZE_MB (first argument, default 2048) is the MP4's size; SRS is the binary; TMPDIR where files go.
set -eu
size_mb=${1:-2048}
srs=${SRS:-target/release/srs}
dir=$(mktemp -d "${TMPDIR:-/tmp}/srs-mp4-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# About 8 Mbit/s of H.264 and AAC, so the file's size is in its media rather than its sample tables.
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t 10 -c:v libx264 -preset ultrafast -b:v 8M -maxrate 8M -bufsize 8M -g 60 -c:a aac -b:a 128k \
    -shortest "$dir/clip.mp4"
clip_bytes=$(stat -c %s "$dir/clip.mp4")
loops=$((size_mb * 1024 * 1024 / clip_bytes))
ffmpeg -v error -stream_loop "$loops" -i "$dir/clip.mp4" -c copy "$dir/big.mp4"
rm "$dir/clip.mp4"
echo "input: $(stat -c %s "$dir/big.mp4") bytes ($((loops + 1)) copies of a 10 s clip)"
for output in out.flv out.ts; do
    /usr/bin/time -v "$srs" remux "$dir/big.mp4" "$dir/$output" 2>"$dir/time.txt" || {
        cat "$dir/time.txt"
        exit 1
    }
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")
    echo "$output: $(stat -c %s "$dir/$output") bytes, peak RSS $((rss_kb / 1024)) MB, wall $wall"
    rm "$dir/$output"
done
