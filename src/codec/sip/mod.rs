//! SIP as GB28181 uses it, sans-IO: messages (`message.rs`: parse from a TCP stream or a UDP
//! datagram, write, limits), header values (`headers.rs`: Via, From/To/Contact, CSeq, digest
//! parameters), MD5 digest authentication (`digest.rs`), the INVITE's SDP with the `y=` SSRC
//! (`sdp.rs`), and the server's registrar and call state machine (`registrar.rs`).

pub mod digest;
pub mod headers;
pub mod message;
pub mod registrar;
pub mod sdp;

pub use message::{parse_datagram, SipError, SipLimits, SipMessage, SipStreamParser, StartLine};
pub use registrar::{Action, Registrar, RegistrarConfig};
pub use sdp::{MediaOffer, MediaTransport};
