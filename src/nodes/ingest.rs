//! `Ingest`: pulls a source and publishes it as the stream `stream`, as SRS's `ingest` block.
//!
//! Native first: a local FLV/TS/MP4 file (`input_type = "file"`, paced in real time, looping
//! with `repeat`) is read by `FileIn`'s reader; `rtmp://` is played with our RTMP client and
//! `http://….flv` read with our HTTP client and FLV demuxer, `srt://` called with srt-tokio and
//! demuxed as MPEG-TS, `http://….ts` (a live TS body) and `http://….m3u8` (HLS with TS segments,
//! live or VOD, a master playlist's best variant) read with our HTTP client and TS demuxer
//! (`ingest_pull`, `ingest_ts`); an `http://` HLS stream we find we cannot read (fMP4, encrypted
//! or byte-range segments) is handed to FFmpeg. Anything else (RTSP, `https://`,
//! `lavfi`, devices, FFmpeg arguments that transcode) goes through a supervised FFmpeg child
//! (`-f flv pipe:1`), whose FLV is read from its stdout and published by this node, so the
//! stream flows through this node's own edges. A pull that fails or ends is dialled again with
//! backoff (1 s doubling to 30 s); the FFmpeg child is restarted by its supervisor.
//! Graph-scoped: it starts with the graph.
//!
//! ```dhall
//! srs.node "cam" (srs.Node.Ingest srs.Ingest::{ url = "rtmp://10.0.0.2/live/cam", stream = "live/cam" })
//! ```

use std::time::Duration;

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::ingest_pull::{
    pull_flv_pipe, pull_hls, pull_http_flv, pull_http_ts, pull_rtmp, pull_srt, HlsEnd, LazyPublication,
};
use super::ingest_ts::TsPull;
use super::process_vars::split_command_line;
use crate::control::process::{supervise, ProcessSpec};
use crate::control::process_table::ProcessTable;
use crate::graph::{Caps, Ports, StreamKey};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::{Engine, FileFormat, NodeKind};

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SRS's `input.type`: `file`, `stream` or `device` (FFmpeg reads files and devices with `-re`).
    pub input_type: String,
    /// SRS's `input.url`: a path, `rtmp://`, `http://….flv`, or anything FFmpeg reads.
    pub url: String,
    /// The stream it publishes: `app/stream` or `vhost/app/stream`.
    pub stream: String,
    /// The FFmpeg program, for sources we do not read ourselves.
    pub ffmpeg: String,
    /// FFmpeg arguments before `-i` (`-f lavfi`, `-rtsp_transport tcp`); any makes FFmpeg pull.
    pub ffmpeg_input: Vec<String>,
    /// FFmpeg arguments between the input and `-f flv` (codecs, sizes); empty copies both tracks,
    /// any makes FFmpeg pull (srs.conf's ingest `engine` becomes these).
    pub ffmpeg_output: Vec<String>,
    /// Pull with our own clients where we can (False: always FFmpeg).
    pub native: bool,
    /// Start a file again at its end.
    pub repeat: bool,
    /// Of an HLS master playlist, the highest variant whose `BANDWIDTH` is at most this many
    /// bits per second (the lowest when none fits; 0: the highest variant).
    pub hls_max_bandwidth: u64,
    /// Child processes the graph runs at most (the smallest any node names wins; 0: the default, 64).
    pub max_processes: u64,
}

/// How the source is pulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Puller {
    File,
    Rtmp,
    HttpFlv,
    HttpTs,
    Hls,
    Srt,
    Ffmpeg,
}

impl Config {
    pub fn stream_key(&self) -> Result<StreamKey, String> {
        StreamKey::parse(&self.stream).ok_or_else(|| {
            format!("field `stream` is `{}`: write `app/stream` or `vhost/app/stream`", self.stream)
        })
    }

    pub fn puller(&self) -> Puller {
        if !self.native || !self.ffmpeg_input.is_empty() || !self.ffmpeg_output.is_empty() {
            return Puller::Ffmpeg;
        }
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        if self.url.starts_with("rtmp://") {
            Puller::Rtmp
        } else if self.url.starts_with("http://") && path.ends_with(".flv") {
            Puller::HttpFlv
        } else if self.url.starts_with("http://") && path.ends_with(".ts") {
            Puller::HttpTs
        } else if self.url.starts_with("http://") && path.ends_with(".m3u8") {
            Puller::Hls
        } else if self.url.starts_with("srt://") {
            Puller::Srt
        } else if self.input_type == "file"
            && !self.url.contains("://")
            && matches!(super::file_format(&self.url), Ok(FileFormat::Flv | FileFormat::Ts | FileFormat::Mp4))
        {
            Puller::File
        } else {
            Puller::Ffmpeg
        }
    }

