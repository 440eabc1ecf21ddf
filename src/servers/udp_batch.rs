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

/// Datagrams waiting for the next flush.
#[derive(Debug, Default)]
pub struct Outbox {
    queue: Vec<(BytesMut, SocketAddr)>,
}

impl Outbox {
    pub fn push(&mut self, datagram: BytesMut, to: SocketAddr) {
        self.queue.push((datagram, to));
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
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
            let slices: Vec<[IoSlice<'_>; 1]> = chunk.iter().map(|(data, _)| [IoSlice::new(data)]).collect();
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
