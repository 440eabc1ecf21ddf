//! Reading HLS playlists (RFC 8216) for pulling a stream: a master playlist's variants, or a media
//! playlist's segments with their sequence numbers, durations and discontinuities.
//!
//! The text comes from a peer, so everything is bounded (`MAX_PLAYLIST_BYTES`, `MAX_ENTRIES`,
//! `MAX_URI_BYTES`) and a malformed value is a typed error naming the line. Tags a puller does
//! not need (program date time, byte ranges, LL-HLS parts, ...) are skipped; those that change
//! how segments must be read (`EXT-X-KEY` other than `NONE`, `EXT-X-MAP`, `EXT-X-BYTERANGE`) are
//! recorded so the puller can refuse what it cannot read rather than publish garbage.

/// Largest playlist read.
pub const MAX_PLAYLIST_BYTES: usize = 1 << 20;
/// Most segments (or variants) one playlist may list.
pub const MAX_ENTRIES: usize = 20_000;
/// Longest URI taken.
pub const MAX_URI_BYTES: usize = 4_096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaylistError {
    #[error("playlist of {0} bytes is larger than {MAX_PLAYLIST_BYTES}")]
    TooLarge(usize),
    #[error("playlist is not UTF-8 text")]
    NotText,
    #[error("playlist does not start with #EXTM3U")]
    NoHeader,
    #[error("line {line}: {tag} has a bad value `{value}`")]
    BadValue { line: usize, tag: &'static str, value: String },
    #[error("line {line}: a URI longer than {MAX_URI_BYTES} bytes")]
    UriTooLong { line: usize },
    #[error("more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("line {line}: EXT-X-STREAM-INF without a URI after it")]
    VariantWithoutUri { line: usize },
}

/// What a playlist is.
#[derive(Debug, Clone, PartialEq)]
pub enum Playlist {
    /// A master (multivariant) playlist: its variants, in the order listed.
    Master(Vec<VariantEntry>),
    Media(MediaPlaylistText),
}

/// One `EXT-X-STREAM-INF` of a master playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantEntry {
    /// As written (relative to the master playlist's URL).
    pub uri: String,
    pub bandwidth: u64,
    pub resolution: Option<(u64, u64)>,
}

/// A media playlist as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MediaPlaylistText {
    /// `EXT-X-TARGETDURATION` in milliseconds (0 when missing).
    pub target_duration_ms: u64,
    /// `EXT-X-MEDIA-SEQUENCE` (0 when missing, as the RFC says).
    pub media_sequence: u64,
    /// `EXT-X-ENDLIST` seen, or `EXT-X-PLAYLIST-TYPE:VOD`: no segment will be added.
    pub ended: bool,
    /// `EXT-X-MAP` seen: segments are fragmented MP4 (or need an init section).
    pub has_map: bool,
    pub segments: Vec<SegmentEntry>,
}

/// One segment of a media playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentEntry {
    /// As written (relative to the playlist's URL).
    pub uri: String,
    pub sequence: u64,
    pub duration_ms: u64,
    /// `EXT-X-DISCONTINUITY` before it: timestamps may restart.
    pub discontinuity: bool,
    /// Encrypted (an `EXT-X-KEY` with a method other than `NONE` applies) or a byte range of a file.
    pub unreadable: Option<&'static str>,
}

