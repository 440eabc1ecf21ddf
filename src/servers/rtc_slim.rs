//! A player's session once its DTLS is done, without the `rtc` crate's peer connection.
//!
//! A connected player needs little more than its SRTP keys: media is protected by the worker
//! (`codec::srtp`), so the crate's peer connection (parsed SDPs, transceivers, interceptor
//! queues, DTLS and ICE state, statistics: most of a player's ~170 KB) only answered consent
//! checks and the player's RTCP. This state does those with the keys the tap saw
//! (`rtc_srtp_keys`): STUN bindings checked with our ICE password and answered
//! (`codec::rtp::stun`), the player's SRTCP decrypted with its key (`codec::srtcp`), our sender
//! reports protected with ours. A DTLS alert (close_notify when the browser closes) or an RTCP
//! BYE ends the session; consent (no packet in 30 s) is the worker's idle sweep.
//!
//! The worker moves a player here a few seconds after DTLS completes (`SLIM_AFTER`), so a lost
//! final handshake flight is still retransmitted by the crate. Publishers stay on the crate.

use std::net::SocketAddr;
use std::time::Duration;

use rtc::rtcp::goodbye::Goodbye;
use thiserror::Error;

use crate::codec::rtp::stun::{answer_binding, StunError};
use crate::codec::srtcp::{Srtcp, SrtcpError};
use crate::codec::srtp::MasterKey;

/// How long after DTLS completes a player leaves the crate.
pub const SLIM_AFTER: Duration = Duration::from_secs(3);

/// The first SRTCP index of ours: the crate's SRTCP context, of the same key, sent a few
/// packets a second (sender reports) before the player left it, from index 0.
const FIRST_OWN_SRTCP_INDEX: u32 = 1 << 16;

/// DTLS record content types (RFC 6347): an alert ends the session.
const DTLS_ALERT: u8 = 21;

