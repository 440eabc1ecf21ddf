//! The WebRTC audio bridges' cost and added latency, per stream (issue 14's "Measure"): one
//! minute of a 48 kHz stereo tone (AAC-LC 44.1 kHz for `AacToOpus`, as ffmpeg publishes it; 20 ms
//! Opus frames for `OpusToAac`, as a browser sends) through the sans-IO transcoder, fed in order.
//!
//! - CPU: the thread's CPU time over the run (the kernel's count in `/proc/thread-self/schedstat`,
//!   so a busy machine's waits are not counted) over the audio's duration, in % of one core; the
//!   wall time spent in `push` beside it.
//! - Added latency, per output frame: a live input frame arrives when its last sample has been
//!   captured; the output frame leaves when the `push` that made it returns. The latency is that
//!   moment minus the capture of the output's last sample: what the bridge holds back (a whole
//!   output frame, the encoder's delay) plus its compute time. p50/p99 over the minute.
//!
//! `cargo bench --bench audio_bridge` (or `scripts/bench/rtc-bridge-latency.sh`);
//! `AUDIO_BRIDGE_AAC=<file.aac>` feeds `AacToOpus` an ADTS file (e.g. `../shared/media/avatar.aac`)
//! instead of the tone, `OPUS_COMPLEXITY=N` sets libopus's complexity.

use std::time::{Duration, Instant};

use bytes::Bytes;
use srs::codec::audio::aac_to_opus::AacToOpus;
use srs::codec::audio::opus_to_aac::OpusToAac;
use srs::media::MediaTime;

const SECONDS: usize = 60;

/// 1 kHz stereo at `rate`, `frames` samples per channel.
fn tone(rate: u32, frames: usize) -> Vec<i16> {
    (0..frames)
        .flat_map(|n| {
            let s = ((n as f64 * 1000.0 * std::f64::consts::TAU / f64::from(rate)).sin() * 8_000.0) as i16;
            [s, s]
        })
        .collect()
}

/// AAC-LC frames of the tone at `rate` and the stream's AudioSpecificConfig.
fn aac_frames(rate: u32) -> (Vec<u8>, Vec<Bytes>) {
    use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};
    let encoder = Encoder::new(EncoderParams {
        bit_rate: BitRate::Cbr(96_000),
        sample_rate: rate,
        transport: Transport::Raw,
        channels: ChannelMode::Stereo,
        audio_object_type: AudioObjectType::Mpeg4LowComplexity,
    })
    .expect("aac encoder");
    let info = encoder.info().expect("encoder info");
    let asc = info.confBuf[..info.confSize as usize].to_vec();
    let mut out = vec![0u8; 8192];
    let frames = tone(rate, rate as usize * SECONDS)
        .chunks_exact(2048)
        .filter_map(|pcm| {
            let encoded = encoder.encode(pcm, &mut out).expect("encode");
            (encoded.output_size > 0).then(|| Bytes::copy_from_slice(&out[..encoded.output_size]))
        })
        .collect();
    (asc, frames)
}

fn opus_frames() -> Vec<Bytes> {
    let mut encoder =
        opus::Encoder::new(48_000, opus::Channels::Stereo, opus::Application::Audio).expect("opus");
    tone(48_000, 48_000 * SECONDS)
        .chunks_exact(1920)
        .map(|pcm| Bytes::from(encoder.encode_vec(pcm, 1500).expect("encode")))
        .collect()
}

/// CPU time this thread has run so far (Linux's schedstat, in nanoseconds).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    Duration::from_nanos(stat.split_whitespace().next().and_then(|n| n.parse().ok()).expect("run time"))
}