impl Playlist {
    /// Reads a playlist's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Playlist, PlaylistError> {
        if bytes.len() > MAX_PLAYLIST_BYTES {
            return Err(PlaylistError::TooLarge(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| PlaylistError::NotText)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        match lines.next() {
            Some((_, first)) if first.starts_with("#EXTM3U") => {}
            _ => return Err(PlaylistError::NoHeader),
        }
        let mut media = MediaPlaylistText::default();
        let mut variants = Vec::new();
        // An EXT-X-STREAM-INF (its line, the variant without its URI) waiting for the URI line.
        let mut pending_variant: Option<(usize, VariantEntry)> = None;
        let mut duration_ms: Option<u64> = None;
        let mut discontinuity = false;
        let mut key_method: Option<&'static str> = None;
        let mut byte_range = false;
        let mut sequence: Option<u64> = None;
        for (line, text) in lines {
            if text.is_empty() {
                continue;
            }
            if let Some(tag) = text.strip_prefix('#') {
                let (name, value) = tag.split_once(':').unwrap_or((tag, ""));
                match name {
                    "EXTINF" => {
                        let seconds = value.split(',').next().unwrap_or_default();
                        duration_ms = Some(seconds_to_ms(seconds).ok_or_else(|| bad(line, "EXTINF", value))?);
                    }
                    "EXT-X-TARGETDURATION" => {
                        media.target_duration_ms =
                            seconds_to_ms(value).ok_or_else(|| bad(line, "EXT-X-TARGETDURATION", value))?;
                    }
                    "EXT-X-MEDIA-SEQUENCE" => {
                        media.media_sequence =
                            value.parse().map_err(|_| bad(line, "EXT-X-MEDIA-SEQUENCE", value))?;
                    }
                    "EXT-X-DISCONTINUITY" => discontinuity = true,
                    "EXT-X-ENDLIST" => media.ended = true,
                    "EXT-X-PLAYLIST-TYPE" if value == "VOD" => media.ended = true,
                    "EXT-X-MAP" => media.has_map = true,
                    "EXT-X-BYTERANGE" => byte_range = true,
                    "EXT-X-KEY" => {
                        let method = attribute(value, "METHOD").unwrap_or_default();
                        key_method = match method.as_str() {
                            "NONE" => None,
                            "AES-128" => Some("AES-128 encrypted"),
                            _ => Some("sample-encrypted"),
                        };
                    }
                    "EXT-X-STREAM-INF" => {
                        let bandwidth = attribute(value, "BANDWIDTH")
                            .and_then(|b| b.parse().ok())
                            .ok_or_else(|| bad(line, "EXT-X-STREAM-INF", value))?;
                        let resolution = attribute(value, "RESOLUTION").and_then(|r| {
                            let (w, h) = r.split_once(['x', 'X'])?;
                            Some((w.parse().ok()?, h.parse().ok()?))
                        });
                        pending_variant =
                            Some((line, VariantEntry { uri: String::new(), bandwidth, resolution }));
                    }
                    _ => {}
                }
                continue;
            }
            // A URI line.
            if text.len() > MAX_URI_BYTES {
                return Err(PlaylistError::UriTooLong { line });
            }
            if variants.len() + media.segments.len() >= MAX_ENTRIES {
                return Err(PlaylistError::TooManyEntries);
            }
            if let Some((_, variant)) = pending_variant.take() {
                variants.push(VariantEntry { uri: text.to_owned(), ..variant });
                continue;
            }
            let Some(duration) = duration_ms.take() else { continue };
            let next = sequence.map_or(media.media_sequence, |s| s.saturating_add(1));
            sequence = Some(next);
            let unreadable = if byte_range { Some("a byte range") } else { key_method };
            media.segments.push(SegmentEntry {
                uri: text.to_owned(),
                sequence: next,
                duration_ms: duration,
                discontinuity: std::mem::take(&mut discontinuity),
                unreadable,
            });
            byte_range = false;
        }
        if let Some((line, _)) = pending_variant {
            return Err(PlaylistError::VariantWithoutUri { line });
        }
        if !variants.is_empty() {
            return Ok(Playlist::Master(variants));
        }
        Ok(Playlist::Media(media))
    }
}

impl MediaPlaylistText {
    /// The segment with `sequence`, if listed.
    pub fn segment(&self, sequence: u64) -> Option<&SegmentEntry> {
        let first = self.segments.first()?.sequence;
        let index = usize::try_from(sequence.checked_sub(first)?).ok()?;
        self.segments.get(index)
    }
}

/// The variant a puller takes: the highest bandwidth within `max_bandwidth` (bits per second;
/// 0: no limit), or the lowest when none fits. The first of equals.
pub fn choose_variant(variants: &[VariantEntry], max_bandwidth: u64) -> Option<&VariantEntry> {
    let fits = |v: &&VariantEntry| max_bandwidth == 0 || v.bandwidth <= max_bandwidth;
    let highest_fitting = variants.iter().rev().filter(fits).max_by_key(|v| v.bandwidth);
    highest_fitting.or_else(|| variants.iter().min_by_key(|v| v.bandwidth))
}

/// `reference` resolved against the URL `base` it was read from (RFC 3986 §5.2, for the forms
/// playlists use: absolute, scheme-relative, absolute-path and relative paths with `..`).
pub fn resolve_uri(base: &str, reference: &str) -> String {
    if reference.contains("://") {
        return reference.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(authority_path) = reference.strip_prefix("//") {
        return format!("{scheme}://{authority_path}");
    }
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, base_path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let (reference_path, query) = match reference.find(['?', '#']) {
        Some(at) => reference.split_at(at),
        None => (reference, ""),
    };
    let joined = if let Some(absolute) = reference_path.strip_prefix('/') {
        absolute.to_owned()
    } else {
        let directory = base_path.rsplit_once('/').map_or("", |(d, _)| d);
        if directory.is_empty() {
            reference_path.to_owned()
        } else {
            format!("{directory}/{reference_path}")
        }
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    format!("{scheme}://{authority}/{}{query}", segments.join("/"))
}

fn bad(line: usize, tag: &'static str, value: &str) -> PlaylistError {
    let value: String = value.chars().take(64).collect();
    PlaylistError::BadValue { line, tag, value }
}

/// `"6.006"` → 6006; negative, non-numeric or absurd (over a day) values are `None`.
fn seconds_to_ms(text: &str) -> Option<u64> {
    let seconds: f64 = text.trim().parse().ok()?;
    if !seconds.is_finite() || !(0.0..=86_400.0).contains(&seconds) {
        return None;
    }
    // In range by the check above.
    Some((seconds * 1000.0).round() as u64)
}

/// The value of `name` in an attribute list (`A=1,B="x,y"`), quotes removed.
fn attribute(list: &str, name: &str) -> Option<String> {
    let mut rest = list;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            let next = quoted[end + 1..].trim_start_matches(',');
            (&quoted[..end], next)
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        if key.trim() == name {
            return Some(value.trim().to_owned());
        }
        rest = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(text: &str) -> MediaPlaylistText {
        match Playlist::parse(text.as_bytes()).unwrap() {
            Playlist::Media(media) => media,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_live_playlist_gives_sequences_durations_and_discontinuities() {
        let playlist = media(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:41\n#EXT-X-TARGETDURATION:5\n\
             #EXTINF:4.200, no desc\nlive/s-41.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:3.96,\n\
             #EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\nlive/s-42.ts?x=1\n",
        );
        assert_eq!((playlist.media_sequence, playlist.target_duration_ms, playlist.ended), (41, 5000, false));
        let summary: Vec<_> = playlist
            .segments
            .iter()
            .map(|s| (s.uri.as_str(), s.sequence, s.duration_ms, s.discontinuity))
            .collect();
        assert_eq!(summary, [("live/s-41.ts", 41, 4200, false), ("live/s-42.ts?x=1", 42, 3960, true)]);
        assert_eq!(playlist.segment(42).map(|s| s.sequence), Some(42));
        assert!(playlist.segment(40).is_none() && playlist.segment(43).is_none());
    }

    #[test]
    fn vod_lists_end_and_unreadable_segments_are_marked() {
        let playlist = media(
            "#EXTM3U\r\n#EXT-X-PLAYLIST-TYPE:VOD\r\n#EXT-X-TARGETDURATION:2\r\n#EXTINF:2,\r\na.ts\r\n\
             #EXT-X-KEY:METHOD=AES-128,URI=\"k,1.key\",IV=0x01\r\n#EXTINF:2,\r\nb.ts\r\n\
             #EXT-X-KEY:METHOD=NONE\r\n#EXT-X-BYTERANGE:100@0\r\n#EXTINF:2,\r\nc.ts\r\n#EXTINF:2,\r\nd.ts\r\n",
        );
        assert!(playlist.ended);
        let unreadable: Vec<_> = playlist.segments.iter().map(|s| s.unreadable).collect();
        assert_eq!(unreadable, [None, Some("AES-128 encrypted"), Some("a byte range"), None]);
        assert!(media("#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1,\ns.m4s\n#EXT-X-ENDLIST\n").has_map);
    }

    #[test]
    fn a_master_playlist_gives_its_variants_and_the_best_is_the_highest_bandwidth() {
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\"\n\
                    low/index.m3u8\n#EXT-X-STREAM-INF:RESOLUTION=1280x720,BANDWIDTH=2500000\nhttp://cdn/hi.m3u8\n";
        let Playlist::Master(variants) = Playlist::parse(text.as_bytes()).unwrap() else { panic!() };
        assert_eq!(variants[0].resolution, Some((640, 360)));
        let chosen = |max| choose_variant(&variants, max).map(|v| v.uri.as_str());
        assert_eq!(chosen(0), Some("http://cdn/hi.m3u8"));
        assert_eq!(chosen(2_500_000), Some("http://cdn/hi.m3u8"));
        assert_eq!(chosen(2_499_999), Some("low/index.m3u8"), "the highest that fits the limit");
        assert_eq!(chosen(1000), Some("low/index.m3u8"), "none fits: the lowest");
        assert_eq!(choose_variant(&[], 0), None);
    }

    #[test]
    fn malformed_playlists_are_typed_errors() {
        type Case = (&'static [u8], fn(&PlaylistError) -> bool);
        let cases: [Case; 7] = [
            (b"", |e| *e == PlaylistError::NoHeader),
            (b"<html>", |e| *e == PlaylistError::NoHeader),
            (b"#EXTM3U\n#EXTINF:abc,\na.ts", |e| matches!(e, PlaylistError::BadValue { line: 2, .. })),
            (b"#EXTM3U\n#EXTINF:-1,\na.ts", |e| matches!(e, PlaylistError::BadValue { .. })),
            (b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n", |e| matches!(e, PlaylistError::BadValue { .. })),
            (b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", |e| {
                *e == PlaylistError::VariantWithoutUri { line: 2 }
            }),
            (b"#EXTM3U\n\xff\xfe", |e| *e == PlaylistError::NotText),
        ];
        for (input, expected) in cases {
            let error = Playlist::parse(input).unwrap_err();
            assert!(expected(&error), "{:?}: {error:?}", String::from_utf8_lossy(input));
        }
        let huge = vec![b'#'; MAX_PLAYLIST_BYTES + 1];
        assert!(matches!(Playlist::parse(&huge), Err(PlaylistError::TooLarge(_))));
        let long_uri = format!("#EXTM3U\n#EXTINF:1,\n{}\n", "a".repeat(MAX_URI_BYTES + 1));
        assert_eq!(Playlist::parse(long_uri.as_bytes()), Err(PlaylistError::UriTooLong { line: 3 }));
        let many = format!("#EXTM3U\n{}", "#EXTINF:1,\na.ts\n".repeat(MAX_ENTRIES + 1));
        assert_eq!(Playlist::parse(many.as_bytes()), Err(PlaylistError::TooManyEntries));
    }

    #[test]
    fn odd_but_harmless_input_is_read_without_panicking() {
        // A URI without EXTINF is skipped; unknown tags and blank lines are ignored; truncated attributes.
        let playlist =
            media("\u{feff}#EXTM3U\n\nstray.ts\n#EXT-X-FOO:1\n#EXT-X-KEY:METHOD=\"\n#EXTINF:1\nok.ts");
        assert_eq!(playlist.segments.len(), 1);
        assert_eq!(playlist.segments[0].uri, "ok.ts");
        for cut in 0..60 {
            let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=5,RESOLUTION=1x2\nv.m3u8\n";
            let _ = Playlist::parse(&text.as_bytes()[..cut.min(text.len())]);
        }
    }

    #[test]
    fn uris_resolve_against_the_playlist_url() {
        let base = "http://h:8080/live/s/index.m3u8?token=1";
        assert_eq!(resolve_uri(base, "s-1.ts"), "http://h:8080/live/s/s-1.ts");
        assert_eq!(resolve_uri(base, "../s-1.ts?x=2"), "http://h:8080/live/s-1.ts?x=2");
        assert_eq!(resolve_uri(base, "/other/a.ts"), "http://h:8080/other/a.ts");
        assert_eq!(resolve_uri(base, "//cdn/a.ts"), "http://cdn/a.ts");
        assert_eq!(resolve_uri(base, "https://cdn/a.ts"), "https://cdn/a.ts");
        assert_eq!(resolve_uri("http://h/index.m3u8", "a.ts"), "http://h/a.ts");
        assert_eq!(resolve_uri("http://h", "a.ts"), "http://h/a.ts");
    }
}
