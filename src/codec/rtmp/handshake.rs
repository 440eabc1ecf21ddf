//! The RTMP handshake, both roles, as byte-in/byte-out state machines.
//!
//! The server accepts the simple handshake (C1 version field zero: S2 echoes C1) and the Flash complex
//! handshake (C1 carries an HMAC digest in scheme 0 or 1: S1 gets our own digest, S2 the signature ffmpeg,
//! librtmp, OBS and Flash check). A C1 whose digest does not verify falls back to the simple answer, as
//! SRS does. C2 is read but not verified: no client depends on that and SRS does not either.
//! The client does either handshake and, in complex mode, verifies S1 and S2 the way ffmpeg does.
//! Neither role reads a clock or a random source: the caller gives a seed and a time value.

use bytes::{Bytes, BytesMut};

use super::digest::{self, DigestScheme, Signer, HANDSHAKE_SIZE};
use super::error::RtmpError;

/// The only plain RTMP version (6 would be RTMPE, which neither SRS nor we support).
const RTMP_VERSION: u8 = 3;
/// The version our server puts in S1; any non-zero value tells clients it speaks the complex handshake.
const SERVER_VERSION: [u8; 4] = [0x04, 0x05, 0x00, 0x01];
/// The version our client puts in C1, the Flash Player version ffmpeg announces.
const CLIENT_VERSION: [u8; 4] = [0x09, 0x00, 0x7c, 0x02];

/// What one call to a handshake's `handle_input` produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HandshakeProgress {
    /// Bytes to send to the peer now (possibly empty).
    pub send: Bytes,
    /// `Some` once the handshake is over: the bytes received after it, which belong to the chunk stream.
    pub finished: Option<Bytes>,
}

/// Which handshake the server ended up answering, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeKind {
    Simple,
    Complex(DigestScheme),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    AwaitC0C1,
    AwaitC2,
    Done,
    Failed,
}

/// The server side: reads C0+C1, answers S0+S1+S2, reads C2.
#[derive(Debug)]
pub struct ServerHandshake {
    state: ServerState,
    received: BytesMut,
    seed: u64,
    time: u32,
    kind: Option<HandshakeKind>,
}

impl Default for ServerHandshake {
    fn default() -> Self {
        ServerHandshake::new(0x5eed, 0)
    }
}

impl ServerHandshake {
    /// `seed` varies the filler bytes between connections; `time_millis` goes in S1's time field.
    pub fn new(seed: u64, time_millis: u32) -> Self {
        ServerHandshake {
            state: ServerState::AwaitC0C1,
            received: BytesMut::new(),
            seed,
            time: time_millis,
            kind: None,
        }
    }

    /// The handshake answered, once C1 has been read.
    pub fn kind(&self) -> Option<HandshakeKind> {
        self.kind
    }

    pub fn handle_input(&mut self, data: &[u8]) -> Result<HandshakeProgress, RtmpError> {
        if matches!(self.state, ServerState::Done | ServerState::Failed) {
            return Err(RtmpError::HandshakeState);
        }
        self.received.extend_from_slice(data);
        let mut progress = HandshakeProgress::default();
        if self.state == ServerState::AwaitC0C1 {
            if self.received.is_empty() {
                return Ok(progress);
            }
            if self.received[0] != RTMP_VERSION {
                self.state = ServerState::Failed;
                return Err(RtmpError::HandshakeVersion(self.received[0]));
            }
            if self.received.len() < 1 + HANDSHAKE_SIZE {
                return Ok(progress);
            }
            let c0c1 = self.received.split_to(1 + HANDSHAKE_SIZE);
            let mut c1 = [0u8; HANDSHAKE_SIZE];
            c1.copy_from_slice(&c0c1[1..]);
            progress.send = self.answer(&c1);
            self.state = ServerState::AwaitC2;
        }
        if self.state == ServerState::AwaitC2 && self.received.len() >= HANDSHAKE_SIZE {
            let _c2 = self.received.split_to(HANDSHAKE_SIZE);
            self.state = ServerState::Done;
            progress.finished = Some(std::mem::take(&mut self.received).freeze());
        }
        Ok(progress)
    }

