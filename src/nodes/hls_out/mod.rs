//! `HlsOut`: SRS's `hls` block: live HLS with MPEG-TS segments (or fMP4, optionally Low-Latency
//! HLS parts), cut by SRS's rules (`codec::hls::Segmenter`), muxed by `codec::mpegts::TsMuxer` or
//! `codec::mp4::FragmentWriter`, written to disk atomically. Serve the files with `HttpStatic`.
//!
//! Accepts video {H264, H265} and audio {AAC, MP3} with TS; fMP4 adds AV1 and Opus. Files under
//! `hls_path`: the playlist `hls_m3u8_file`, segments `hls_ts_file` (`.m4s` for fMP4), init
//! segments `<playlist>-init-<n>.mp4`, parts `<segment>.<n>.m4s`. A republish continues the
//! playlist after a discontinuity; `hls_dispose` seconds after the last publish ends every file
//! of the stream is removed.
//!
//! `hls_keys` encrypts TS segments with AES-128 (keys under `hls_key_file_path`, named in the
//! playlist by `#EXT-X-KEY`); `hls_on_error` says whether an error stops HLS or ends the
//! publisher's connection; `utc_time` shows date variables in UTC rather than local time.
//!
//! ```dhall
//! srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{ hls_fragment = 2.0, hls_window = 10.0 })
//! srs.node "llhls" (srs.Node.HlsOut srs.HlsOut::{ segment_format = srs.SegmentFormat.Fmp4, low_latency = True })
//! ```

mod stream;
pub mod writer;

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use crate::codec::hls::{Segmenter, SegmenterConfig};
use crate::graph::engine::Outputs;
use crate::graph::{Caps, Ports};
use crate::media::MediaEvent;
use crate::nodes::live_playlists::LivePlaylists;
use crate::nodes::NodeKind;
use crate::nodes::{Engine, StreamCtx};
use stream::{HlsStream, HlsStreams, Parked};

/// SRS's `hls_on_error`: what an HLS error does to the publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum HlsOnError {
    /// HLS stops for this publish; the stream goes on.
    Ignore,
    /// Any HLS error ends the publisher's connection.
    Disconnect,
    /// A frame the muxer refuses is skipped; a full disk gives up the segment being written
    /// (HLS resumes at a keyframe once there is space); any other error (a file that cannot
    /// be written) ends the publisher's connection (SRS's default).
    Continue,
}

/// The container of segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum SegmentFormat {
    /// MPEG-TS, as SRS writes (playlist version 3).
    Ts,
    /// Fragmented MP4 / CMAF (playlist version 7, `#EXT-X-MAP`).
    Fmp4,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// Target segment length in seconds.
    pub hls_fragment: f64,
    /// Video cuts at, and EXT-X-TARGETDURATION is at least, hls_fragment × this (SRS 7).
    pub hls_td_ratio: f64,
    /// Audio-driven cuts (pure audio, stalled video) at hls_fragment × this.
    pub hls_aof_ratio: f64,
    /// Seconds of segments the playlist keeps (a little more, as SRS).
    pub hls_window: f64,
    /// Root directory of playlists and segments.
    pub hls_path: String,
    /// Playlist path under hls_path: `[vhost] [app] [stream]`.
    pub hls_m3u8_file: String,
    /// Segment path under hls_path: also `[seq] [timestamp] [2006] [01] [02] [15] [04] [05] [999]`, and `[duration]` in the URI.
    pub hls_ts_file: String,
    /// Prefix of segment URIs in the playlist.
    pub hls_entry_prefix: String,
    /// Bytes read from each `on_hls_notify` answer (SRS's `hls_nb_notify`).
    pub hls_nb_notify: u64,
    /// HLS play sessions: `HttpStatic` admits a player of the live playlist (`on_play`), lists it
    /// as a client and redirects it to `?hls_ctx=<ctx>` (see `nodes::hls_sessions`).
    pub hls_ctx: bool,
    /// With `hls_ctx`: segment URIs in the served playlist carry the ctx too.
    pub hls_ts_ctx: bool,
    /// Delete segments that left the window.
    pub hls_cleanup: bool,
    /// Seconds after unpublish before every file of the stream is deleted (0: never).
    pub hls_dispose: u64,
    /// Cut video only on keyframes.
    pub hls_wait_keyframe: bool,
    /// Audio timestamps as received; off: derived from AAC sample counts.
    pub hls_dts_directly: bool,
    /// TS or fMP4 segments.
    pub segment_format: SegmentFormat,
    /// Low-Latency HLS (fMP4 only): parts, preload hints, blocking playlist reload via HttpStatic.
    pub low_latency: bool,
    /// LL-HLS part target in milliseconds.
    pub part_target: u64,
    /// What an error writing HLS does to the publish.
    pub hls_on_error: HlsOnError,
    /// Encrypt TS segments with AES-128 (`#EXT-X-KEY`); not with fMP4.
    pub hls_keys: bool,
    /// A new random key (and IV) every this many segments.
    pub hls_fragments_per_key: u64,
    /// Key file path under hls_key_file_path: `[vhost] [app] [stream] [seq]`.
    pub hls_key_file: String,
    /// Root directory of key files; empty: hls_path.
    pub hls_key_file_path: String,
    /// Prefix of key URIs in the playlist (the key file's path follows it); empty: the key file's
    /// path relative to the playlist.
    pub hls_key_url: String,
    /// Date variables of file names in UTC; off: local time (`TZ`), as SRS (its global `utc_time`).
    pub utc_time: bool,
}

