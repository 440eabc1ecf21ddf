//! `Forward`: pushes each stream to other servers over RTMP, as SRS's vhost `forward { destination
//! ...; }`. A destination is `host:port` (the stream keeps its app and name, and its vhost as
//! `?vhost=`) or an `rtmp://` URL template with `[vhost]`, `[app]`, `[stream]` and `[param]`, or
//! (beyond SRS) an `srt://host:port?streamid=...` one, pushed as MPEG-TS (`forward_srt.rs`).
//!
//! Each destination has its own task and bounded queue: a destination that stalls or dies never
//! slows the publisher or the other destinations; its queue overflows to "wait for the next
//! keyframe". A dropped connection is made again with backoff (1 s doubling to 10 s), starting
//! with the stream's sequence headers and metadata and then its next keyframe.
//!
//! ```dhall
//! srs.node "forward" (srs.Node.Forward srs.Forward::{ destination = [ "127.0.0.1:19350" ] })
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::flv_frames::{FlvTagOut, FramesToFlv};
use super::forward_srt::{self, SrtDestinations};
use crate::codec::flv::TagType;
use crate::codec::rtmp::{
    ClientConfig, ClientEvent, ClientIntent, ClientSession, MediaMessage, MediaMessageKind,
};
use crate::control::hooks::{forward_destinations, HookSubject};
use crate::graph::engine::Outputs;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{Ports, StreamKey};
use crate::media::{MediaEvent, MediaKind};
use crate::nodes::{NodeKind, StreamCtx};

