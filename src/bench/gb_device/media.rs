//! The camera's media: a TS file's frames, muxed into PS packs and sent as RTP in real time
//! (looping, timestamps continued), over TCP with RFC 4571 framing or over UDP.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

use super::DeviceStats;
use crate::codec::gb28181::framing;
use crate::codec::gb28181::rtp::packetize;
use crate::codec::mpegts::TsDemuxer;
use crate::codec::ps::PsMuxer;
use crate::codec::sip::MediaTransport;
use crate::media::{Frame, MediaEvent, MediaTime, StreamDescription, Timebase};

/// RTP payload bytes per packet (fits a 1500-byte MTU with the headers).
const MAX_PAYLOAD: usize = 1400;

/// What a device streams: a TS file's frames.
#[derive(Debug, Clone)]
pub struct DeviceMedia {
    pub description: StreamDescription,
    pub frames: Vec<Frame>,
    /// From the first frame's dts to one frame after the last.
    pub duration: MediaTime,
}

impl DeviceMedia {
    pub fn load(path: &Path) -> Result<DeviceMedia, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut demuxer = TsDemuxer::default();
        demuxer.push(&bytes);
        demuxer.finish();
        let (mut description, mut frames) = (None, Vec::new());
        while let Some(event) = demuxer.poll() {
            match event {
                Ok(MediaEvent::Description(d)) => description = Some((*d).clone()),
                Ok(MediaEvent::Frame(frame)) => frames.push(frame),
                _ => {}
            }
        }
        let description =
            description.ok_or_else(|| format!("{}: no media in the TS file", path.display()))?;
        let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
            return Err(format!("{}: no frames", path.display()));
        };
        let duration = (last.dts - first.dts) + MediaTime::from_millis(40);
        Ok(DeviceMedia { description, frames, duration })
    }
}

/// Where and how the server asked for media.
#[derive(Debug, Clone)]
pub struct MediaTarget {
    pub addr: SocketAddr,
    pub transport: MediaTransport,
    pub ssrc: u32,
}

enum Sink {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

/// Streams until `stop` resolves, or for `limit` if given (then stops silently, as a camera
/// whose network broke). Returns why it stopped.
pub async fn stream(
    media: Arc<DeviceMedia>,
    target: MediaTarget,
    stats: Arc<DeviceStats>,
    limit: Option<Duration>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let mut sink = match target.transport {
        MediaTransport::Tcp => {
            let stream = TcpStream::connect(target.addr).await.map_err(|e| format!("media connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            Sink::Tcp(stream)
        }
        MediaTransport::Udp => {
            let socket = UdpSocket::bind("127.0.0.1:0").await.map_err(|e| format!("media socket: {e}"))?;
            socket.connect(target.addr).await.map_err(|e| format!("media connect: {e}"))?;
            Sink::Udp(socket)
        }
    };
    let description = &media.description;
    let mut muxer =
        PsMuxer::new(description.video.as_ref(), description.audio.as_ref()).map_err(|e| e.to_string())?;
    tokio::pin!(stop);
    let started = Instant::now();
    let mut sequence = 0u16;
    let (mut pack, mut wire) = (BytesMut::new(), BytesMut::new());
    let first_dts = media.frames.first().map_or(MediaTime::ZERO, |f| f.dts);
    for lap in 0i64.. {
        let offset = MediaTime::new(media.duration.rescale(Timebase::MPEG).ticks() * lap, Timebase::MPEG);
        // Start on a keyframe on every lap after the first, as the file does.
        for frame in media.frames.iter() {
            let dts = frame.dts - first_dts + offset;
            let micros = dts.rescale(Timebase::MPEG).ticks().max(0) as u64 * 100 / 9;
            let due = started + Duration::from_micros(micros);
            if limit.is_some_and(|limit| due.duration_since(started) >= limit) {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = &mut stop => return Ok(()),
            }
            let shifted = Frame { dts, pts: frame.pts - first_dts + offset, ..frame.clone() };
            pack.clear();
            muxer.write_frame_into(&shifted, &mut pack).map_err(|e| e.to_string())?;
            let timestamp = dts.rescale(Timebase::MPEG).ticks() as u32;
            let packets =
                packetize(&Bytes::copy_from_slice(&pack), MAX_PAYLOAD, &mut sequence, timestamp, target.ssrc);
            match &mut sink {
                Sink::Tcp(stream) => {
                    wire.clear();
                    for packet in &packets {
                        let mut one = BytesMut::new();
                        packet.write(&mut one);
                        framing::frame(&one, &mut wire);
                    }
                    stream.write_all(&wire).await.map_err(|e| format!("media write: {e}"))?;
                    stats.bytes_sent.fetch_add(wire.len() as u64, Ordering::Relaxed);
                }
                Sink::Udp(socket) => {
                    for packet in &packets {
                        wire.clear();
                        packet.write(&mut wire);
                        // A full socket buffer loses the datagram, as a network would.
                        let _ = socket.send(&wire).await;
                        stats.bytes_sent.fetch_add(wire.len() as u64, Ordering::Relaxed);
                    }
                }
            }
            stats.frames_sent.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}
