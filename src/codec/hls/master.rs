//! The HLS master (multivariant) playlist of a stream's renditions (RFC 8216 §4.3.4.2): one
//! `EXT-X-STREAM-INF` per variant with its peak bandwidth and, for video, its resolution, so a
//! player such as hls.js switches between them.

/// One rendition as the master playlist lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The media playlist's URI, relative to the master playlist.
    pub uri: String,
    /// Bits per second (video and audio together).
    pub bandwidth: u64,
    /// `(width, height)` when the variant has video of a known size.
    pub resolution: Option<(u64, u64)>,
}

/// The master playlist text, variants in the given order (highest first is conventional).
pub fn master_playlist(variants: &[Variant]) -> String {
    let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    for variant in variants {
        text.push_str(&format!("#EXT-X-STREAM-INF:BANDWIDTH={}", variant.bandwidth.max(1)));
        if let Some((width, height)) = variant.resolution {
            text.push_str(&format!(",RESOLUTION={width}x{height}"));
        }
        text.push('\n');
        text.push_str(&variant.uri);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_each_variant_with_bandwidth_and_resolution() {
        let variants = [
            Variant { uri: "cam_720p.m3u8".into(), bandwidth: 2_564_000, resolution: Some((1280, 720)) },
            Variant { uri: "cam_audio.m3u8".into(), bandwidth: 64_000, resolution: None },
        ];
        assert_eq!(
            master_playlist(&variants),
            "#EXTM3U\n#EXT-X-VERSION:3\n\
             #EXT-X-STREAM-INF:BANDWIDTH=2564000,RESOLUTION=1280x720\ncam_720p.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=64000\ncam_audio.m3u8\n"
        );
    }
}