#[derive(Debug, Error)]
pub enum SlimError {
    #[error(transparent)]
    Stun(#[from] StunError),
    #[error(transparent)]
    Srtcp(#[from] SrtcpError),
    #[error("rtcp: {0}")]
    Rtcp(#[from] rtc::shared::error::Error),
}

/// What a datagram from the player asks of the worker.
pub enum SlimInput {
    /// A valid binding: send this answer back where it came from.
    Binding(Vec<u8>),
    /// The player's RTCP, decrypted.
    Rtcp(Vec<Box<dyn rtc::rtcp::Packet>>),
    /// The player ends the session.
    Closed(&'static str),
    /// Nothing to do (a late DTLS record, RTP from a player that only receives).
    Ignored,
}

/// A connected player's transport state of our own.
pub struct Slim {
    password: String,
    /// The player's SRTCP (its key), and ours.
    receive: Srtcp,
    send: Srtcp,
}

impl Slim {
    pub fn new(password: String, local: &MasterKey, remote: &MasterKey) -> Slim {
        let mut send = Srtcp::new(local);
        send.continue_from(FIRST_OWN_SRTCP_INDEX);
        Slim { password, receive: Srtcp::new(remote), send }
    }

    /// Reads one datagram (or ICE-TCP frame) the player sent from `from`.
    pub fn read(&mut self, data: &[u8], ufrag: &str, from: SocketAddr) -> Result<SlimInput, SlimError> {
        match data.first() {
            Some(0..=3) => Ok(SlimInput::Binding(answer_binding(data, ufrag, &self.password, from)?)),
            Some(20..=63) if data.first() == Some(&DTLS_ALERT) => {
                Ok(SlimInput::Closed("dtls alert from the player"))
            }
            // RTCP's packet types 192-223 where RTP has its payload type (RFC 5761 section 4).
            Some(128..=191) if data.get(1).is_some_and(|pt| (192..=223).contains(pt)) => {
                let plain = self.receive.unprotect(data)?;
                let packets = rtc::rtcp::packet::unmarshal(&mut &plain[..])?;
                if packets.iter().any(|p| p.as_any().is::<Goodbye>()) {
                    return Ok(SlimInput::Closed("rtcp bye from the player"));
                }
                Ok(SlimInput::Rtcp(packets))
            }
            _ => Ok(SlimInput::Ignored),
        }
    }

    /// Our RTCP `packets` (sender reports), marshalled and protected.
    pub fn protect(&mut self, packets: &[Box<dyn rtc::rtcp::Packet>]) -> Result<Vec<u8>, SlimError> {
        let plain = rtc::rtcp::packet::marshal(packets)?;
        Ok(self.send.protect(&plain)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::srtp::Profile;
    use rtc::rtcp::receiver_report::ReceiverReport;
    use rtc::rtcp::sender_report::SenderReport;
    use rtc::rtcp::transport_feedbacks::transport_layer_nack::{NackPair, TransportLayerNack};

    fn key(byte: u8) -> MasterKey {
        MasterKey { profile: Profile::AeadAes128Gcm, key: [byte; 16], salt: [byte; 14] }
    }

    /// The player's side: its SRTCP is our receive key, ours its receive key.
    #[test]
    fn reads_the_players_rtcp_and_protects_ours() {
        let (ours, theirs) = (key(1), key(2));
        let mut slim = Slim::new("pw".to_owned(), &ours, &theirs);
        let mut player_send = Srtcp::new(&theirs);
        let mut player_receive = Srtcp::new(&ours);
        let from: SocketAddr = "127.0.0.1:9".parse().unwrap();

        let nack = TransportLayerNack {
            sender_ssrc: 1,
            media_ssrc: 2,
            nacks: vec![NackPair { packet_id: 100, lost_packets: 0b101 }],
        };
        let rr = ReceiverReport { ssrc: 1, ..Default::default() };
        let packets: Vec<Box<dyn rtc::rtcp::Packet>> = vec![Box::new(rr), Box::new(nack)];
        let datagram = player_send.protect(&rtc::rtcp::packet::marshal(&packets).unwrap()).unwrap();
        match slim.read(&datagram, "ufrag", from).unwrap() {
            SlimInput::Rtcp(got) => {
                assert!(got[0].as_any().is::<ReceiverReport>());
                let nack = got[1].as_any().downcast_ref::<TransportLayerNack>().unwrap();
                assert_eq!(nack.nacks[0].packet_list(), vec![100, 101, 103]);
            }
            _ => panic!("rtcp expected"),
        }
        assert!(slim.read(&datagram, "ufrag", from).is_err(), "a replay is refused");

        let bye: Vec<Box<dyn rtc::rtcp::Packet>> =
            vec![Box::new(Goodbye { sources: vec![1], reason: Default::default() })];
        let datagram = player_send.protect(&rtc::rtcp::packet::marshal(&bye).unwrap()).unwrap();
        assert!(matches!(slim.read(&datagram, "ufrag", from).unwrap(), SlimInput::Closed(_)));
        assert!(matches!(slim.read(&[21, 254, 253, 0, 1], "ufrag", from).unwrap(), SlimInput::Closed(_)));
        assert!(matches!(slim.read(&[23, 254, 253, 0, 1], "ufrag", from).unwrap(), SlimInput::Ignored));
        assert!(slim.read(&[0, 1, 0, 0], "ufrag", from).is_err(), "a broken binding");

        let report: Vec<Box<dyn rtc::rtcp::Packet>> =
            vec![Box::new(SenderReport { ssrc: 5, packet_count: 9, ..Default::default() })];
        let protected = slim.protect(&report).unwrap();
        let plain = player_receive.unprotect(&protected).unwrap();
        let got = rtc::rtcp::packet::unmarshal(&mut &plain[..]).unwrap();
        let got = got[0].as_any().downcast_ref::<SenderReport>().unwrap();
        assert_eq!((got.ssrc, got.packet_count), (5, 9));
    }
}