    /// S0 + S1 + S2 for this C1.
    fn answer(&mut self, c1: &[u8; HANDSHAKE_SIZE]) -> Bytes {
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        let mut s2 = [0u8; HANDSHAKE_SIZE];
        digest::fill_noise(&mut s1, self.seed);
        digest::fill_noise(&mut s2, self.seed.rotate_left(17) ^ 0x9e37_79b9);
        s1[..4].copy_from_slice(&self.time.to_be_bytes());
        let client_digest =
            if c1[4..8] == [0; 4] { None } else { digest::find_digest(c1, Signer::FlashPlayer) };
        match client_digest {
            Some((scheme, c1_digest)) => {
                self.kind = Some(HandshakeKind::Complex(scheme));
                s1[4..8].copy_from_slice(&SERVER_VERSION);
                digest::sign_packet(&mut s1, scheme, Signer::FlashMediaServer);
                digest::sign_response(&mut s2, &c1_digest, Signer::FlashMediaServer);
            }
            None => {
                self.kind = Some(HandshakeKind::Simple);
                s1[4..8].copy_from_slice(&[0; 4]);
                s2 = *c1;
            }
        }
        let mut out = BytesMut::with_capacity(1 + 2 * HANDSHAKE_SIZE);
        out.extend_from_slice(&[RTMP_VERSION]);
        out.extend_from_slice(&s1);
        out.extend_from_slice(&s2);
        out.freeze()
    }
}

/// Which handshake our client performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientHandshakeMode {
    Simple,
    /// Digest scheme 1 like ffmpeg; S1 and S2 are verified.
    #[default]
    Complex,
}

/// The client side: sends C0+C1, reads S0+S1+S2, sends C2.
#[derive(Debug)]
pub struct ClientHandshake {
    mode: ClientHandshakeMode,
    c1_digest: [u8; digest::DIGEST_SIZE],
    received: BytesMut,
    seed: u64,
    done: bool,
}

impl ClientHandshake {
    /// Returns the handshake and the C0+C1 bytes to send first.
    pub fn start(mode: ClientHandshakeMode, seed: u64, time_millis: u32) -> (ClientHandshake, Bytes) {
        let mut c1 = [0u8; HANDSHAKE_SIZE];
        digest::fill_noise(&mut c1, seed);
        c1[..4].copy_from_slice(&time_millis.to_be_bytes());
        let mut c1_digest = [0u8; digest::DIGEST_SIZE];
        match mode {
            ClientHandshakeMode::Simple => c1[4..8].copy_from_slice(&[0; 4]),
            ClientHandshakeMode::Complex => {
                c1[4..8].copy_from_slice(&CLIENT_VERSION);
                c1_digest = digest::sign_packet(&mut c1, DigestScheme::DigestFirst, Signer::FlashPlayer);
            }
        }
        let mut out = BytesMut::with_capacity(1 + HANDSHAKE_SIZE);
        out.extend_from_slice(&[RTMP_VERSION]);
        out.extend_from_slice(&c1);
        let handshake = ClientHandshake { mode, c1_digest, received: BytesMut::new(), seed, done: false };
        (handshake, out.freeze())
    }