/// Tags queued per destination before it must catch up at a keyframe.
const QUEUE_TAGS: usize = 2048;
/// How long a destination has to accept the TCP connection and the publish.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long the forward backend has to answer (SRS's hook client waits 30 s).
const BACKEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SRS's `destination`: `host:port`, or an `rtmp://` URL with `[vhost] [app] [stream] [param]`,
    /// or an `srt://host:port?streamid=...` URL (the same variables; without a `streamid`, SRS's
    /// `#!::r=[app]/[stream],m=publish`).
    pub destination: Vec<String>,
    /// SRS's `backend`: an HTTP URL asked at each publish (`on_forward`) for the destinations'
    /// full `rtmp://` URLs; when set, `destination` is not used.
    pub backend: Option<String>,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: super::rtmp_in::rtmp_caps() }
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(backend) = &self.backend {
            if !backend.starts_with("http://") && !backend.starts_with("https://") {
                return Err(format!("field `backend`: `{backend}` is not an http:// or https:// URL"));
            }
            return Ok(());
        }
        if self.destination.is_empty() {
            return Err("field `destination` is empty: name at least one `host:port` or `rtmp://` URL".into());
        }
        let key = StreamKey::new(DEFAULT_VHOST, "live", "s");
        for destination in &self.destination {
            let url = destination_url(destination, &key, "");
            let checked = if forward_srt::is_srt(&url) {
                forward_srt::validate(&url)
            } else {
                rtmp_address(&url).map(|_| ())
            };
            checked.map_err(|e| format!("field `destination`: `{destination}`: {e}"))?;
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        match &self.backend {
            Some(backend) => vec![("backend", backend.clone())],
            None => vec![("destination", self.destination.join(" "))],
        }
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

/// The URL a destination names for stream `key` (published with query string `param`).
pub fn destination_url(destination: &str, key: &StreamKey, param: &str) -> String {
    if forward_srt::is_srt(destination) {
        return forward_srt::destination_url(destination, key, param);
    }
    if destination.starts_with("rtmp://") {
        return key.fill(destination).replace("[param]", param);
    }
    let vhost = if key.vhost == DEFAULT_VHOST { String::new() } else { format!("?vhost={}", key.vhost) };
    format!("rtmp://{destination}/{}{vhost}/{}{param}", key.app, key.stream)
}

/// `host:port` of an `rtmp://` URL (port 1935 when none).
fn rtmp_address(url: &str) -> Result<String, String> {
    crate::servers::rtmp_client::rtmp_address(url).map_err(|e| e.to_string())
}

/// The latest sequence headers and metadata, sent first on every (re)connection.
#[derive(Debug, Default)]
struct Headers {
    video: Option<FlvTagOut>,
    audio: Option<FlvTagOut>,
    metadata: Option<FlvTagOut>,
    has_video: bool,
}

/// One tag for a destination; `keyframe` marks where a destination may start, `header` a
/// sequence header or metadata (always sent).
#[derive(Debug, Clone)]
struct Tag {
    tag: FlvTagOut,
    keyframe: bool,
    header: bool,
}

impl Headers {
    fn tags(&self) -> impl Iterator<Item = &FlvTagOut> {
        [&self.metadata, &self.video, &self.audio].into_iter().flatten()
    }
}

/// The destinations of this stream: the configured ones, or those the backend names.
async fn destinations(ctx: &StreamCtx, config: &Config) -> Vec<String> {
    let registry = ctx.engine.shared::<crate::control::registry::Registry>();
    let publisher = registry.publisher_info(&ctx.key).unwrap_or_default();
    let param = publisher.param;
    let Some(backend) = &config.backend else {
        return config.destination.iter().map(|d| destination_url(d, &ctx.key, &param)).collect();
    };
    let subject = HookSubject {
        tc_url: publisher.tc_url,
        param,
        stream_id: Some(registry.stream_id(&ctx.key)),
        ..HookSubject::for_stream(&ctx.key)
    };
    match forward_destinations(&registry, backend, &subject, BACKEND_TIMEOUT).await {
        Ok(urls) => urls,
        Err(why) => {
            tracing::warn!(node = ctx.name(), stream = %ctx.key, "forward backend failed, not forwarding: {why}");
            Vec::new()
        }
    }
}

async fn run(ctx: StreamCtx, config: Config, input: mpsc::Receiver<MediaEvent>) {
    let destinations = destinations(&ctx, &config).await.into_iter().map(|url| vec![url]).collect();
    push(ctx, destinations, input).await;
}

/// Pushes the stream to each destination until it ends; a destination is a list of URLs tried
/// in order (the next one at once when one fails, backoff once all failed: an edge's origins).
/// An `srt://` URL alone in its list is pushed over SRT.
pub async fn push(ctx: StreamCtx, destinations: Vec<Vec<String>>, mut input: mpsc::Receiver<MediaEvent>) {
    let headers = Arc::new(Mutex::new(Headers::default()));
    let mut queues = Vec::new();
    let mut srt = SrtDestinations::default();
    for urls in destinations {
        if let [url] = urls.as_slice() {
            if forward_srt::is_srt(url) {
                tracing::info!(node = ctx.name(), stream = %ctx.key, %url, "forwarding over srt");
                srt.add(&ctx.engine, url.clone());
                continue;
            }
        }
        if urls.is_empty() {
            continue;
        }
        let (sender, receiver) = mpsc::channel(QUEUE_TAGS);
        tracing::info!(node = ctx.name(), stream = %ctx.key, url = %urls.join(" "), "forwarding");
        ctx.engine.spawn(forward(urls, receiver, Arc::clone(&headers)));
        queues.push((sender, false));
    }
    let mut to_flv = FramesToFlv::default();
    while let Some(event) = input.recv().await {
        srt.offer(&event);
        let keyframe = match &event {
            MediaEvent::Frame(frame) => frame.keyframe && frame.kind() == MediaKind::Video,
            MediaEvent::End => break,
            _ => false,
        };
        let tags = to_flv.push(&event);
        if !matches!(event, MediaEvent::Frame(_)) {
            let mut headers = headers.lock().unwrap_or_else(|p| p.into_inner());
            for tag in tags {
                for (queue, skipping) in &mut queues {
                    if !*skipping {
                        let header = Tag { tag: tag.clone(), keyframe: false, header: true };
                        *skipping = queue.try_send(header).is_err();
                    }
                }
                match (&event, tag.tag_type) {
                    (MediaEvent::Metadata(_), _) => headers.metadata = Some(tag),
                    (_, TagType::Video) => (headers.video, headers.has_video) = (Some(tag), true),
                    (_, TagType::Audio) => headers.audio = Some(tag),
                    (_, TagType::Script) => headers.metadata = Some(tag),
                }
            }
            continue;
        }
        for tag in tags {
            for (queue, skipping) in &mut queues {
                if *skipping {
                    if !keyframe {
                        continue;
                    }
                    // Resuming: the headers first, as they may have changed meanwhile.
                    let current = headers.lock().unwrap_or_else(|p| p.into_inner());
                    let resent = current.tags().all(|h| {
                        queue.try_send(Tag { tag: h.clone(), keyframe: false, header: true }).is_ok()
                    });
                    if !resent {
                        continue;
                    }
                }
                // A full queue: this destination is behind; it resumes at the next keyframe.
                *skipping = queue.try_send(Tag { tag: tag.clone(), keyframe, header: false }).is_err();
            }
        }
    }
}

/// Keeps one destination published until the stream ends, reconnecting with backoff; with
/// several URLs, a failed one is followed by the next at once, and backoff waits only after the
/// last.
async fn forward(urls: Vec<String>, mut queue: mpsc::Receiver<Tag>, headers: Arc<Mutex<Headers>>) {
    let mut backoff = FIRST_BACKOFF;
    let mut at = 0;
    loop {
        let url = &urls[at % urls.len()];
        match publish(url, &mut queue, &headers, &mut backoff).await {
            Ok(()) => return,
            Err(why) => tracing::warn!(%url, retry_in = ?backoff, "forward failed: {why}"),
        }
        at = (at + 1) % urls.len();
        if at != 0 {
            continue;
        }
        // Tags that queue meanwhile are dropped: the next connection starts at a keyframe.
        let wait = tokio::time::sleep(backoff);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                _ = &mut wait => break,
                tag = queue.recv() => if tag.is_none() { return },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: publish, then the headers, then tags from the next keyframe on. `Ok` when the
/// stream ended (the destination is unpublished).
async fn publish(
    url: &str,
    queue: &mut mpsc::Receiver<Tag>,
    headers: &Mutex<Headers>,
    backoff: &mut Duration,
) -> Result<(), String> {
    let address = rtmp_address(url)?;
    let mut session = ClientSession::new(ClientConfig::from_url(url, ClientIntent::Publish));
    let mut buffer = vec![0u8; 16 * 1024];
    let mut socket = tokio::time::timeout(CONNECT_TIMEOUT, async {
        let mut socket = TcpStream::connect(&address).await.map_err(|e| format!("connect {address}: {e}"))?;
        let _ = socket.set_nodelay(true);
        wait_publishing(&mut socket, &mut session, &mut buffer).await?;
        Ok::<_, String>(socket)
    })
    .await
    .map_err(|_| format!("no answer to publish within {CONNECT_TIMEOUT:?}"))??;
    tracing::info!(%url, "forward publishing");
    *backoff = FIRST_BACKOFF;
    let mut waiting_for_keyframe = {
        let headers = headers.lock().unwrap_or_else(|p| p.into_inner());
        for tag in headers.tags() {
            send(&mut session, tag)?;
        }
        headers.has_video
    };
    loop {
        flush(&mut socket, &mut session).await?;
        tokio::select! {
            tag = queue.recv() => match tag {
                Some(tag) => {
                    if tag.header {
                        send(&mut session, &tag.tag)?;
                        continue;
                    }
                    if waiting_for_keyframe && !tag.keyframe {
                        continue;
                    }
                    waiting_for_keyframe = false;
                    send(&mut session, &tag.tag)?;
                }
                None => {
                    session.unpublish();
                    session.delete_stream();
                    flush(&mut socket, &mut session).await?;
                    return Ok(());
                }
            },
            read = socket.read(&mut buffer) => {
                let n = read.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("the destination closed the connection".into());
                }
                session.handle_input(&buffer[..n]).map_err(|e| e.to_string())?;
                while let Some(event) = session.poll_event() {
                    if let ClientEvent::Rejected { code, description } = event {
                        return Err(format!("{code}: {description}"));
                    }
                }
            }
        }
    }
}

async fn wait_publishing(
    socket: &mut TcpStream,
    session: &mut ClientSession,
    buffer: &mut [u8],
) -> Result<(), String> {
    loop {
        flush(socket, session).await?;
        let n = socket.read(buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the destination closed the connection".into());
        }
        session.handle_input(&buffer[..n]).map_err(|e| e.to_string())?;
        while let Some(event) = session.poll_event() {
            match event {
                ClientEvent::Publishing => return Ok(()),
                ClientEvent::Rejected { code, description } => return Err(format!("{code}: {description}")),
                _ => {}
            }
        }
    }
}

fn send(session: &mut ClientSession, tag: &FlvTagOut) -> Result<(), String> {
    let kind = MediaMessageKind::from(tag.tag_type);
    let media = MediaMessage { kind, timestamp: tag.timestamp_ms, payload: tag.body.clone() };
    session.send_media(&media).map_err(|e| e.to_string())
}

async fn flush(socket: &mut TcpStream, session: &mut ClientSession) -> Result<(), String> {
    while let Some(bytes) = session.poll_output() {
        socket.write_all(&bytes).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_name_urls_as_srs() {
        let key = StreamKey::new(DEFAULT_VHOST, "live", "cam");
        assert_eq!(destination_url("127.0.0.1:19350", &key, ""), "rtmp://127.0.0.1:19350/live/cam");
        let other = StreamKey::new("a.com", "live", "cam");
        assert_eq!(destination_url("10.0.0.1", &other, "?t=1"), "rtmp://10.0.0.1/live?vhost=a.com/cam?t=1");
        assert_eq!(
            destination_url("rtmp://h:1936/[app]/[vhost]-[stream][param]", &other, "?t=1"),
            "rtmp://h:1936/live/a.com-cam?t=1"
        );
        assert_eq!(rtmp_address("rtmp://h/live/cam").unwrap(), "h:1935");
        assert_eq!(rtmp_address("rtmp://h:1936/live/cam").unwrap(), "h:1936");
        assert!(rtmp_address("http://h/live/cam").is_err());
    }

    #[test]
    fn an_empty_or_bad_destination_is_refused_naming_the_field() {
        assert!(Config { destination: vec![], backend: None }
            .validate()
            .unwrap_err()
            .contains("destination"));
        let bad = Config { destination: vec!["rtmp://".into()], backend: None };
        assert!(bad.validate().unwrap_err().contains("`rtmp://`"));
        assert!(Config { destination: vec!["127.0.0.1:19350".into()], backend: None }.validate().is_ok());
        let srt = Config { destination: vec!["srt://127.0.0.1:10080".into()], backend: None };
        assert!(srt.validate().is_ok());
        let bad = Config { destination: vec!["srt://nowhere".into()], backend: None };
        assert!(bad.validate().unwrap_err().contains("srt://nowhere"));
        let backend = Config { destination: vec![], backend: Some("ftp://x".into()) };
        assert!(backend.validate().unwrap_err().contains("backend"));
    }
}
