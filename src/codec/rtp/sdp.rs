//! The few facts a WebRTC server reads from an SDP offer before building its answer: which media
//! sections there are and which codecs they offer, and which video codec the answer takes (H.264
//! or H.265). The offer/answer itself is the WebRTC stack's.

use crate::media::Codec;

/// Largest offer read (browsers send a few KB).
pub const MAX_SDP: usize = 64 * 1024;

/// What an offer proposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferedCodecs {
    pub video_sections: usize,
    pub audio_sections: usize,
    /// H.264 with packetization mode 1 (the one we packetize).
    pub h264: bool,
    /// H.265 (RFC 7798; we send and take it without DONL, as browsers do).
    pub h265: bool,
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
                if name == "h265" {
                    offered.h265 = true;
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

    /// Why an offer cannot be taken, or `None` when it has H.264 (mode 1), H.265 or Opus.
    pub fn refusal(&self) -> Option<String> {
        if self.video_sections + self.audio_sections == 0 {
            return Some("the offer has no audio or video section".into());
        }
        if !self.h264 && !self.h265 && !self.opus {
            return Some(format!(
                "the offer has no codec the server takes (H.264 packetization-mode=1, H.265 or Opus); it offers: {}",
                self.names()
            ));
        }
        None
    }

    fn names(&self) -> String {
        let names: Vec<&str> = self.payload_types.iter().map(|(_, n)| n.as_str()).collect();
        if names.is_empty() {
            "nothing".to_owned()
        } else {
            names.join(", ")
        }
    }

    /// The video codec a publisher's answer takes: H.264 when offered (every player decodes it),
    /// unless the publisher asks for H.265 (`prefer`, SRS's `codec=hevc` query) and offers it;
    /// H.265 when it is the only one offered. `None`: no video codec we take (audio only).
    pub fn publish_video(&self, prefer: Option<Codec>) -> Option<Codec> {
        match (prefer, self.h264, self.h265) {
            (Some(Codec::H265), _, true) | (_, false, true) => Some(Codec::H265),
            (_, true, _) => Some(Codec::H264),
            _ => None,
        }
    }

    /// The video codec a player's answer takes: the codec of the stream it plays (`stream`,
    /// `None` while nothing is published), which the player must offer, as SRS refuses a player
    /// that cannot decode the stream. With no stream yet: H.264 if offered, else H.265.
    pub fn play_video(&self, stream: Option<Codec>) -> Result<Codec, String> {
        let offers = |codec: Codec| if codec == Codec::H265 { self.h265 } else { self.h264 };
        match stream {
            Some(codec @ (Codec::H264 | Codec::H265)) if self.video_sections > 0 && !offers(codec) => {
                Err(format!(
                    "the stream is {} and the offer has no {} (it offers: {})",
                    codec_name(codec),
                    codec_name(codec),
                    self.names()
                ))
            }
            Some(codec @ (Codec::H264 | Codec::H265)) => Ok(codec),
            _ if !self.h264 && self.h265 => Ok(Codec::H265),
            _ => Ok(Codec::H264),
        }
    }
}

fn codec_name(codec: Codec) -> &'static str {
    if codec == Codec::H265 {
        "H.265"
    } else {
        "H.264 (packetization-mode=1)"
    }
}

/// The video codec a signalling query asks for (SRS's `codec=hevc`, also `h265` / `h264`).
pub fn preferred_video(param: &str) -> Option<Codec> {
    let query = param.strip_prefix('?').unwrap_or(param);
    let value = query.split('&').find_map(|pair| pair.strip_prefix("codec="))?;
    match value.to_ascii_lowercase().as_str() {
        "hevc" | "h265" | "h.265" => Some(Codec::H265),
        "avc" | "h264" | "h.264" => Some(Codec::H264),
        _ => None,
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

    const H265: &str =
        "a=rtpmap:104 H265/90000\r\na=fmtp:104 level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST\r\n";

    #[test]
    fn a_publisher_gets_h264_unless_it_asks_for_h265() {
        let both = OfferedCodecs::of(&format!("{OFFER}{H265}"));
        assert!(both.h264 && both.h265 && both.refusal().is_none());
        assert_eq!(both.publish_video(None), Some(Codec::H264));
        assert_eq!(both.publish_video(preferred_video("?codec=hevc")), Some(Codec::H265));
        assert_eq!(both.publish_video(preferred_video("?a=1&codec=H265")), Some(Codec::H265));
        let only = OfferedCodecs::of(&format!("m=video 9 UDP/TLS/RTP/SAVPF 104\r\n{H265}"));
        assert!(only.refusal().is_none());
        assert_eq!(only.publish_video(None), Some(Codec::H265));
        assert_eq!(only.publish_video(Some(Codec::H264)), Some(Codec::H265));
        let audio = OfferedCodecs::of("m=audio 9 x 111\r\na=rtpmap:111 opus/48000/2\r\n");
        assert_eq!(audio.publish_video(None), None);
        assert_eq!(preferred_video("?codec=vp9"), None);
    }

    #[test]
    fn a_player_gets_the_streams_codec_or_a_reason() {
        let h264_only = OfferedCodecs::of(OFFER);
        let why = h264_only.play_video(Some(Codec::H265)).unwrap_err();
        assert!(why.contains("stream is H.265") && why.contains("h264"), "{why}");
        assert_eq!(h264_only.play_video(Some(Codec::H264)), Ok(Codec::H264));
        assert_eq!(h264_only.play_video(None), Ok(Codec::H264));
        let both = OfferedCodecs::of(&format!("{OFFER}{H265}"));
        assert_eq!(both.play_video(Some(Codec::H265)), Ok(Codec::H265));
        assert_eq!(both.play_video(None), Ok(Codec::H264));
        let only = OfferedCodecs::of(&format!("m=video 9 UDP/TLS/RTP/SAVPF 104\r\n{H265}"));
        assert_eq!(only.play_video(None), Ok(Codec::H265));
        assert!(only.play_video(Some(Codec::H264)).unwrap_err().contains("no H.264"));
        // Audio only: the stream's video is not asked about.
        let audio = OfferedCodecs::of("m=audio 9 x 111\r\na=rtpmap:111 opus/48000/2\r\n");
        assert_eq!(audio.play_video(Some(Codec::H265)), Ok(Codec::H265));
    }
}
