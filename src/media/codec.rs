//! Codecs, media kinds and codec sets: the unit of typed-port checking.

use std::fmt;

/// Audio or video: ports declare codec sets per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaKind {
    Video,
    Audio,
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        })
    }
}

/// Every codec the server knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    H264,
    H265,
    Av1,
    Aac,
    Mp3,
    Opus,
}

impl Codec {
    pub const ALL: [Codec; 6] = [Codec::H264, Codec::H265, Codec::Av1, Codec::Aac, Codec::Mp3, Codec::Opus];

    pub fn kind(self) -> MediaKind {
        match self {
            Codec::H264 | Codec::H265 | Codec::Av1 => MediaKind::Video,
            Codec::Aac | Codec::Mp3 | Codec::Opus => MediaKind::Audio,
        }
    }

    /// The name SRS's API uses ("H264", "AAC", ...).
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "H264",
            Codec::H265 => "H265",
            Codec::Av1 => "AV1",
            Codec::Aac => "AAC",
            Codec::Mp3 => "MP3",
            Codec::Opus => "Opus",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of codecs, small and `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CodecSet(u8);

impl CodecSet {
    pub const EMPTY: CodecSet = CodecSet(0);

    pub fn of(codecs: &[Codec]) -> CodecSet {
        CodecSet(codecs.iter().fold(0, |bits, c| bits | c.bit()))
    }

    /// Every codec of one kind.
    pub fn all(kind: MediaKind) -> CodecSet {
        CodecSet::of(&Codec::ALL.into_iter().filter(|c| c.kind() == kind).collect::<Vec<_>>())
    }

    pub fn contains(self, codec: Codec) -> bool {
        self.0 & codec.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: CodecSet) -> CodecSet {
        CodecSet(self.0 | other.0)
    }

    pub fn intersection(self, other: CodecSet) -> CodecSet {
        CodecSet(self.0 & other.0)
    }

    pub fn difference(self, other: CodecSet) -> CodecSet {
        CodecSet(self.0 & !other.0)
    }

    pub fn insert(&mut self, codec: Codec) {
        self.0 |= codec.bit();
    }

    pub fn iter(self) -> impl Iterator<Item = Codec> {
        Codec::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl fmt::Display for CodecSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Codec::name).collect();
        write!(f, "{{{}}}", names.join(", "))
    }
}

impl fmt::Debug for CodecSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let video = CodecSet::all(MediaKind::Video);
        assert_eq!(video, CodecSet::of(&[Codec::H264, Codec::H265, Codec::Av1]));
        let hls = CodecSet::of(&[Codec::H264, Codec::H265, Codec::Aac, Codec::Mp3]);
        assert_eq!(video.intersection(hls).to_string(), "{H264, H265}");
        assert!(video.difference(hls).contains(Codec::Av1));
        assert!(CodecSet::EMPTY.is_empty());
    }
}