/// Runs `frames` (each `input` long) through `push`; prints CPU and latency figures.
fn measure(
    name: &str,
    frames: &[Bytes],
    input: Duration,
    output: Duration,
    mut push: impl FnMut(&[u8], MediaTime, &mut Vec<(Bytes, MediaTime)>),
) {
    let mut out = Vec::new();
    let mut busy = Duration::ZERO;
    let mut latencies = Vec::new();
    let cpu_before = thread_cpu();
    for (i, frame) in frames.iter().enumerate() {
        let start = input * i as u32;
        let captured = start + input;
        let began = Instant::now();
        push(frame, MediaTime::from_millis(start.as_millis() as i64), &mut out);
        let took = began.elapsed();
        busy += took;
        for (_, at) in out.drain(..) {
            let last_sample = Duration::from_micros(
                (at.rescale(srs::media::Timebase::new(1_000_000).expect("µs")).ticks().max(0)) as u64,
            ) + output;
            let leaves = captured + took;
            latencies.push(leaves.saturating_sub(last_sample).as_secs_f64() * 1000.0);
        }
    }
    let cpu = thread_cpu() - cpu_before;
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let audio = input * frames.len() as u32;
    println!(
        "{name}: {:.3} % of a core per stream in CPU time ({:.3} % in wall time, {:.1} µs per input frame); added latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} output frames)",
        cpu.as_secs_f64() / audio.as_secs_f64() * 100.0,
        busy.as_secs_f64() / audio.as_secs_f64() * 100.0,
        busy.as_secs_f64() * 1e6 / frames.len() as f64,
        pick(0.5),
        pick(0.99),
        latencies.last().copied().unwrap_or(0.0),
        latencies.len()
    );
}

/// AAC frames of an ADTS file (a real soundtrack: libopus works harder on it than on a tone),
/// looped to `SECONDS`, and its AudioSpecificConfig.
fn adts_frames(path: &str) -> (Vec<u8>, Vec<Bytes>) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut asc, mut frames) = (Vec::new(), Vec::new());
    let mut at = 0;
    while let Ok(header) = srs::codec::aac::parse_adts(&data[at..]) {
        let Some(payload) = data.get(at + header.header_len..at + header.frame_len) else { break };
        if asc.is_empty() {
            asc = header.config.encode().to_vec();
        }
        frames.push(Bytes::copy_from_slice(payload));
        at += header.frame_len;
    }
    assert!(!frames.is_empty(), "{path}: no ADTS frames");
    let rate = srs::codec::aac::AudioSpecificConfig::parse(&asc).map_or(44_100, |c| c.sample_rate as usize);
    let count = rate * SECONDS / 1024;
    (asc, frames.iter().cycle().take(count).cloned().collect())
}

fn main() {
    // `AUDIO_BRIDGE_AAC=<file.aac>`: AacToOpus fed that ADTS file instead of the tone.
    let (asc, aac) = match std::env::var("AUDIO_BRIDGE_AAC") {
        Ok(path) => adts_frames(&path),
        Err(_) => aac_frames(44_100),
    };
    let mut to_opus = AacToOpus::new(&asc, 48_000).expect("aac to opus");
    // `OPUS_COMPLEXITY=N`: libopus's complexity (the node's default otherwise).
    if let Some(complexity) = std::env::var("OPUS_COMPLEXITY").ok().and_then(|c| c.parse().ok()) {
        to_opus.set_complexity(complexity).expect("complexity");
    }
    let rate = srs::codec::aac::AudioSpecificConfig::parse(&asc).map_or(44_100, |c| u64::from(c.sample_rate));
    measure(
        &format!("AacToOpus (AAC-LC {rate} Hz stereo -> Opus 48 kbit/s)"),
        &aac,
        Duration::from_nanos(1024 * 1_000_000_000 / rate),
        Duration::from_millis(20),
        |frame, time, out| {
            to_opus.push(frame, time, out).expect("transcode");
        },
    );
    let opus = opus_frames();
    let mut to_aac = OpusToAac::new(48_000).expect("opus to aac");
    measure(
        "OpusToAac (Opus 48 kHz stereo -> AAC-LC 48 kbit/s)",
        &opus,
        Duration::from_millis(20),
        Duration::from_nanos(1024 * 1_000_000_000 / 48_000),
        |frame, time, out| {
            to_aac.push(frame, time, out).expect("transcode");
        },
    );
}
