//! The few facts a WebRTC server reads from an SDP offer before building its answer: which media
//! sections there are and which codecs they offer. The offer/answer itself is the WebRTC stack's.

/// Largest offer read (browsers send a few KB).
pub const MAX_SDP: usize = 64 * 1024;

/// What an offer proposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferedCodecs {
    pub video_sections: usize,
    pub audio_sections: usize,
    /// H.264 with packetization mode 1 (the one we packetize).
    pub h264: bool,
    pub opus: bool,
    /// Payload type of every codec offered, with its encoding name in lower case.
    pub payload_types: Vec<(u8, String)>,
}

impl OfferedCodecs {
    /// Reads `a=rtpmap` and `a=fmtp` lines of every `m=` section.
    pub fn of(sdp: &str) -> OfferedCodecs {
        let mut offered = OfferedCodecs::default();
        let mut h264_types = Vec::new();
        for line in sdp.lines().map(str::trim) {
            if let Some(media) = line.strip_prefix("m=") {
                match media.split(' ').next() {
                    Some("video") => offered.video_sections += 1,
                    Some("audio") => offered.audio_sections += 1,
                    _ => {}
                }
            } else if let Some(map) = line.strip_prefix("a=rtpmap:") {
                let Some((pt, encoding)) = map.split_once(' ') else { continue };
                let Ok(pt) = pt.parse::<u8>() else { continue };
                let name = encoding.split('/').next().unwrap_or_default().to_ascii_lowercase();
                if name == "opus" {
                    offered.opus = true;
                }
                if name == "h264" {
                    h264_types.push(pt);
                }
                offered.payload_types.push((pt, name));
            } else if let Some(fmtp) = line.strip_prefix("a=fmtp:") {
                let Some((pt, params)) = fmtp.split_once(' ') else { continue };
                let Ok(pt) = pt.parse::<u8>() else { continue };
                if h264_types.contains(&pt) && params.split(';').any(|p| p.trim() == "packetization-mode=1") {
                    offered.h264 = true;
                }
            }
        }
        offered
    }

    /// Why an offer cannot be taken, or `None` when it has H.264 (mode 1) or Opus.
    pub fn refusal(&self) -> Option<String> {
        if self.video_sections + self.audio_sections == 0 {
            return Some("the offer has no audio or video section".into());
        }
        if !self.h264 && !self.opus {
            let names: Vec<&str> = self.payload_types.iter().map(|(_, n)| n.as_str()).collect();
            return Some(format!(
                "the offer has no codec the server takes (H.264 packetization-mode=1 or Opus); it offers: {}",
                if names.is_empty() { "nothing".to_owned() } else { names.join(", ") }
            ));
        }
        None
    }
}

/// The `a=ice-ufrag` of a description.
pub fn ice_ufrag(sdp: &str) -> Option<&str> {
    sdp.lines().find_map(|line| line.trim().strip_prefix("a=ice-ufrag:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=ice-ufrag:abcd\r\na=rtpmap:111 opus/48000/2\r\n\
        a=rtpmap:0 PCMU/8000\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 102\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:102 H264/90000\r\n\
        a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";

    #[test]
    fn reads_codecs_and_ufrag() {
        let offered = OfferedCodecs::of(OFFER);
        assert!(offered.h264 && offered.opus);
        assert_eq!((offered.audio_sections, offered.video_sections), (1, 1));
        assert_eq!(offered.refusal(), None);
        assert_eq!(ice_ufrag(OFFER), Some("abcd"));
    }

    #[test]
    fn refuses_offers_without_our_codecs() {
        let vp8_only = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
        let why = OfferedCodecs::of(vp8_only).refusal().unwrap();
        assert!(why.contains("no codec") && why.contains("vp8"), "{why}");
        let mode0 = "m=video 9 x 97\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 packetization-mode=0\r\n";
        assert!(OfferedCodecs::of(mode0).refusal().is_some());
        assert!(OfferedCodecs::of("v=0\r\n").refusal().unwrap().contains("no audio or video"));
    }
}
