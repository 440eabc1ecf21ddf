//! Graph-scoped I/O shared by nodes: listeners, the HTTP and SRT servers, UDP sockets.
//!
//! Nodes never bind sockets: they declare `Listen`s, and the server for an address is started
//! once here with every node that named it.

pub mod http;
pub mod http_raw;
pub mod srt;
pub mod tcp;
pub mod tls;
pub mod udp;