    /// FFmpeg's arguments: read the input (files and devices paced with `-re`, files looped with
    /// `repeat`), write FLV to stdout.
    pub fn ffmpeg_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec!["-hide_banner".into(), "-nostats".into()];
        if self.repeat && self.input_type == "file" {
            args.extend(["-stream_loop".into(), "-1".into()]);
        }
        if matches!(self.input_type.as_str(), "file" | "device") {
            args.push("-re".into());
        }
        args.extend(self.ffmpeg_input.iter().cloned());
        args.extend(["-i".into(), self.url.clone()]);
        if self.ffmpeg_output.is_empty() {
            args.extend(["-vcodec", "copy", "-acodec", "copy"].map(String::from));
        } else {
            args.extend(self.ffmpeg_output.iter().cloned());
        }
        args.extend(["-f", "flv", "-y", "pipe:1"].map(String::from));
        args
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: Caps::any() }
    }

    fn validate(&self) -> Result<(), String> {
        self.stream_key()?;
        if !matches!(self.input_type.as_str(), "file" | "stream" | "device") {
            return Err(format!(
                "field `input_type` is `{}`: write `file`, `stream` or `device`",
                self.input_type
            ));
        }
        if self.url.trim().is_empty() {
            return Err("field `url` is empty".into());
        }
        if self.puller() == Puller::Ffmpeg && split_command_line(&self.ffmpeg).is_empty() {
            return Err("field `ffmpeg` is empty, and this source needs FFmpeg".into());
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("url", self.url.clone()), ("stream", self.stream.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        node.engine
            .shared::<ProcessTable>()
            .lower_limit(usize::try_from(self.max_processes).unwrap_or(usize::MAX));
        plan.source(node.name, Box::pin(run(node.engine.clone(), node.index, self.clone())));
        Ok(())
    }
}

async fn run(engine: Engine, node: NodeIndex, config: Config) {
    let name = engine.graph().node(node).name.clone();
    let key = match config.stream_key() {
        Ok(key) => key,
        Err(reason) => return engine.report_failure(format!("node `{name}`: {reason}")),
    };
    let puller = config.puller();
    tracing::info!(node = %name, url = %config.url, stream = %key, ?puller, "ingest starts");
    let shutdown = engine.shutdown_signal();
    let work = async {
        match puller {
            Puller::File => read_file(&engine, node, &name, &config).await,
            Puller::Rtmp | Puller::HttpFlv | Puller::HttpTs | Puller::Hls | Puller::Srt => {
                if let Some((why, vod)) = pull_forever(&engine, node, &name, &key, &config, puller).await {
                    tracing::info!(node = %name, url = %config.url, "ingest hands the pull to FFmpeg: {why}");
                    // A VOD playlist is read like a file: paced, and looped with `repeat`.
                    let input_type = if vod { "file".to_owned() } else { config.input_type.clone() };
                    let config = Config { input_type, ..config.clone() };
                    through_ffmpeg(&engine, node, &name, &key, &config).await
                }
            }
            Puller::Ffmpeg => through_ffmpeg(&engine, node, &name, &key, &config).await,
        }
    };
    tokio::select! {
        _ = work => {}
        _ = shutdown => {}
    }
}

/// Publishes a file with `FileIn`'s reader; with `repeat`, a file that cannot be read (or ends
/// despite looping) is tried again with backoff, as SRS restarts its FFmpeg.
async fn read_file(engine: &Engine, node: NodeIndex, name: &str, config: &Config) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let file = super::file_in::Config {
            path: config.url.clone(),
            stream: config.stream.clone(),
            realtime: true,
            repeat: config.repeat,
        };
        super::file_in::run(engine.clone(), node, file).await;
        if !config.repeat {
            return;
        }
        tracing::warn!(node = name, url = %config.url, retry_in = ?backoff, "ingest file ended");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Pulls with our own client, again and again with backoff (until a VOD HLS playlist that does
/// not loop was read through). For HLS we do not read, returns why FFmpeg should pull instead and
/// whether the playlist is VOD.
async fn pull_forever(
    engine: &Engine,
    node: NodeIndex,
    name: &str,
    key: &StreamKey,
    config: &Config,
    puller: Puller,
) -> Option<(String, bool)> {
    let url = config.url.as_str();
    let mut backoff = FIRST_BACKOFF;
    let mut last_live_segment = None;
    loop {
        let (published, result) = match puller {
            Puller::Srt => pull_srt(url, engine, node, key).await,
            Puller::HttpTs | Puller::Hls => {
                let mut out = TsPull::new(engine, node, key, url.to_owned());
                let result = match puller {
                    Puller::Hls => {
                        pull_hls(
                            url,
                            config.repeat,
                            config.hls_max_bandwidth,
                            &mut last_live_segment,
                            &mut out,
                        )
                        .await
                    }
                    _ => pull_http_ts(url, &mut out).await.map(|()| HlsEnd::Live),
                };
                let published = out.published();
                out.end().await;
                match result {
                    Ok(HlsEnd::VodDone) => {
                        tracing::info!(node = name, %url, "ingest of a VOD playlist done");
                        return None;
                    }
                    Ok(HlsEnd::NotNative { why, vod }) => return Some((why, vod)),
                    _ => {}
                }
                (published, result.map(|_| ()))
            }
            _ => {
                let mut out = LazyPublication::new(engine, node, key);
                let result = match puller {
                    Puller::Rtmp => pull_rtmp(url, &mut out).await,
                    _ => pull_http_flv(url, &mut out).await,
                };
                let published = out.published();
                out.end().await;
                (published, result)
            }
        };
        if published {
            backoff = FIRST_BACKOFF;
        }
        match result {
            Ok(()) => tracing::warn!(node = name, %url, retry_in = ?backoff, "ingest source ended"),
            Err(why) => tracing::warn!(node = name, %url, retry_in = ?backoff, "ingest failed: {why}"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Runs FFmpeg under supervision and publishes the FLV of each of its runs.
async fn through_ffmpeg(engine: &Engine, node: NodeIndex, name: &str, key: &StreamKey, config: &Config) {
    let mut program = split_command_line(&config.ffmpeg).into_iter();
    let Some(ffmpeg) = program.next() else { return };
    let mut args: Vec<String> = program.collect();
    args.extend(config.ffmpeg_args());
    let (stdouts, mut runs) = mpsc::channel(1);
    let spec = ProcessSpec {
        program: ffmpeg,
        args,
        node: name.to_owned(),
        stream: Some(key.clone()),
        stdout: Some(stdouts),
    };
    let child = match supervise(&engine.shared::<ProcessTable>(), spec) {
        Ok(child) => child,
        Err(e) => return tracing::error!(node = name, "ingest cannot run FFmpeg: {e}"),
    };
    while let Some(stdout) = runs.recv().await {
        let mut out = LazyPublication::new(engine, node, key);
        if let Err(why) = pull_flv_pipe(stdout, &mut out).await {
            tracing::warn!(node = name, url = %config.url, "ingest: {why}");
        }
        out.end().await;
    }
    child.stop().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(input_type: &str, url: &str) -> Config {
        Config {
            input_type: input_type.into(),
            url: url.into(),
            stream: "live/in".into(),
            ffmpeg: "ffmpeg".into(),
            ffmpeg_input: Vec::new(),
            ffmpeg_output: Vec::new(),
            native: true,
            repeat: true,
            hls_max_bandwidth: 0,
            max_processes: 0,
        }
    }

    #[test]
    fn native_pullers_are_chosen_by_url_and_ffmpeg_for_the_rest() {
        assert_eq!(config("stream", "rtmp://h/live/s").puller(), Puller::Rtmp);
        assert_eq!(config("stream", "http://h:8080/live/s.flv?x=1").puller(), Puller::HttpFlv);
        assert_eq!(config("stream", "http://h:8080/live/s.ts").puller(), Puller::HttpTs);
        assert_eq!(config("stream", "http://h/vod/index.m3u8?t=1").puller(), Puller::Hls);
        assert_eq!(config("stream", "https://h/vod/index.m3u8").puller(), Puller::Ffmpeg);
        assert_eq!(config("file", "/media/a.mp4").puller(), Puller::File);
        assert_eq!(config("stream", "rtsp://h/cam").puller(), Puller::Ffmpeg);
        assert_eq!(config("stream", "srt://h:10080?streamid=#!::r=live/s,m=request").puller(), Puller::Srt);
        assert_eq!(config("file", "testsrc=size=320x240").puller(), Puller::Ffmpeg);
        let forced = Config { native: false, ..config("stream", "rtmp://h/live/s") };
        assert_eq!(forced.puller(), Puller::Ffmpeg);
        let transcoded = Config {
            ffmpeg_output: vec!["-vcodec".into(), "libx264".into()],
            ..config("stream", "rtmp://h/live/s")
        };
        assert_eq!(transcoded.puller(), Puller::Ffmpeg);
    }

    #[test]
    fn ffmpeg_copies_to_flv_on_stdout_with_re_for_files() {
        let args = config("file", "in.mkv").ffmpeg_args().join(" ");
        assert_eq!(
            args,
            "-hide_banner -nostats -stream_loop -1 -re -i in.mkv -vcodec copy -acodec copy -f flv -y pipe:1"
        );
        let stream = Config { repeat: false, ..config("stream", "rtsp://h/cam") }.ffmpeg_args().join(" ");
        assert!(stream.starts_with("-hide_banner -nostats -i rtsp://h/cam"), "{stream}");
    }

    #[test]
    fn bad_settings_are_refused_naming_the_field() {
        assert!(config("tape", "x.flv").validate().unwrap_err().contains("input_type"));
        assert!(config("file", " ").validate().unwrap_err().contains("url"));
        assert!(Config { stream: "x".into(), ..config("file", "a.flv") }
            .validate()
            .unwrap_err()
            .contains("stream"));
    }
}