impl Default for Config {
    /// SRS 7's defaults; the Dhall `HlsOut.default` must equal these (tested in `conf::classic`).
    fn default() -> Config {
        Config {
            hls_fragment: 10.0,
            hls_td_ratio: 1.0,
            hls_aof_ratio: 2.1,
            hls_window: 60.0,
            hls_path: "./objs/nginx/html".into(),
            hls_m3u8_file: "[app]/[stream].m3u8".into(),
            hls_ts_file: "[app]/[stream]-[seq].ts".into(),
            hls_entry_prefix: String::new(),
            hls_nb_notify: 64,
            hls_ctx: true,
            hls_ts_ctx: true,
            hls_cleanup: true,
            hls_dispose: 120,
            hls_wait_keyframe: true,
            hls_dts_directly: true,
            segment_format: SegmentFormat::Ts,
            low_latency: false,
            part_target: 500,
            hls_on_error: HlsOnError::Continue,
            hls_keys: false,
            hls_fragments_per_key: 5,
            hls_key_file: "[app]/[stream]-[seq].key".into(),
            hls_key_file_path: String::new(),
            hls_key_url: String::new(),
            utc_time: false,
        }
    }
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(format!("field `{name}` is {value}: it must be a positive number"))
            }
        };
        positive("hls_fragment", self.hls_fragment)?;
        positive("hls_td_ratio", self.hls_td_ratio)?;
        positive("hls_aof_ratio", self.hls_aof_ratio)?;
        if !(self.hls_window.is_finite() && self.hls_window >= 0.0) {
            return Err(format!("field `hls_window` is {}: write seconds, 0 or more", self.hls_window));
        }
        if !self.hls_m3u8_file.contains("[stream]") {
            return Err(format!(
                "field `hls_m3u8_file` `{}` has no [stream]: every stream would share one playlist",
                self.hls_m3u8_file
            ));
        }
        if self.low_latency && self.segment_format != SegmentFormat::Fmp4 {
            return Err("field `low_latency` needs `segment_format = Fmp4` (parts are fMP4 fragments)".into());
        }
        if self.low_latency && !(100..(self.hls_fragment * 1000.0) as u64).contains(&self.part_target) {
            return Err(format!(
                "field `part_target` is {} ms: use at least 100 ms and less than hls_fragment",
                self.part_target
            ));
        }
        if self.hls_keys && self.segment_format != SegmentFormat::Ts {
            return Err("field `hls_keys` needs `segment_format = Ts`: fMP4 segments are not encrypted \
                        (SRS encrypts TS only; SAMPLE-AES is not implemented)"
                .into());
        }
        if self.hls_keys && self.hls_fragments_per_key == 0 {
            return Err("field `hls_fragments_per_key` is 0: a key covers at least one segment".into());
        }
        Ok(())
    }

    /// The directory key files are written under.
    pub fn key_root(&self) -> &str {
        if self.hls_key_file_path.is_empty() {
            &self.hls_path
        } else {
            &self.hls_key_file_path
        }
    }

    fn segmenter(&self) -> SegmenterConfig {
        SegmenterConfig {
            fragment: Duration::from_secs_f64(self.hls_fragment.max(0.0)),
            td_ratio: self.hls_td_ratio,
            aof_ratio: self.hls_aof_ratio,
            window: Duration::try_from_secs_f64(self.hls_window).unwrap_or(Duration::ZERO),
            wait_keyframe: self.hls_wait_keyframe,
            part_target: self.low_latency.then(|| Duration::from_millis(self.part_target)),
        }
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        let (video, audio) = stream::accepted(self.segment_format);
        Ports::Sink { accepts: Caps { video, audio } }
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("hls_path", self.hls_path.clone()), ("m3u8", self.hls_m3u8_file.clone())]
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

