//! A UDP relay between WebRTC clients and a server, for loss and fault tests: every Nth RTP packet
//! from the server to a client is dropped, and chosen datagrams can be sent from a client's
//! server-facing socket (an address the server knows). `rebind` moves every client to a new
//! server-facing socket, as a NAT that changes a client's mapping would.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Whether a datagram is RTP (not RTCP): RFC 7983's first byte, and a payload type outside
/// RTCP's 64..96 (after the marker bit) — SRTP leaves the header in clear.
pub fn is_rtp(data: &[u8]) -> bool {
    data.len() > 12 && (128..192).contains(&data[0]) && !(64..96).contains(&(data[1] & 0x7f))
}

/// A UDP relay between WebRTC clients and the server: each client gets its own socket towards the
/// server, and every `drop_every`th RTP packet from the server to a client is lost; `early`
/// datagrams go to the server from a client's socket right after its first one (its first STUN
/// binding: before DTLS has completed).
pub struct LossyRelay {
    pub port: u16,
    pub dropped: Arc<AtomicU64>,
    pub forwarded: Arc<AtomicU64>,
    /// The sockets the server knows the relayed clients by.
    pub backs: Arc<Mutex<Vec<Arc<UdpSocket>>>>,
    /// How many times the clients were moved to new sockets (`rebind`).
    generation: Arc<AtomicU64>,
    /// Datagrams from the server forwarded through sockets made after a `rebind`.
    pub forwarded_after_rebind: Arc<AtomicU64>,
}

impl LossyRelay {
    pub fn start(server: SocketAddr, drop_every: u64, early: Vec<Vec<u8>>) -> LossyRelay {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("relay socket"));
        let port = front.local_addr().expect("relay addr").port();
        let dropped = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let (relay_dropped, relay_forwarded) = (Arc::clone(&dropped), Arc::clone(&forwarded));
        let backs_seen = Arc::new(Mutex::new(Vec::new()));
        let relay_backs = Arc::clone(&backs_seen);
        let generation = Arc::new(AtomicU64::new(0));
        let forwarded_after_rebind = Arc::new(AtomicU64::new(0));
        let (relay_generation, relay_after) = (Arc::clone(&generation), Arc::clone(&forwarded_after_rebind));
        std::thread::spawn(move || {
            let mut backs: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut buffer = [0u8; 2048];
            let mut current = 0;
            while let Ok((n, client)) = front.recv_from(&mut buffer) {
                let now = relay_generation.load(Ordering::Relaxed);
                if now != current {
                    // New server-facing sockets from here on; the old ones still carry what the
                    // server sends to the old addresses.
                    backs.clear();
                    current = now;
                }
                let fresh = !backs.contains_key(&client);
                let back = backs.entry(client).or_insert_with(|| {
                    let back = Arc::new(UdpSocket::bind("127.0.0.1:0").expect("relay back socket"));
                    relay_backs.lock().expect("relay sockets").push(Arc::clone(&back));
                    let (front, back_loop) = (Arc::clone(&front), Arc::clone(&back));
                    let (dropped, forwarded) = (Arc::clone(&relay_dropped), Arc::clone(&relay_forwarded));
                    let after = (current > 0).then(|| Arc::clone(&relay_after));
                    std::thread::spawn(move || {
                        let mut buffer = [0u8; 2048];
                        let mut rtp = 0u64;
                        while let Ok((n, _)) = back_loop.recv_from(&mut buffer) {
                            if is_rtp(&buffer[..n]) {
                                rtp += 1;
                                if rtp % drop_every == 0 {
                                    dropped.fetch_add(1, Ordering::Relaxed);
                                    continue;
                                }
                                forwarded.fetch_add(1, Ordering::Relaxed);
                            }
                            if let Some(after) = &after {
                                after.fetch_add(1, Ordering::Relaxed);
                            }
                            let _ = front.send_to(&buffer[..n], client);
                        }
                    });
                    back
                });
                let _ = back.send_to(&buffer[..n], server);
                if fresh {
                    for datagram in &early {
                        let _ = back.send_to(datagram, server);
                    }
                }
            }
        });
        LossyRelay { port, dropped, forwarded, backs: backs_seen, generation, forwarded_after_rebind }
    }

    /// Moves every client to a new server-facing socket (a new address for the server) at its
    /// next datagram.
    pub fn rebind(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }
}
