//! `Forward` to an `srt://host:port?streamid=...` destination: the stream as MPEG-TS (our TS
//! muxer, the same bytes `SrtOut` serves) pushed with the srt-tokio caller, in SRT messages of
//! seven TS packets.
//!
//! As for RTMP destinations, each SRT destination has its own task and bounded queue of media
//! events: a destination that stalls or dies never slows the publisher or the other
//! destinations; a full queue drops to the next keyframe, and a dropped connection is made again
//! with backoff (1 s doubling to 10 s), each connection a fresh TS muxer that starts with the
//! tables and a keyframe.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::http_remux::RemuxFormat;
use super::remux_serializer::RemuxSerializer;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::StreamKey;
use crate::media::{MediaEvent, MediaKind, StreamDescription};
use crate::servers::srt_pull;

/// Media events queued per destination before it must catch up at a keyframe.
const QUEUE_EVENTS: usize = 2048;
/// How long a destination has to complete the SRT handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Whether a destination is an SRT one.
pub fn is_srt(destination: &str) -> bool {
    destination.starts_with("srt://")
}

/// The URL an `srt://` destination names for `key`: its variables filled, and SRS's publish stream
/// id (`#!::r=app/stream,m=publish`, `h=vhost` for a named vhost) added when it names none.
pub fn destination_url(destination: &str, key: &StreamKey, param: &str) -> String {
    let url = key.fill(destination).replace("[param]", param);
    if url.contains("streamid=") {
        return url;
    }
    let host = if key.vhost == DEFAULT_VHOST { String::new() } else { format!("h={},", key.vhost) };
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}streamid=#!::{host}r={}/{},m=publish", key.app, key.stream)
}

/// Checks an `srt://host:port` destination.
pub fn validate(url: &str) -> Result<(), String> {
    srt_pull::parse(url).map(|_| ()).map_err(|e| e.to_string())
}

/// The publisher's side of the SRT destinations of one stream: offers each event to every
/// destination's queue without waiting.
#[derive(Default)]
pub struct SrtDestinations {
    queues: Vec<(mpsc::Sender<MediaEvent>, bool)>,
    latest: Arc<Mutex<Option<Arc<StreamDescription>>>>,
}

impl SrtDestinations {
    /// Starts the task of one destination.
    pub fn add(&mut self, engine: &super::Engine, url: String) {
        let (sender, receiver) = mpsc::channel(QUEUE_EVENTS);
        engine.spawn(forward(url, receiver, Arc::clone(&self.latest)));
        self.queues.push((sender, false));
    }

    /// Offers `event`; a destination whose queue is full skips to the next keyframe, where it
    /// gets the newest description first.
    pub fn offer(&mut self, event: &MediaEvent) {
        let keyframe = match event {
            MediaEvent::Description(description) => {
                *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(description));
                false
            }
            MediaEvent::Frame(frame) => frame.keyframe && frame.kind() == MediaKind::Video,
            MediaEvent::Metadata(_) | MediaEvent::End => return,
        };
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let audio_only = latest.as_ref().is_some_and(|d| d.video.is_none());
        for (queue, skipping) in &mut self.queues {
            if *skipping {
                if !(keyframe || audio_only) {
                    continue;
                }
                let Some(description) = &latest else { continue };
                if queue.try_send(MediaEvent::Description(Arc::clone(description))).is_err() {
                    continue;
                }
            }
            *skipping = queue.try_send(event.clone()).is_err();
        }
    }
}

/// Keeps one destination published until the stream ends, reconnecting with backoff.
async fn forward(
    url: String,
    mut queue: mpsc::Receiver<MediaEvent>,
    latest: Arc<Mutex<Option<Arc<StreamDescription>>>>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        match publish(&url, &mut queue, &latest, &mut backoff).await {
            Ok(()) => return,
            Err(why) => tracing::warn!(%url, retry_in = ?backoff, "forward failed: {why}"),
        }
        // Events that queue meanwhile are dropped: the next connection starts at a keyframe.
        let wait = tokio::time::sleep(backoff);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                _ = &mut wait => break,
                event = queue.recv() => if event.is_none() { return },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One SRT connection: the tables, then frames from the next keyframe on. `Ok` when the stream
/// ended.
async fn publish(
    url: &str,
    queue: &mut mpsc::Receiver<MediaEvent>,
    latest: &Mutex<Option<Arc<StreamDescription>>>,
    backoff: &mut Duration,
) -> Result<(), String> {
    let mut socket = srt_pull::call(url, CONNECT_TIMEOUT).await.map_err(|e| e.to_string())?;
    tracing::info!(%url, "forward publishing over srt");
    *backoff = FIRST_BACKOFF;
    let mut muxer = RemuxSerializer::new(RemuxFormat::Ts);
    let description = latest.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut waiting_for_keyframe = true;
    if let Some(description) = description {
        waiting_for_keyframe = description.video.is_some();
        send(&mut socket, &mut muxer, &MediaEvent::Description(description)).await?;
    }
    loop {
        tokio::select! {
            event = queue.recv() => {
                let Some(event) = event else {
                    let _ = socket.close().await;
                    return Ok(());
                };
                if let MediaEvent::Frame(frame) = &event {
                    if waiting_for_keyframe && !(frame.keyframe && frame.kind() == MediaKind::Video) {
                        continue;
                    }
                    waiting_for_keyframe = false;
                }
                send(&mut socket, &mut muxer, &event).await?;
            }
            // A caller receives nothing but the end of the connection.
            received = socket.next() => match received {
                None => return Err("the destination closed the connection".into()),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn send(
    socket: &mut srt_tokio::SrtSocket,
    muxer: &mut RemuxSerializer,
    event: &MediaEvent,
) -> Result<(), String> {
    let packets = muxer.push(event);
    if packets.is_empty() {
        return Ok(());
    }
    for packet in &packets {
        for message in super::srt_out::messages(&packet.bytes) {
            socket.feed((Instant::now(), message)).await.map_err(|e| e.to_string())?;
        }
    }
    socket.flush().await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srt_destinations_get_srs_publish_stream_ids() {
        let key = StreamKey::new(DEFAULT_VHOST, "live", "cam");
        assert_eq!(
            destination_url("srt://127.0.0.1:10080", &key, ""),
            "srt://127.0.0.1:10080?streamid=#!::r=live/cam,m=publish"
        );
        let named = StreamKey::new("a.com", "live", "cam");
        assert_eq!(
            destination_url("srt://h:1?latency=200", &named, ""),
            "srt://h:1?latency=200&streamid=#!::h=a.com,r=live/cam,m=publish"
        );
        assert_eq!(
            destination_url("srt://h:1?streamid=#!::r=[app]/[stream]-b,m=publish", &key, ""),
            "srt://h:1?streamid=#!::r=live/cam-b,m=publish"
        );
        assert!(validate("srt://h:1?streamid=x").is_ok());
        assert!(validate("srt://h").is_err());
    }
}