/// A segment just listed in the playlist: what SRS's `on_hls` callback reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentCommitted {
    pub path: PathBuf,
    /// The segment's path under hls_path.
    pub url: String,
    pub duration: Duration,
    pub seq: u64,
    pub m3u8: PathBuf,
    pub m3u8_url: String,
    /// The segment's URI as the playlist lists it (with `hls_entry_prefix`).
    pub entry_url: String,
    /// Bytes of each `on_hls_notify` answer to read.
    pub notify_bytes: u64,
    /// The publisher's query string (`?token=...`), for `on_hls_notify`'s `[param]`.
    pub publisher_param: String,
}

/// The one place a committed segment is announced: logged, and posted to the vhost's `on_hls` hooks.
pub fn on_segment_committed(ctx: &StreamCtx, committed: &SegmentCommitted) {
    tracing::info!(
        node = ctx.name(),
        stream = %ctx.key,
        seq = committed.seq,
        duration_ms = committed.duration.as_millis() as u64,
        file = %committed.path.display(),
        "hls segment"
    );
    let event = crate::control::hooks::HookEvent::Hls {
        duration: committed.duration.as_secs_f64(),
        cwd: crate::nodes::dvr::current_dir(),
        file: committed.path.display().to_string(),
        url: committed.url.clone(),
        m3u8: committed.m3u8.display().to_string(),
        m3u8_url: committed.m3u8_url.clone(),
        seq_no: committed.seq,
    };
    crate::nodes::vhost::notify_file_hook(ctx, event);
    crate::nodes::vhost::notify_hls_segment(
        ctx,
        &committed.entry_url,
        &committed.publisher_param,
        committed.notify_bytes,
    );
}

/// Runs one stream's HLS output until its input ends, then arms `hls_dispose`.
async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    let streams = ctx.engine.shared::<HlsStreams>();
    let mut parked = streams.take(ctx.node, &ctx.key).unwrap_or_else(|| Parked {
        segmenter: Segmenter::new(config.segmenter()),
        generation: 0,
        n_inits: 0,
        other_files: Vec::new(),
    });
    parked.generation += 1;
    let (engine, node, key) = (ctx.engine.clone(), ctx.node, ctx.key.clone());
    let name = ctx.name().to_owned();
    let mut hls = HlsStream::new(ctx, config.clone(), parked);
    let mut n_skipped = 0u64;
    // Set once an error stopped HLS for this publish: events are still drained, so the stream
    // upstream is not held up.
    let mut stopped = false;
    while let Some(event) = input.recv().await {
        let result = match &event {
            MediaEvent::End => break,
            _ if stopped => Ok(()),
            MediaEvent::Description(description) => hls.on_description(description).await,
            MediaEvent::Frame(frame) => hls.on_frame(frame).await,
            MediaEvent::Metadata(_) => Ok(()),
        };
        let Err(e) = result else { continue };
        match on_error(config.hls_on_error, &e) {
            ErrorAction::GiveUpSegment => {
                // Once per file: the next segment is only tried at the next keyframe.
                let file = hls.give_up_segment().await.unwrap_or_else(|| hls.m3u8_path().to_owned());
                tracing::error!(node = %name, stream = %key, file = %file.display(),
                    "hls: {e}; segment given up (not listed), the stream goes on; writing resumes at a keyframe once there is space");
            }
            ErrorAction::SkipFrame => {
                // Logged the first times, then every thousandth.
                n_skipped += 1;
                if n_skipped <= 5 || n_skipped % 1000 == 0 {
                    tracing::error!(node = %name, stream = %key, n_skipped, "hls: frame skipped: {e}");
                }
            }
            ErrorAction::StopHls => {
                tracing::error!(node = %name, stream = %key, "hls: {e}; hls stops for this publish (hls_on_error ignore)");
                stopped = true;
            }
            ErrorAction::Disconnect => {
                let ended = disconnect_publisher(&engine, &key);
                if ended {
                    tracing::error!(node = %name, stream = %key, "hls: {e}; the publisher is disconnected (hls_on_error)");
                } else {
                    tracing::error!(node = %name, stream = %key,
                        "hls: {e}; hls stops for this publish (hls_on_error: this source has no connection to end)");
                }
                stopped = true;
            }
        }
    }
    if let Err(e) = hls.finish().await {
        tracing::error!(node = %name, stream = %key, "hls: finishing: {e}");
    }
    let m3u8 = hls.m3u8_path().to_owned();
    let generation = hls.parked.generation;
    streams.put(node, key.clone(), hls.parked);
    if config.hls_dispose > 0 {
        let after = Duration::from_secs(config.hls_dispose);
        // Not a tracked task: a pending dispose must not hold up shutdown or a batch run.
        tokio::spawn(dispose_later(engine, node, key, generation, after, m3u8));
    }
}

