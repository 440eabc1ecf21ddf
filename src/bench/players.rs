//! The two kinds of load-test player, one tokio task each: RTMP through `codec::rtmp::ClientSession`,
//! HTTP-FLV through a plain HTTP/1.1 GET, `codec::http_chunked` and `codec::flv::FlvReader`.
//!
//! Both count wire bytes, note the time from TCP connect to the first video frame, and read the
//! publisher's send-time stamp in every video frame to sample the latency the server adds.

use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::stamp::{read_stamp, wall_micros};
use super::stats::PlayerStats;
use crate::codec::flv::{FlvReader, TagType, VideoPacketKind, VideoTagHeader};
use crate::codec::http_chunked::ResponseBodyDecoder;
use crate::codec::rtmp::{ClientConfig, ClientEvent, ClientIntent, ClientSession, MediaMessageKind};

/// Bytes read from the socket at a time.
const READ_BUFFER: usize = 64 * 1024;

/// Plays `url` until the task is aborted; a failure marks the player failed.
pub async fn rtmp_player(url: String, stats: Arc<PlayerStats>) {
    if let Err(why) = play_rtmp(&url, &stats).await {
        tracing::debug!(%url, "rtmp player failed: {why}");
        stats.failed.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Plays `url` until the task is aborted; a failure marks the player failed.
pub async fn flv_player(url: String, stats: Arc<PlayerStats>) {
    if let Err(why) = play_flv(&url, &stats).await {
        tracing::debug!(%url, "http-flv player failed: {why}");
        stats.failed.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `host:port` of an `rtmp://` or `http://` URL, with the scheme's default port.
pub fn socket_address(url: &str) -> Result<String, String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("not a URL: {url}"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let default_port = match scheme {
        "rtmp" => 1935,
        "http" => 80,
        other => return Err(format!("unsupported scheme `{other}` in {url}")),
    };
    if authority.is_empty() {
        return Err(format!("no host in {url}"));
    }
    Ok(if authority.contains(':') { authority.to_owned() } else { format!("{authority}:{default_port}") })
}

/// Notes a video tag body: the first coded frame, and the stamp if any.
fn on_video(stats: &PlayerStats, body: &[u8], connected_at: Instant, received_wall: u64) {
    let is_frame =
        VideoTagHeader::parse(body).is_ok_and(|header| header.packet == VideoPacketKind::CodedFrames);
    if !is_frame {
        return;
    }
    stats.frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    stats.first_frame(connected_at.elapsed().as_micros() as u64);
    if let Some(sent) = read_stamp(body) {
        stats.add_latency(received_wall as i64 - sent as i64);
    }
}

async fn play_rtmp(url: &str, stats: &PlayerStats) -> Result<(), String> {
    let started = Instant::now();
    let mut socket = TcpStream::connect(socket_address(url)?).await.map_err(|e| e.to_string())?;
    let _ = socket.set_nodelay(true);
    let mut session = ClientSession::new(ClientConfig::from_url(url, ClientIntent::Play));
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        while let Some(bytes) = session.poll_output() {
            socket.write_all(&bytes).await.map_err(|e| e.to_string())?;
        }
        let n = socket.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("server closed the connection".into());
        }
        let received_wall = wall_micros();
        stats.add_bytes(n);
        session.handle_input(&buffer[..n]).map_err(|e| e.to_string())?;
        while let Some(event) = session.poll_event() {
            match event {
                ClientEvent::Playing => stats.connected.store(true, std::sync::atomic::Ordering::Relaxed),
                ClientEvent::Rejected { code, description } => return Err(format!("{code}: {description}")),
                ClientEvent::Media(media) if media.kind == MediaMessageKind::Video => {
                    on_video(stats, &media.payload, started, received_wall)
                }
                ClientEvent::StreamEof => return Err("stream ended".into()),
                _ => {}
            }
        }
    }
}

async fn play_flv(url: &str, stats: &PlayerStats) -> Result<(), String> {
    let started = Instant::now();
    let address = socket_address(url)?;
    let path = url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..])).unwrap_or("/");
    let mut socket = TcpStream::connect(&address).await.map_err(|e| e.to_string())?;
    let _ = socket.set_nodelay(true);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: srs-bench\r\nAccept: */*\r\n\r\n");
    socket.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut http = ResponseBodyDecoder::default();
    let mut flv = FlvReader::default();
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        let n = socket.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("server closed the connection".into());
        }
        let received_wall = wall_micros();
        stats.add_bytes(n);
        http.push(&buffer[..n]);
        while let Some(body) = http.next_body().map_err(|e| e.to_string())? {
            flv.push(&body);
        }
        if http.head_done() {
            stats.connected.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        while let Some(tag) = flv.next_tag() {
            let tag = tag.map_err(|e| e.to_string())?;
            if tag.tag_type == TagType::Video {
                on_video(stats, &tag.body, started, received_wall);
            }
        }
        if http.is_done() {
            return Err("response ended".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_with_default_ports() {
        assert_eq!(socket_address("rtmp://127.0.0.1/live/a").unwrap(), "127.0.0.1:1935");
        assert_eq!(socket_address("rtmp://h:1936/live/a").unwrap(), "h:1936");
        assert_eq!(socket_address("http://h/live/a.flv").unwrap(), "h:80");
        assert!(socket_address("srt://h/x").is_err());
        assert!(socket_address("nothing").is_err());
    }
}
