//! DTLS handshake flights as one side of a WebRTC session sends them (RFC 6347 §4.2.4), read from
//! the datagrams' record and handshake headers only (nothing is decrypted): which datagrams open a
//! flight, and which open one already sent, i.e. a retransmission. The UDP worker and the bench's
//! players count them per session, to tell a handshake that lost a flight (and waited a
//! retransmission timer, 1 s in the `rtc` crate) from one that was merely slow.
//!
//! A flight is recognised by its first message: ClientHello (flights 1 and 3: the second carries
//! the cookie and a new `message_seq`), HelloVerifyRequest (2), ServerHello (4). Flights 5 and 6
//! end in the one ChangeCipherSpec record of each transmission (their Finished is encrypted).

/// Record header: type, version, epoch, sequence number, length.
const RECORD_HEADER: usize = 13;
/// Handshake header: type, length, message_seq, fragment offset, fragment length.
const HANDSHAKE_HEADER: usize = 12;
const CHANGE_CIPHER_SPEC: u8 = 20;
const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const HELLO_VERIFY_REQUEST: u8 = 3;
/// Distinct flight openers remembered per direction (a handshake has at most four: two
/// ClientHellos, or HelloVerifyRequest and ServerHello, besides the ChangeCipherSpec).
const MAX_OPENERS: usize = 4;

/// What opens a flight: a handshake message (its type and `message_seq`) or ChangeCipherSpec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opener {
    Message { kind: u8, sequence: u16 },
    ChangeCipherSpec,
}

/// The flight opener a datagram carries, if any. Records past a truncated one are not read.
fn opener(datagram: &[u8]) -> Option<Opener> {
    let mut rest = datagram;
    while rest.len() >= RECORD_HEADER {
        let content = rest[0];
        let epoch = u16::from_be_bytes([rest[3], rest[4]]);
        let length = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
        let body = rest.get(RECORD_HEADER..RECORD_HEADER + length)?;
        match content {
            CHANGE_CIPHER_SPEC => return Some(Opener::ChangeCipherSpec),
            HANDSHAKE if epoch == 0 && body.len() >= HANDSHAKE_HEADER => {
                let kind = body[0];
                let sequence = u16::from_be_bytes([body[4], body[5]]);
                let offset = u32::from_be_bytes([0, body[6], body[7], body[8]]);
                if offset == 0 && matches!(kind, CLIENT_HELLO | SERVER_HELLO | HELLO_VERIFY_REQUEST) {
                    return Some(Opener::Message { kind, sequence });
                }
            }
            _ => {}
        }
        rest = &rest[RECORD_HEADER + length..];
    }
    None
}

/// What one datagram was to the flights of its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlightEvent {
    /// It opens a flight not sent before.
    New,
    /// It opens a flight sent before: a retransmission.
    Repeat,
}

/// The flights one side sent, counted from its DTLS datagrams.
#[derive(Debug, Default, Clone)]
pub struct FlightLog {
    openers: Vec<Opener>,
    /// Flights sent (first transmissions), and the retransmissions of any of them.
    pub flights: u32,
    pub repeats: u32,
}

impl FlightLog {
    /// Reads one DTLS datagram of this direction; `None` when it opens no flight (a later
    /// datagram of a flight, application data, an alert, or bytes that are not DTLS).
    pub fn observe(&mut self, datagram: &[u8]) -> Option<FlightEvent> {
        let opener = opener(datagram)?;
        if self.openers.contains(&opener) {
            self.repeats = self.repeats.saturating_add(1);
            return Some(FlightEvent::Repeat);
        }
        if self.openers.len() < MAX_OPENERS {
            self.openers.push(opener);
        }
        self.flights = self.flights.saturating_add(1);
        Some(FlightEvent::New)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(content: u8, epoch: u16, body: &[u8]) -> Vec<u8> {
        let mut out = vec![content, 0xfe, 0xfd];
        out.extend_from_slice(&epoch.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 7]);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn handshake(kind: u8, sequence: u16, offset: u32) -> Vec<u8> {
        let mut body = vec![kind, 0, 0, 4];
        body.extend_from_slice(&sequence.to_be_bytes());
        body.extend_from_slice(&offset.to_be_bytes()[1..]);
        body.extend_from_slice(&[0, 0, 4, 1, 2, 3, 4]);
        record(HANDSHAKE, 0, &body)
    }

    /// The client's side of a handshake with a cookie exchange, where flight 5 was lost once.
    #[test]
    fn counts_a_clients_flights_and_a_resent_flight_5() {
        let mut log = FlightLog::default();
        assert_eq!(log.observe(&handshake(CLIENT_HELLO, 0, 0)), Some(FlightEvent::New));
        assert_eq!(log.observe(&handshake(CLIENT_HELLO, 1, 0)), Some(FlightEvent::New), "flight 3");
        // Flight 5: Certificate, then ClientKeyExchange + CertificateVerify + CCS + Finished.
        assert_eq!(log.observe(&handshake(11, 2, 0)), None);
        let mut tail = handshake(16, 3, 0);
        tail.extend(record(CHANGE_CIPHER_SPEC, 0, &[1]));
        tail.extend(record(HANDSHAKE, 1, &[9; 40]));
        assert_eq!(log.observe(&tail), Some(FlightEvent::New));
        assert_eq!(log.observe(&tail), Some(FlightEvent::Repeat), "flight 5 again");
        assert_eq!(log.observe(&record(23, 1, &[5; 30])), None, "application data");
        assert_eq!((log.flights, log.repeats), (3, 1));
    }

    #[test]
    fn a_resent_server_hello_is_a_repeat_and_later_fragments_are_not_openers() {
        let mut log = FlightLog::default();
        assert_eq!(log.observe(&handshake(HELLO_VERIFY_REQUEST, 0, 0)), Some(FlightEvent::New));
        let mut flight4 = handshake(SERVER_HELLO, 1, 0);
        flight4.extend(handshake(11, 2, 0));
        assert_eq!(log.observe(&flight4), Some(FlightEvent::New));
        assert_eq!(log.observe(&handshake(11, 2, 600)), None, "a later fragment");
        assert_eq!(log.observe(&flight4), Some(FlightEvent::Repeat));
        assert_eq!((log.flights, log.repeats), (2, 1));
    }

    #[test]
    fn truncated_and_foreign_bytes_open_nothing() {
        let mut log = FlightLog::default();
        let whole = handshake(CLIENT_HELLO, 0, 0);
        for cut in 0..whole.len() {
            assert_eq!(log.observe(&whole[..cut]), None, "cut at {cut}");
        }
        assert_eq!(log.observe(&[0x80; 40]), None);
        // An encrypted handshake record (epoch 1) is never read as an opener.
        assert_eq!(log.observe(&record(HANDSHAKE, 1, &handshake(CLIENT_HELLO, 0, 0)[13..])), None);
        assert_eq!((log.flights, log.repeats), (0, 0));
    }
}