/// What an HLS error does, by `hls_on_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorAction {
    /// The frame is lost; HLS goes on.
    SkipFrame,
    /// The disk is full: the segment being written is lost; HLS goes on at the next keyframe.
    GiveUpSegment,
    /// HLS stops for this publish; the stream goes on.
    StopHls,
    /// The publisher's connection ends (and HLS stops).
    Disconnect,
}

fn on_error(policy: HlsOnError, error: &writer::WriteError) -> ErrorAction {
    match policy {
        HlsOnError::Ignore => ErrorAction::StopHls,
        HlsOnError::Disconnect => ErrorAction::Disconnect,
        HlsOnError::Continue if error.is_frame_error() => ErrorAction::SkipFrame,
        // Ending the publisher frees no space, and its players need no disk.
        HlsOnError::Continue if error.is_storage_full() => ErrorAction::GiveUpSegment,
        HlsOnError::Continue => ErrorAction::Disconnect,
    }
}

/// Ends the connection of the client publishing `key`, through the kick handle the API's
/// `DELETE /api/v1/clients` uses; `false` when no connection publishes it (files and casters
/// publish without one).
fn disconnect_publisher(engine: &Engine, key: &crate::graph::StreamKey) -> bool {
    let registry = engine.shared::<crate::control::registry::Registry>();
    let publishers: Vec<_> = registry
        .clients()
        .into_iter()
        .filter(|client| {
            let info = client.info();
            info.kind.is_publish() && info.stream.as_ref() == Some(key)
        })
        .collect();
    for client in &publishers {
        client.kick();
    }
    !publishers.is_empty()
}

/// SRS's hls_dispose: once the stream has stayed unpublished for `after`, remove its files.
async fn dispose_later(
    engine: Engine,
    node: petgraph::graph::NodeIndex,
    key: crate::graph::StreamKey,
    generation: u64,
    after: Duration,
    m3u8: PathBuf,
) {
    tokio::select! {
        _ = tokio::time::sleep(after) => {}
        _ = engine.shutdown_signal() => return,
    }
    let streams = engine.shared::<HlsStreams>();
    let Some(mut parked) = streams.take_if_idle(node, &key, generation) else { return };
    let segments = parked.segmenter.clear();
    for segment in &segments {
        writer::remove(&segment.meta.path).await;
        if let Some(key) = &segment.meta.key {
            writer::remove(&key.path).await;
        }
        for part in &segment.parts {
            writer::remove(&segment.meta.part_path(part.index as usize)).await;
        }
    }
    for file in parked.other_files.drain(..) {
        writer::remove(&file).await;
    }
    engine.shared::<LivePlaylists>().remove(&m3u8);
    tracing::info!(stream = %key, n_segments = segments.len(), "hls disposed");
    streams.put(node, key, parked);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::mpegts::TsError;
    use writer::WriteError;

    #[test]
    fn hls_on_error_as_srs() {
        let disk = || WriteError::Io(std::io::Error::other("disk full"));
        let frame = || WriteError::Ts(TsError::UnsupportedCodec { codec: crate::media::Codec::Opus });
        assert_eq!(on_error(HlsOnError::Ignore, &disk()), ErrorAction::StopHls);
        assert_eq!(on_error(HlsOnError::Ignore, &frame()), ErrorAction::StopHls);
        assert_eq!(on_error(HlsOnError::Disconnect, &frame()), ErrorAction::Disconnect);
        assert_eq!(on_error(HlsOnError::Continue, &frame()), ErrorAction::SkipFrame);
        assert_eq!(on_error(HlsOnError::Continue, &disk()), ErrorAction::Disconnect);
        let full = || WriteError::Io(std::io::Error::from(std::io::ErrorKind::StorageFull));
        let quota = || WriteError::Io(std::io::Error::from_raw_os_error(122)); // EDQUOT
        assert_eq!(on_error(HlsOnError::Continue, &full()), ErrorAction::GiveUpSegment);
        assert_eq!(on_error(HlsOnError::Continue, &quota()), ErrorAction::GiveUpSegment);
        assert_eq!(on_error(HlsOnError::Ignore, &full()), ErrorAction::StopHls);
        assert_eq!(on_error(HlsOnError::Disconnect, &full()), ErrorAction::Disconnect);
    }

    #[test]
    fn keys_need_ts_segments() {
        let config = Config { hls_keys: true, segment_format: SegmentFormat::Fmp4, ..Config::default() };
        let message = config.validate().unwrap_err();
        assert!(message.contains("hls_keys") && message.contains("Ts"), "{message}");
        assert!(Config { hls_keys: true, ..Config::default() }.validate().is_ok());
        let zero = Config { hls_keys: true, hls_fragments_per_key: 0, ..Config::default() };
        assert!(zero.validate().is_err());
    }
}
