//! SRS's variables in the command lines and URLs of `Exec`, `Transcode` and `Ingest`:
//! `[vhost] [port] [app] [stream] [engine] [param] [url] [tcUrl] [swfUrl] [pageUrl]` and the
//! time variables (`[2006] [01] [02] [15] [04] [05] [999] [timestamp]`, local time as SRS's).

use std::time::SystemTime;

use super::path_template::{unix_millis, zone_offset};
use super::{NodeSpec, StreamCtx};
use crate::codec::hls::fill_time;
use crate::codec::rtmp::{ClientConfig, ClientIntent, StreamRequest};
use crate::control::registry::Registry;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{Catalogue, CheckedGraph, StreamKey};

/// The RTMP port SRS would name in `[port]`: the first `RtmpIn` listener of the graph (1935 when
/// the graph has none).
pub fn rtmp_port(graph: &CheckedGraph<NodeSpec>) -> u16 {
    graph
        .dag
        .node_indices()
        .filter(|&index| matches!(graph.node(index).node, NodeSpec::RtmpIn(_)))
        .find_map(|index| graph.node(index).node.listens().ok()?.first().map(|listen| listen.addr.port()))
        .unwrap_or(1935)
}

/// Everything a template may name for one stream.
#[derive(Debug, Clone, Default)]
pub struct ProcessVars {
    pub key: Option<StreamKey>,
    pub port: u16,
    /// The publisher's query string, with its `?`.
    pub param: String,
    pub tc_url: String,
    pub swf_url: String,
    pub page_url: String,
    pub engine: String,
}

impl ProcessVars {
    /// The variables of a live stream: its key, the graph's RTMP port, and what its publisher sent.
    pub fn for_stream(ctx: &StreamCtx) -> ProcessVars {
        let publisher = ctx.engine.shared::<Registry>().publisher_info(&ctx.key).unwrap_or_default();
        ProcessVars {
            key: Some(ctx.key.clone()),
            port: rtmp_port(ctx.engine.graph()),
            param: publisher.param,
            tc_url: publisher.tc_url,
            swf_url: publisher.swf_url,
            page_url: publisher.page_url,
            engine: String::new(),
        }
    }

    /// `template` with every variable replaced (time variables at `now`, local time).
    pub fn fill(&self, template: &str, now: SystemTime) -> String {
        let mut text = template.replace("[port]", &self.port.to_string());
        if let Some(key) = &self.key {
            text = key.fill(&text).replace("[url]", &key.url());
        }
        let text = text
            .replace("[param]", &self.param)
            .replace("[tcUrl]", &self.tc_url)
            .replace("[swfUrl]", &self.swf_url)
            .replace("[pageUrl]", &self.page_url)
            .replace("[engine]", &self.engine);
        fill_time(&text, unix_millis(now), zone_offset(false, now))
    }
}

/// The stream an `rtmp://` URL publishes to on our own listener: the host stands for the default
/// vhost unless `?vhost=` names another (a transcode output, an ingest's SRS-style output).
pub fn rtmp_url_stream(url: &str) -> Option<StreamKey> {
    let config = ClientConfig::from_url(url, ClientIntent::Publish);
    let request = StreamRequest::discover(&config.tc_url, &config.stream);
    let named = url.contains("vhost=") && !url.contains(&format!("vhost={DEFAULT_VHOST}"));
    let vhost = if named { request.vhost } else { DEFAULT_VHOST.to_owned() };
    let stream = request.stream.split('?').next().unwrap_or_default().to_owned();
    (!stream.is_empty()).then(|| StreamKey::new(vhost, request.app, stream))
}

/// A command line split at whitespace, as SRS splits its `exec`/`ffmpeg` lines.
pub fn split_command_line(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn fills_every_variable() {
        let vars = ProcessVars {
            key: Some(StreamKey::new("__defaultVhost__", "live", "cam")),
            port: 19350,
            param: "?k=v".into(),
            tc_url: "rtmp://h/live".into(),
            engine: "sd".into(),
            ..ProcessVars::default()
        };
        let now = UNIX_EPOCH + Duration::from_millis(1_709_211_909_042);
        let line = "./p [vhost] [port] [app] [stream] [engine] [param] [tcUrl] [url] [timestamp]";
        assert_eq!(
            split_command_line(&vars.fill(line, now)),
            [
                "./p",
                "__defaultVhost__",
                "19350",
                "live",
                "cam",
                "sd",
                "?k=v",
                "rtmp://h/live",
                "/live/cam",
                "1709211909042"
            ]
        );
    }
}
