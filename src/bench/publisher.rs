//! A load-test publisher: one RTMP connection replaying an `FlvSource` in real time, looping, with
//! the send time stamped into every H.264 frame (see `stamp`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::players::socket_address;
use super::source::{FlvSource, SourceTag};
use super::stamp::{stamp_video, wall_micros};
use super::stats::PublisherStats;
use crate::codec::flv::TagType;
use crate::codec::rtmp::{
    ClientConfig, ClientEvent, ClientIntent, ClientSession, MediaMessage, MediaMessageKind,
};

/// How long the server has to answer the publish.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Publishes until the task is aborted; a failure is counted.
pub async fn publisher(url: String, source: Arc<FlvSource>, stats: Arc<PublisherStats>) {
    if let Err(why) = publish(&url, &source, &stats).await {
        tracing::warn!(%url, "publisher failed: {why}");
        stats.publishing.fetch_sub(1, Ordering::Relaxed);
        stats.failed.fetch_add(1, Ordering::Relaxed);
    }
}

async fn publish(url: &str, source: &FlvSource, stats: &PublisherStats) -> Result<(), String> {
    let mut socket = TcpStream::connect(socket_address(url)?).await.map_err(|e| e.to_string())?;
    let _ = socket.set_nodelay(true);
    let mut session = ClientSession::new(ClientConfig::from_url(url, ClientIntent::Publish));
    let mut buffer = vec![0u8; 16 * 1024];
    tokio::time::timeout(START_TIMEOUT, wait_publishing(&mut socket, &mut session, &mut buffer))
        .await
        .map_err(|_| "no answer to publish".to_owned())??;
    stats.publishing.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    for tag in &source.headers {
        send(&mut session, tag, tag.body.clone())?;
    }
    flush(&mut socket, &mut session, stats).await?;
    let mut tags = source.looped().peekable();
    loop {
        let due = started + Duration::from_millis(tags.peek().map_or(0, |t| u64::from(t.timestamp_ms)));
        tokio::select! {
            read = socket.read(&mut buffer) => {
                let n = read.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("server closed the connection".into());
                }
                session.handle_input(&buffer[..n]).map_err(|e| e.to_string())?;
                while let Some(event) = session.poll_event() {
                    if let ClientEvent::Rejected { code, description } = event {
                        return Err(format!("{code}: {description}"));
                    }
                }
            }
            _ = tokio::time::sleep_until(due) => {
                let now = started.elapsed().as_millis() as u64;
                while let Some(tag) = tags.next_if(|t| u64::from(t.timestamp_ms) <= now) {
                    let body = match tag.tag_type {
                        TagType::Video => match stamp_video(&tag.body, wall_micros()) {
                            Some(stamped) => {
                                stats.frames_stamped.fetch_add(1, Ordering::Relaxed);
                                stamped
                            }
                            None => tag.body.clone(),
                        },
                        _ => tag.body.clone(),
                    };
                    send(&mut session, &tag, body)?;
                }
            }
        }
        flush(&mut socket, &mut session, stats).await?;
    }
}

async fn wait_publishing(
    socket: &mut TcpStream,
    session: &mut ClientSession,
    buffer: &mut [u8],
) -> Result<(), String> {
    loop {
        while let Some(bytes) = session.poll_output() {
            socket.write_all(&bytes).await.map_err(|e| e.to_string())?;
        }
        let n = socket.read(buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("server closed the connection".into());
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

fn send(session: &mut ClientSession, tag: &SourceTag, body: Bytes) -> Result<(), String> {
    let kind = MediaMessageKind::from(tag.tag_type);
    let media = MediaMessage { kind, timestamp: tag.timestamp_ms, payload: body };
    session.send_media(&media).map_err(|e| e.to_string())
}

async fn flush(
    socket: &mut TcpStream,
    session: &mut ClientSession,
    stats: &PublisherStats,
) -> Result<(), String> {
    while let Some(bytes) = session.poll_output() {
        stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        socket.write_all(&bytes).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
