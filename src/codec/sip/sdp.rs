//! The SDP of a GB28181 INVITE and its answer: one `m=video` line with PS at 90 kHz over RTP
//! (UDP `RTP/AVP` or TCP `TCP/RTP/AVP`), and GB28181's `y=` line carrying the SSRC as 10
//! decimal digits.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTransport {
    Udp,
    Tcp,
}

/// What one side says about the media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaOffer {
    /// `o=` user: the sender's GB28181 id.
    pub id: String,
    /// `c=` address.
    pub ip: String,
    pub port: u16,
    pub transport: MediaTransport,
    /// `a=recvonly` from the server, `a=sendonly` from the device.
    pub direction: &'static str,
    /// The `y=` string.
    pub ssrc: String,
}

impl MediaOffer {
    pub fn write(&self) -> String {
        let proto = match self.transport {
            MediaTransport::Udp => "RTP/AVP",
            MediaTransport::Tcp => "TCP/RTP/AVP",
        };
        let mut sdp = format!(
            "v=0\r\no={id} 0 0 IN IP4 {ip}\r\ns=Play\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=video {port} {proto} 96\r\n\
             a={direction}\r\na=rtpmap:96 PS/90000\r\n",
            id = self.id,
            ip = self.ip,
            port = self.port,
            direction = self.direction
        );
        if self.transport == MediaTransport::Tcp {
            // RFC 4145: the server accepts (passive), the device connects (active).
            let setup = if self.direction == "recvonly" { "passive" } else { "active" };
            sdp.push_str(&format!("a=setup:{setup}\r\na=connection:new\r\n"));
        }
        sdp.push_str(&format!("y={}\r\n", self.ssrc));
        sdp
    }

    /// Reads the fields above; `None` if the video line, address or `y=` is missing.
    pub fn parse(sdp: &str) -> Option<MediaOffer> {
        let (mut id, mut ip, mut media, mut ssrc, mut direction) = (None, None, None, None, "sendrecv");
        for line in sdp.lines().map(str::trim) {
            if let Some(origin) = line.strip_prefix("o=") {
                id = origin.split_whitespace().next().map(str::to_owned);
            } else if let Some(connection) = line.strip_prefix("c=") {
                ip = connection.split_whitespace().nth(2).map(str::to_owned);
            } else if let Some(m) = line.strip_prefix("m=video ") {
                let mut parts = m.split_whitespace();
                let port = parts.next().and_then(|p| p.parse::<u16>().ok());
                let transport = match parts.next() {
                    Some(proto) if proto.to_ascii_uppercase().starts_with("TCP/") => MediaTransport::Tcp,
                    _ => MediaTransport::Udp,
                };
                media = port.map(|port| (port, transport));
            } else if let Some(y) = line.strip_prefix("y=") {
                ssrc = Some(y.trim().to_owned());
            } else if let Some(a) = line.strip_prefix("a=") {
                if let Some(d) = ["recvonly", "sendonly", "sendrecv"].into_iter().find(|d| *d == a) {
                    direction = d;
                }
            }
        }
        let (port, transport) = media?;
        Some(MediaOffer { id: id.unwrap_or_default(), ip: ip?, port, transport, direction, ssrc: ssrc? })
    }

    /// The SSRC as RTP carries it.
    pub fn ssrc_value(&self) -> Option<u32> {
        self.ssrc.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_round_trip_with_the_y_line() {
        let offer = MediaOffer {
            id: "34020000002000000001".into(),
            ip: "127.0.0.1".into(),
            port: 9000,
            transport: MediaTransport::Tcp,
            direction: "recvonly",
            ssrc: "0200001234".into(),
        };
        let text = offer.write();
        assert!(text.contains("m=video 9000 TCP/RTP/AVP 96\r\n"));
        assert!(text.contains("a=rtpmap:96 PS/90000\r\n"));
        assert!(text.contains("y=0200001234\r\n"));
        let parsed = MediaOffer::parse(&text).unwrap();
        assert_eq!(parsed, offer);
        assert_eq!(parsed.ssrc_value(), Some(200_001_234));
        assert!(MediaOffer::parse("v=0\r\nm=video 9000 RTP/AVP 96\r\n").is_none());
    }
}
