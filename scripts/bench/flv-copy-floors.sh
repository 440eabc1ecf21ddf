#!/bin/sh
# The floors behind FLV → FLV (ARCHITECTURE.md, "FLV → FLV near cat"): `cat in > out` and the ways
# of walking an FLV's tags and writing its bytes in flv-copy-floors.c, each RUNS times (default 7)
# with `sync` before, CPU and wall milliseconds from `perf stat`. Also `srs remux` when SRS is set.
#   scripts/bench/flv-copy-floors.sh /tmp/srs-remux-bench/in.flv
#   SRS=target/release/srs scripts/bench/flv-copy-floors.sh in.flv
set -eu
input=$1
runs=${RUNS:-7}
work=$(mktemp -d /tmp/flv-copy-floors.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/floors" "$(dirname "$0")/flv-copy-floors.c"
modes="cat cfr walk-mmap walk-pread mmap-cfr pread-cfr pread-write"
[ -n "${SRS:-}" ] && modes="$modes srs"
for mode in $modes; do
    cpu=""; wall=""
    for _ in $(seq "$runs"); do
        rm -f "$work/out.flv"
        sync
        case $mode in
            cat) cmd="cat $input > $work/out.flv" ;;
            srs) cmd="$SRS remux $input $work/out.flv" ;;
            *) cmd="$work/floors $mode $input $work/out.flv" ;;
        esac
        perf stat -x, -e task-clock,duration_time -o "$work/stat.txt" sh -c "$cmd" 2>/dev/null
        cpu="$cpu $(grep task-clock "$work/stat.txt" | cut -d, -f1 | cut -d. -f1)"
        wall="$wall $(grep duration_time "$work/stat.txt" | cut -d, -f1 | awk '{printf "%d", $1 / 1e6}')"
    done
    echo "$mode: cpu ms$cpu | wall ms$wall"
done
