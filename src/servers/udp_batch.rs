//! Datagrams queued during one turn of a UDP worker and sent together with `sendmmsg` (one system
//! call for up to `BATCH` datagrams, through `nix`'s safe wrapper), instead of one `sendto` each:
//! a frame fanned out to hundreds of players is thousands of datagrams.
//!
//! Sends never wait: the socket is non-blocking, and what a full socket buffer does not take is
//! dropped and counted, as the network would drop it.

use std::io::IoSlice;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use bytes::BytesMut;
use nix::errno::Errno;
use nix::sys::socket::{sendmmsg, ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage};

/// Datagrams per system call (the kernel takes up to UIO_MAXIOV = 1024).
pub const BATCH: usize = 64;

/// What one flush did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    pub sent: u64,
    pub dropped: u64,
}

/// Datagrams waiting for the next flush, written one after another into one buffer that is
/// kept from flush to flush (a worker's scratch: a packet for a player is built where it is
/// sent from, with no allocation per datagram).
#[derive(Debug, Default)]
pub struct Outbox {
    data: Vec<u8>,
    /// Each datagram's end in `data` (it starts where the previous one ends) and destination.
    queue: Vec<(usize, SocketAddr)>,
}

/// The buffer kept between flushes; a burst past it is given back to the allocator.
const KEEP_CAPACITY: usize = 256 * 1024;

impl Outbox {
    pub fn push(&mut self, datagram: BytesMut, to: SocketAddr) {
        self.data.extend_from_slice(&datagram);
        self.queue.push((self.data.len(), to));
    }

    /// Queues a datagram that `write` appends to the buffer (it gets the buffer and where the
    /// datagram starts); when it returns `false`, nothing is queued.
    pub fn push_with(&mut self, to: SocketAddr, write: impl FnOnce(&mut Vec<u8>, usize) -> bool) -> bool {
        let start = self.data.len();
        if write(&mut self.data, start) && self.data.len() > start {
            self.queue.push((self.data.len(), to));
            true
        } else {
            self.data.truncate(start);
            false
        }
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Bytes queued.
    pub fn len_bytes(&self) -> usize {
        self.data.len()
    }

    /// Sends every queued datagram on `socket`, `BATCH` per system call.
    pub fn flush(&mut self, socket: &impl AsRawFd) -> Flushed {
        let mut done = Flushed::default();
        let fd = socket.as_raw_fd();
        // The headers hold raw pointers (not `Send`): made per flush, which never awaits.
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
        let mut start = 0;
        while start < self.queue.len() {
            let chunk = &self.queue[start..(start + BATCH).min(self.queue.len())];
            let mut from = if start == 0 { 0 } else { self.queue[start - 1].0 };
            let slices: Vec<[IoSlice<'_>; 1]> = chunk
                .iter()
                .map(|&(end, _)| {
                    let slice = [IoSlice::new(&self.data[from..end])];
                    from = end;
                    slice
                })
                .collect();
            let addresses: Vec<Option<SockaddrStorage>> =
                chunk.iter().map(|(_, to)| Some(SockaddrStorage::from(*to))).collect();
            let no_control: [ControlMessage<'_>; 0] = [];
            let sent = sendmmsg(fd, &mut headers, &slices, addresses, no_control, MsgFlags::MSG_DONTWAIT)
                .map(|results| results.count());
            match sent {
                // Taken in part (the buffer filled up): the rest is tried again at once, and
                // dropped if the socket still refuses it.
                Ok(n) if n > 0 => {
                    done.sent += n as u64;
                    start += n;
                }
                Err(Errno::EAGAIN) => {
                    // The socket buffer is full: it will not drain within this flush.
                    done.dropped += (self.queue.len() - start) as u64;
                    break;
                }
                _ => {
                    // The first datagram of the chunk was refused (full buffer, or an address the
                    // kernel rejects): drop it alone and go on.
                    done.dropped += 1;
                    start += 1;
                }
            }
        }
        self.queue.clear();
        self.data.clear();
        if self.data.capacity() > KEEP_CAPACITY {
            self.data.shrink_to(KEEP_CAPACITY);
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_more_than_a_batch_in_order() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        let mut outbox = Outbox::default();
        for i in 0..150u8 {
            outbox.push(BytesMut::from(&[i; 100][..]), to);
        }
        assert_eq!(outbox.flush(&sender), Flushed { sent: 150, dropped: 0 });
        assert!(outbox.is_empty());
        let mut buffer = [0u8; 200];
        for i in 0..150u8 {
            let (n, from) = receiver.recv_from(&mut buffer).unwrap();
            assert_eq!((n, buffer[0], from), (100, i, sender.local_addr().unwrap()));
        }
    }

    #[test]
    fn datagrams_written_in_place_go_out_and_a_failed_write_leaves_nothing() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        let mut outbox = Outbox::default();
        outbox.push(BytesMut::from(&b"one"[..]), to);
        assert!(!outbox.push_with(to, |buffer, _| {
            buffer.extend_from_slice(b"half written");
            false
        }));
        assert!(outbox.push_with(to, |buffer, start| {
            buffer.extend_from_slice(b"two");
            buffer[start] = b'T';
            true
        }));
        assert_eq!(outbox.len_bytes(), 6);
        assert_eq!(outbox.flush(&sender), Flushed { sent: 2, dropped: 0 });
        assert_eq!(outbox.len_bytes(), 0);
        let mut buffer = [0u8; 32];
        for expected in [&b"one"[..], b"Two"] {
            let (n, _) = receiver.recv_from(&mut buffer).unwrap();
            assert_eq!(&buffer[..n], expected);
        }
    }

    #[test]
    fn a_refused_datagram_is_dropped_alone() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut outbox = Outbox::default();
        // An IPv6 destination on an IPv4 socket: the kernel refuses it.
        outbox.push(BytesMut::from(&b"lost"[..]), "[::1]:9".parse().unwrap());
        outbox.push(BytesMut::from(&b"kept"[..]), receiver.local_addr().unwrap());
        assert_eq!(outbox.flush(&sender), Flushed { sent: 1, dropped: 1 });
        let mut buffer = [0u8; 16];
        let (n, _) = receiver.recv_from(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"kept");
    }
}
