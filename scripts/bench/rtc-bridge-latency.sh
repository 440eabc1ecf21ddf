#!/usr/bin/env bash
# Per-stream CPU and added latency (p50/p99) of the WebRTC audio bridges, in process (issue 14's
# "Measure"): one minute of a stereo tone through `AacToOpus` and `OpusToAac` (benches/audio_bridge.rs,
# release build). The latency is what a live stream waits for in the bridge: a whole output frame,
# the AAC encoder's delay, and the compute time.
# Usage: scripts/bench/rtc-bridge-latency.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench --bench audio_bridge
