//! GB28181 media transport, sans-IO: RTP packets carrying program stream (`rtp.rs`: header
//! parse/write and packetizing), RFC 4571 framing of RTP over TCP (`framing.rs`), and the
//! reorder/loss window that turns a device's packets back into an ordered byte stream
//! (`sequencer.rs`). The SIP side is `codec::sip`; the program stream is `codec::ps`.

pub mod framing;
pub mod rtp;
pub mod sequencer;

pub use framing::Rfc4571Framer;
pub use rtp::{RtpError, RtpPacket};
pub use sequencer::{Delivery, Sequencer};
