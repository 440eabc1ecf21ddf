//! Media playlists as text: SRS's live layout (`#EXTM3U`, version, media sequence, target
//! duration, `#EXTINF:<s.mmm>, no desc`), with the fMP4 map, Low-Latency HLS tags and the VOD end.
//!
//! The writer formats what it is given; which segments are listed, their durations and the target
//! duration are the caller's (see [`target_duration`] for SRS's rule).

use std::time::Duration;

use super::encryption::key_line;

/// Low-Latency HLS settings shown in the playlist header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowLatencyInfo {
    pub part_target: Duration,
    /// How far from the live edge players should start (at least 2 × part target by the spec).
    pub part_hold_back: Duration,
}

impl LowLatencyInfo {
    /// The header for parts of `part_target`: PART-HOLD-BACK is the spec's floor, two part
    /// targets. hls.js (low-latency mode) aims at exactly that distance from the live edge it
    /// estimates, but its first playlist's newest part may already be up to one part old and it
    /// starts only after loading from the last independent part: measured in Chromium it plays
    /// 0.3–0.7 s behind its aim, so two parts (1 s for 0.5 s parts) give 1.3–1.7 s where three
    /// gave 1.8–2.3 s, with no stall seen either way (`tests/hls_player.rs`).
    pub fn for_part_target(part_target: Duration) -> LowLatencyInfo {
        LowLatencyInfo { part_target, part_hold_back: part_target * 2 }
    }
}

/// One partial segment (LL-HLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistPart {
    pub duration: Duration,
    pub uri: String,
    /// The part starts with a frame a decoder can start from.
    pub independent: bool,
}

/// The AES-128 key a segment is encrypted with (`#EXT-X-KEY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistKey {
    pub uri: String,
    pub iv: [u8; 16],
}

/// One media segment, complete (`uri` set) or still in progress (parts only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlaylistEntry {
    pub discontinuity: bool,
    /// fMP4 initialization segment; written as `#EXT-X-MAP` when it differs from the previous entry's.
    pub map_uri: Option<String>,
    /// Encryption key; `#EXT-X-KEY` is written when it differs from the previous entry's (a key
    /// line holds for every segment after it, so the first listed segment always gets one).
    pub key: Option<PlaylistKey>,
    pub duration: Duration,
    /// `None` for the segment being written (LL-HLS lists its parts only).
    pub uri: Option<String>,
    pub parts: Vec<PlaylistPart>,
}

/// A media playlist.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaPlaylist {
    /// 3 for TS as SRS writes it; 7 for fMP4 (`#EXT-X-MAP` needs 6 or later).
    pub version: u8,
    pub media_sequence: u64,
    /// Discontinuities before the first listed segment; written only when not zero (SRS never
    /// writes it, so its playlists stay byte for byte until a discontinuity leaves the window).
    pub discontinuity_sequence: u64,
    pub target_duration: u64,
    pub low_latency: Option<LowLatencyInfo>,
    pub entries: Vec<PlaylistEntry>,
    /// LL-HLS: the part the server will publish next.
    pub preload_hint: Option<String>,
    /// A finished (VOD) playlist: `#EXT-X-PLAYLIST-TYPE:VOD` and `#EXT-X-ENDLIST`.
    pub vod: bool,
}

/// SRS's EXT-X-TARGETDURATION: whole seconds, rounded up, of the longest listed segment or of
/// `max_td` (hls_fragment × hls_td_ratio), whichever is longer.
pub fn target_duration<'a>(durations: impl IntoIterator<Item = &'a Duration>, max_td: Duration) -> u64 {
    let longest = durations.into_iter().copied().fold(max_td, Duration::max);
    let millis = longest.as_millis() as u64;
    millis.div_ceil(1000)
}

/// Seconds with three decimals, from whole milliseconds so nothing depends on float rounding.
fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