    pub fn handle_input(&mut self, data: &[u8]) -> Result<HandshakeProgress, RtmpError> {
        if self.done {
            return Err(RtmpError::HandshakeState);
        }
        self.received.extend_from_slice(data);
        if let Some(&version) = self.received.first() {
            if version != RTMP_VERSION {
                return Err(RtmpError::HandshakeVersion(version));
            }
        }
        if self.received.len() < 1 + 2 * HANDSHAKE_SIZE {
            return Ok(HandshakeProgress::default());
        }
        let s0s1s2 = self.received.split_to(1 + 2 * HANDSHAKE_SIZE);
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        s1.copy_from_slice(&s0s1s2[1..1 + HANDSHAKE_SIZE]);
        let mut s2 = [0u8; HANDSHAKE_SIZE];
        s2.copy_from_slice(&s0s1s2[1 + HANDSHAKE_SIZE..]);
        let mut c2 = s1;
        // A server answering with a zero version speaks the simple handshake even to a complex C1.
        if self.mode == ClientHandshakeMode::Complex && s1[4..8] != [0; 4] {
            let (_, s1_digest) =
                digest::find_digest(&s1, Signer::FlashMediaServer).ok_or(RtmpError::HandshakeDigest)?;
            let expected = digest::response_signature(&s2, &self.c1_digest, Signer::FlashMediaServer);
            if s2[HANDSHAKE_SIZE - digest::DIGEST_SIZE..] != expected {
                return Err(RtmpError::HandshakeDigest);
            }
            digest::fill_noise(&mut c2, self.seed ^ 0xc2);
            digest::sign_response(&mut c2, &s1_digest, Signer::FlashPlayer);
        }
        self.done = true;
        Ok(HandshakeProgress {
            send: Bytes::copy_from_slice(&c2),
            finished: Some(std::mem::take(&mut self.received).freeze()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a client and a server handshake against each other, `step` bytes at a time.
    fn run(mode: ClientHandshakeMode, step: usize) -> (ServerHandshake, Bytes, Bytes) {
        let (mut client, c0c1) = ClientHandshake::start(mode, 7, 1000);
        let mut server = ServerHandshake::new(11, 2000);
        let mut server_output = BytesMut::new();
        for piece in c0c1.chunks(step) {
            server_output.extend_from_slice(&server.handle_input(piece).unwrap().send);
        }
        assert_eq!(server_output.len(), 1 + 2 * HANDSHAKE_SIZE);
        let mut client_finished = None;
        let mut c2 = BytesMut::new();
        for piece in server_output.chunks(step) {
            let progress = client.handle_input(piece).unwrap();
            c2.extend_from_slice(&progress.send);
            client_finished = client_finished.or(progress.finished);
        }
        assert_eq!(client_finished.unwrap().len(), 0);
        // The client's first chunk-stream bytes travel with C2: they must come back as leftover.
        c2.extend_from_slice(b"next");
        let finished = server.handle_input(&c2).unwrap().finished.unwrap();
        (server, server_output.freeze(), finished)
    }

    #[test]
    fn simple_handshake_echoes_c1_and_returns_the_leftover() {
        let (server, s0s1s2, leftover) = run(ClientHandshakeMode::Simple, 100);
        assert_eq!(server.kind(), Some(HandshakeKind::Simple));
        let (_, c0c1) = ClientHandshake::start(ClientHandshakeMode::Simple, 7, 1000);
        assert_eq!(&s0s1s2[1 + HANDSHAKE_SIZE..], &c0c1[1..]);
        assert_eq!(&s0s1s2[1..5], &2000u32.to_be_bytes());
        assert_eq!(&leftover[..], b"next");
    }

    #[test]
    fn complex_handshake_signs_s1_and_s2_as_the_client_verifies() {
        let (server, s0s1s2, leftover) = run(ClientHandshakeMode::Complex, 1537);
        assert_eq!(server.kind(), Some(HandshakeKind::Complex(DigestScheme::DigestFirst)));
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        s1.copy_from_slice(&s0s1s2[1..1 + HANDSHAKE_SIZE]);
        assert_eq!(
            digest::find_digest(&s1, Signer::FlashMediaServer).map(|f| f.0),
            Some(DigestScheme::DigestFirst)
        );
        assert_eq!(&leftover[..], b"next");
    }

    #[test]
    fn complex_c1_in_scheme_0_is_answered_in_scheme_0() {
        let mut c1 = [0u8; HANDSHAKE_SIZE];
        digest::fill_noise(&mut c1, 3);
        c1[4..8].copy_from_slice(&CLIENT_VERSION);
        digest::sign_packet(&mut c1, DigestScheme::KeyFirst, Signer::FlashPlayer);
        let mut server = ServerHandshake::default();
        let mut c0c1 = vec![3];
        c0c1.extend_from_slice(&c1);
        let progress = server.handle_input(&c0c1).unwrap();
        assert_eq!(server.kind(), Some(HandshakeKind::Complex(DigestScheme::KeyFirst)));
        let mut s1 = [0u8; HANDSHAKE_SIZE];
        s1.copy_from_slice(&progress.send[1..1 + HANDSHAKE_SIZE]);
        assert_eq!(
            digest::find_digest(&s1, Signer::FlashMediaServer).map(|f| f.0),
            Some(DigestScheme::KeyFirst)
        );
    }

    #[test]
    fn non_zero_version_without_a_valid_digest_falls_back_to_simple() {
        let mut c0c1 = vec![3u8; 1 + HANDSHAKE_SIZE];
        c0c1[5..9].copy_from_slice(&CLIENT_VERSION);
        let mut server = ServerHandshake::default();
        let progress = server.handle_input(&c0c1).unwrap();
        assert_eq!(server.kind(), Some(HandshakeKind::Simple));
        assert_eq!(&progress.send[1 + HANDSHAKE_SIZE..], &c0c1[1..]);
    }

    #[test]
    fn wrong_version_and_reuse_are_errors_and_truncation_just_waits() {
        let mut server = ServerHandshake::default();
        assert_eq!(server.handle_input(b"GET / HTTP/1.1\r\n"), Err(RtmpError::HandshakeVersion(b'G')));
        assert_eq!(server.handle_input(&[3]), Err(RtmpError::HandshakeState));
        let mut server = ServerHandshake::default();
        let progress = server.handle_input(&[3; 1000]).unwrap();
        assert_eq!(progress, HandshakeProgress::default());
    }

    #[test]
    fn client_rejects_a_forged_complex_answer() {
        let (mut client, _) = ClientHandshake::start(ClientHandshakeMode::Complex, 1, 0);
        let mut forged = vec![3u8; 1 + 2 * HANDSHAKE_SIZE];
        forged[5] = 1;
        assert_eq!(client.handle_input(&forged), Err(RtmpError::HandshakeDigest));
    }
}
