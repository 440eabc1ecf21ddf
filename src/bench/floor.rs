//! The kernel floor: the least a server could do to deliver the same stream to the same players.
//! It accepts HTTP connections, answers any request with an unchunked FLV response, and every
//! batch interval (350 ms, as `mw_latency`) writes the tags that came due, serialized once, to every
//! player with one vectored write each, from a single thread with non-blocking sockets.
//!
//! Comparing a server's CPU per player-minute to this program's tells how much is ours and how much
//! is the kernel's (TCP, copies into socket buffers) that no server avoids.

use std::io::{IoSlice, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};

use super::source::FlvSource;
use crate::codec::flv::{tag_bytes, FlvHeader};

/// A player more than this many bytes behind is dropped (a server would skip it to a keyframe).
const MAX_PENDING_BYTES: usize = 8 * 1024 * 1024;
const RESPONSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nConnection: close\r\n\r\n";

struct Player {
    socket: TcpStream,
    pending: Vec<Bytes>,
}

/// Serves `source` on `listen` until the process ends; prints the number of players every second.
pub fn run_floor(listen: SocketAddr, source: FlvSource, batch: Duration) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen)?;
    eprintln!(
        "floor: serving {} on http://{}/ (any path), batches every {batch:?}",
        source_summary(&source),
        listener.local_addr()?
    );
    let players: Arc<Mutex<Vec<Player>>> = Arc::default();
    let mut start = vec![Bytes::copy_from_slice(RESPONSE_HEAD), FlvHeader::new(true, true).file_start()];
    for tag in &source.headers {
        start.extend(tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body).ok());
    }
    let accepted = Arc::clone(&players);
    std::thread::spawn(move || accept_loop(listener, start, accepted));
    let started = Instant::now();
    let mut tags = source.looped().peekable();
    let mut last_print = Instant::now();
    let mut batch_bytes: Vec<Bytes> = Vec::new();
    loop {
        std::thread::sleep(batch);
        let now_ms = started.elapsed().as_millis() as u64;
        batch_bytes.clear();
        while let Some(tag) = tags.next_if(|t| u64::from(t.timestamp_ms) <= now_ms) {
            batch_bytes.extend(tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body).ok());
        }
        let mut players = players.lock().unwrap_or_else(|p| p.into_inner());
        players.retain_mut(|player| {
            player.pending.extend(batch_bytes.iter().cloned());
            write_pending(player)
        });
        if last_print.elapsed() >= Duration::from_secs(1) {
            eprintln!("floor: {} players", players.len());
            last_print = Instant::now();
        }
    }
}

fn source_summary(source: &FlvSource) -> String {
    format!("{:.0} kbit/s, {} ms loop", source.bitrate() / 1e3, source.span_ms)
}

/// Reads each request head (blocking, briefly), then hands the socket over non-blocking.
fn accept_loop(listener: TcpListener, start: Vec<Bytes>, players: Arc<Mutex<Vec<Player>>>) {
    for socket in listener.incoming() {
        let Ok(mut socket) = socket else { continue };
        let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
        let mut head = Vec::new();
        let mut byte = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match socket.read(&mut byte) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&byte[..n]),
            }
        }
        let _ = socket.set_nodelay(true);
        if socket.set_nonblocking(true).is_err() {
            continue;
        }
        let mut player = Player { socket, pending: start.clone() };
        if write_pending(&mut player) {
            players.lock().unwrap_or_else(|p| p.into_inner()).push(player);
        }
    }
}

/// One vectored write of what is pending (more only if the kernel took everything offered);
/// `false` when the player is gone or hopelessly behind.
fn write_pending(player: &mut Player) -> bool {
    while !player.pending.is_empty() {
        let slices: Vec<IoSlice<'_>> = player.pending.iter().take(64).map(|b| IoSlice::new(b)).collect();
        let offered: usize = slices.iter().map(|s| s.len()).sum();
        match player.socket.write_vectored(&slices) {
            Ok(0) => return false,
            Ok(mut written) => {
                let all = written == offered;
                while written > 0 {
                    let front = &mut player.pending[0];
                    if written >= front.len() {
                        written -= front.len();
                        player.pending.remove(0);
                    } else {
                        front.advance(written);
                        written = 0;
                    }
                }
                if !all {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => return false,
        }
    }
    player.pending.iter().map(Bytes::len).sum::<usize>() <= MAX_PENDING_BYTES
}