impl MediaPlaylist {
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(128 + 64 * self.entries.len());
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        line("#EXTM3U".into());
        line(format!("#EXT-X-VERSION:{}", self.version));
        if self.vod {
            line("#EXT-X-PLAYLIST-TYPE:VOD".into());
        }
        line(format!("#EXT-X-MEDIA-SEQUENCE:{}", self.media_sequence));
        if self.discontinuity_sequence > 0 {
            line(format!("#EXT-X-DISCONTINUITY-SEQUENCE:{}", self.discontinuity_sequence));
        }
        line(format!("#EXT-X-TARGETDURATION:{}", self.target_duration));
        if let Some(ll) = &self.low_latency {
            line(format!(
                "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={}",
                seconds(ll.part_hold_back)
            ));
            line(format!("#EXT-X-PART-INF:PART-TARGET={}", seconds(ll.part_target)));
        }
        let mut current_map: Option<&str> = None;
        let mut current_key: Option<&PlaylistKey> = None;
        for entry in &self.entries {
            if entry.discontinuity {
                line("#EXT-X-DISCONTINUITY".into());
            }
            if entry.key.as_ref() != current_key {
                match &entry.key {
                    Some(key) => line(key_line(&key.uri, &key.iv)),
                    None => line("#EXT-X-KEY:METHOD=NONE".into()),
                }
                current_key = entry.key.as_ref();
            }
            if let Some(map) = entry.map_uri.as_deref().filter(|map| current_map != Some(*map)) {
                line(format!("#EXT-X-MAP:URI=\"{map}\""));
                current_map = Some(map);
            }
            for part in &entry.parts {
                let mut text =
                    format!("#EXT-X-PART:DURATION={},URI=\"{}\"", seconds(part.duration), part.uri);
                if part.independent {
                    text.push_str(",INDEPENDENT=YES");
                }
                line(text);
            }
            if let Some(uri) = &entry.uri {
                line(format!("#EXTINF:{}, no desc", seconds(entry.duration)));
                line(uri.clone());
            }
        }
        if let Some(hint) = &self.preload_hint {
            line(format!("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{hint}\""));
        }
        if self.vod {
            line("#EXT-X-ENDLIST".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn entry(uri: &str, millis: u64, discontinuity: bool) -> PlaylistEntry {
        PlaylistEntry { discontinuity, duration: ms(millis), uri: Some(uri.into()), ..Default::default() }
    }

    #[test]
    fn live_ts_playlist_as_srs_writes_it() {
        let playlist = MediaPlaylist {
            version: 3,
            media_sequence: 5,
            target_duration: target_duration([ms(2040), ms(1960)].iter(), ms(2000)),
            entries: vec![entry("livestream-5.ts", 2040, true), entry("livestream-6.ts", 1960, false)],
            ..Default::default()
        };
        assert_eq!(
            playlist.to_text(),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-TARGETDURATION:3\n\
             #EXT-X-DISCONTINUITY\n#EXTINF:2.040, no desc\nlivestream-5.ts\n\
             #EXTINF:1.960, no desc\nlivestream-6.ts\n"
        );
    }

    #[test]
    fn target_duration_rounds_up_the_longest_or_the_threshold() {
        assert_eq!(target_duration([ms(9_000)].iter(), ms(10_000)), 10);
        assert_eq!(target_duration([ms(10_001)].iter(), ms(10_000)), 11);
        assert_eq!(target_duration([].iter(), ms(1_500)), 2);
    }

    #[test]
    fn fmp4_playlist_repeats_the_map_only_when_it_changes() {
        let mut first = entry("s-1.m4s", 2000, true);
        first.map_uri = Some("s-init-0.mp4".into());
        let mut second = entry("s-2.m4s", 2000, false);
        second.map_uri = Some("s-init-0.mp4".into());
        let mut third = entry("s-3.m4s", 1000, true);
        third.map_uri = Some("s-init-1.mp4".into());
        let playlist = MediaPlaylist {
            version: 7,
            media_sequence: 1,
            target_duration: 2,
            entries: vec![first, second, third],
            ..Default::default()
        };
        assert_eq!(
            playlist.to_text(),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"s-init-0.mp4\"\n#EXTINF:2.000, no desc\ns-1.m4s\n\
             #EXTINF:2.000, no desc\ns-2.m4s\n\
             #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"s-init-1.mp4\"\n#EXTINF:1.000, no desc\ns-3.m4s\n"
        );
    }

    #[test]
    fn low_latency_playlist_has_parts_and_a_preload_hint() {
        let part = |uri: &str, independent| PlaylistPart { duration: ms(480), uri: uri.into(), independent };
        let mut done = entry("s-7.m4s", 960, false);
        done.map_uri = Some("s-init-0.mp4".into());
        done.parts = vec![part("s-7.0.m4s", true), part("s-7.1.m4s", false)];
        let open = PlaylistEntry {
            map_uri: Some("s-init-0.mp4".into()),
            parts: vec![part("s-8.0.m4s", true)],
            ..Default::default()
        };
        let playlist = MediaPlaylist {
            version: 7,
            media_sequence: 7,
            target_duration: 1,
            low_latency: Some(LowLatencyInfo { part_target: ms(500), part_hold_back: ms(1500) }),
            entries: vec![done, open],
            preload_hint: Some("s-8.1.m4s".into()),
            vod: false,
            discontinuity_sequence: 0,
        };
        assert_eq!(
            playlist.to_text(),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-TARGETDURATION:1\n\
             #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500\n\
             #EXT-X-PART-INF:PART-TARGET=0.500\n\
             #EXT-X-MAP:URI=\"s-init-0.mp4\"\n\
             #EXT-X-PART:DURATION=0.480,URI=\"s-7.0.m4s\",INDEPENDENT=YES\n\
             #EXT-X-PART:DURATION=0.480,URI=\"s-7.1.m4s\"\n\
             #EXTINF:0.960, no desc\ns-7.m4s\n\
             #EXT-X-PART:DURATION=0.480,URI=\"s-8.0.m4s\",INDEPENDENT=YES\n\
             #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s-8.1.m4s\"\n"
        );
    }

    #[test]
    fn part_hold_back_is_two_part_targets() {
        let playlist = MediaPlaylist {
            version: 7,
            target_duration: 2,
            low_latency: Some(LowLatencyInfo::for_part_target(ms(500))),
            ..Default::default()
        };
        let text = playlist.to_text();
        let header: Vec<&str> = text.lines().filter(|l| l.starts_with("#EXT-X-SERVER-CONTROL")).collect();
        assert_eq!(header, ["#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.000"]);
        assert!(text.contains("#EXT-X-PART-INF:PART-TARGET=0.500\n"), "{text}");
        let odd = LowLatencyInfo::for_part_target(ms(333));
        assert_eq!(odd.part_hold_back, ms(666));
    }

    #[test]
    fn encrypted_playlist_names_each_key_once_and_on_the_first_segment() {
        let key = |seq: u8| PlaylistKey { uri: format!("s-{seq}.key"), iv: [seq; 16] };
        let keyed = |uri: &str, seq: u8, discontinuity| PlaylistEntry {
            key: Some(key(seq)),
            ..entry(uri, 2000, discontinuity)
        };
        // Five segments per key: s-3 and s-4 share the key of s-0 (out of the window), s-5 starts a new one.
        let playlist = MediaPlaylist {
            version: 3,
            media_sequence: 3,
            target_duration: 2,
            entries: vec![keyed("s-3.ts", 0, false), keyed("s-4.ts", 0, false), keyed("s-5.ts", 5, true)],
            ..Default::default()
        };
        assert_eq!(
            playlist.to_text(),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-TARGETDURATION:2\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"s-0.key\",IV=0x00000000000000000000000000000000\n\
             #EXTINF:2.000, no desc\ns-3.ts\n#EXTINF:2.000, no desc\ns-4.ts\n\
             #EXT-X-DISCONTINUITY\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"s-5.key\",IV=0x05050505050505050505050505050505\n\
             #EXTINF:2.000, no desc\ns-5.ts\n"
        );
    }

    #[test]
    fn vod_playlist_ends_with_endlist() {
        let playlist = MediaPlaylist {
            version: 3,
            media_sequence: 0,
            target_duration: 10,
            entries: vec![entry("a-0.ts", 10_000, false), entry("a-1.ts", 3_500, false)],
            vod: true,
            ..Default::default()
        };
        assert_eq!(
            playlist.to_text(),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-TARGETDURATION:10\n#EXTINF:10.000, no desc\na-0.ts\n\
             #EXTINF:3.500, no desc\na-1.ts\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn discontinuity_sequence_is_written_once_one_left_the_window() {
        let playlist = MediaPlaylist {
            version: 3,
            media_sequence: 12,
            discontinuity_sequence: 2,
            target_duration: 10,
            entries: vec![entry("a-12.ts", 10_000, true)],
            ..Default::default()
        };
        assert_eq!(
            playlist.to_text(),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:12\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n\
             #EXT-X-TARGETDURATION:10\n#EXT-X-DISCONTINUITY\n#EXTINF:10.000, no desc\na-12.ts\n"
        );
    }
}
