#!/bin/sh
# `srs remux` of two inputs at once with `--jobs 1` against `--jobs 2` (one file per core), whole
# processes, alternating runs, wall / CPU / peak RSS per run as `/usr/bin/time` reports them.
# Uses the FLV input that scripts/bench/remux-vs-ffmpeg.sh builds in WORK (run that first).
#   SRS=target/release/srs PASSES=3 scripts/bench/remux-jobs.sh
set -eu
srs=${SRS:-target/release/srs}
passes=${PASSES:-3}
work=${WORK:-/tmp/srs-remux-bench}
[ -f "$work/in.flv" ] || { echo "no $work/in.flv: run scripts/bench/remux-vs-ffmpeg.sh first" >&2; exit 1; }
ln -sf in.flv "$work/a.flv"
ln -sf in.flv "$work/b.flv"
out="$work/jobs-out"
mkdir -p "$out"
for pass in $(seq "$passes"); do
    for jobs in 1 2; do
        /usr/bin/time -f "pass $pass --jobs $jobs: wall %e s, cpu %U+%S s, rss %M KB" \
            "$srs" remux "$work/a.flv" "$work/b.flv" --format ts --out-dir "$out" --jobs "$jobs" 2>&1 | tail -1
        rm -f "$out"/*
    done
done
