//! Graph-scoped I/O shared by nodes: listeners, the HTTP and SRT servers, UDP sockets.
//!
//! Nodes never bind sockets: they declare `Listen`s, and the server for an address is started
//! once here with every node that named it.

pub mod hls_pull;
pub mod http;
pub mod http_pull;
pub mod http_raw;
pub mod redis;
pub mod rtc_directory;
pub mod rtc_feedback;
pub mod rtc_peer;
pub mod rtc_ring;
pub mod rtc_slim;
pub mod rtc_srtp_keys;
pub mod rtc_tcp;
pub mod rtc_udp;
pub mod rtmp_client;
pub mod srt;
pub mod srt_pull;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod udp_batch;

use tokio::sync::oneshot;

/// Keeps a listener (or a task on a socket) running: dropping it unbinds the address, while
/// connections already accepted go on. A reload drops the ones no node names any more.
#[derive(Debug)]
pub struct Bound(#[allow(dead_code)] oneshot::Sender<()>);

/// Resolves when the [`Bound`] it was made with is dropped.
pub type Unbound = oneshot::Receiver<()>;

impl Bound {
    pub fn new() -> (Bound, Unbound) {
        let (sender, receiver) = oneshot::channel();
        (Bound(sender), receiver)
    }
}
