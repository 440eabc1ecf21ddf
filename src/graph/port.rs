//! Typed ports: what a node accepts and produces, per media kind, as data the checker reads.

use crate::media::{Codec, CodecSet, MediaKind};

/// Codec sets per media kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caps {
    pub video: CodecSet,
    pub audio: CodecSet,
}

impl Caps {
    pub fn new(video: &[Codec], audio: &[Codec]) -> Caps {
        Caps { video: CodecSet::of(video), audio: CodecSet::of(audio) }
    }

    /// Everything the server knows.
    pub fn any() -> Caps {
        Caps { video: CodecSet::all(MediaKind::Video), audio: CodecSet::all(MediaKind::Audio) }
    }

    pub fn get(&self, kind: MediaKind) -> CodecSet {
        match kind {
            MediaKind::Video => self.video,
            MediaKind::Audio => self.audio,
        }
    }

    pub fn union(self, other: Caps) -> Caps {
        Caps { video: self.video.union(other.video), audio: self.audio.union(other.audio) }
    }

    pub fn intersection(self, other: Caps) -> Caps {
        Caps { video: self.video.intersection(other.video), audio: self.audio.intersection(other.audio) }
    }

    pub fn is_empty(&self) -> bool {
        self.video.is_empty() && self.audio.is_empty()
    }
}

/// A node's declaration, readable without starting anything (the gst pad-template principle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ports {
    /// Publishes streams into the graph.
    Source { produces: Caps },
    /// Takes a stream and gives one: codecs in `accepts` either pass through or are converted.
    Transform { accepts: Caps, converts: Vec<(Codec, Codec)> },
    /// Consumes streams: players, files, other servers.
    Sink { accepts: Caps },
    /// Takes no media edges: a graph-scoped service (a static file server) that needs no source.
    Service,
}

impl Ports {
    pub fn passthrough() -> Ports {
        Ports::Transform { accepts: Caps::any(), converts: Vec::new() }
    }

    pub fn accepts(&self) -> Option<Caps> {
        match self {
            Ports::Source { .. } | Ports::Service => None,
            Ports::Transform { accepts, .. } | Ports::Sink { accepts } => Some(*accepts),
        }
    }

    /// What comes out given what comes in.
    pub fn output(&self, input: Caps) -> Option<Caps> {
        match self {
            Ports::Source { produces } => Some(*produces),
            Ports::Sink { .. } | Ports::Service => None,
            Ports::Transform { accepts, converts } => {
                let mut out = Caps::default();
                for codec in
                    input.intersection(*accepts).video.iter().chain(input.intersection(*accepts).audio.iter())
                {
                    let mapped =
                        converts.iter().find(|(from, _)| *from == codec).map_or(codec, |(_, to)| *to);
                    match mapped.kind() {
                        MediaKind::Video => out.video.insert(mapped),
                        MediaKind::Audio => out.audio.insert(mapped),
                    }
                }
                Some(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_maps_and_filters() {
        let aac_to_opus =
            Ports::Transform { accepts: Caps::any(), converts: vec![(Codec::Aac, Codec::Opus)] };
        let out = aac_to_opus.output(Caps::new(&[Codec::H264], &[Codec::Aac])).unwrap();
        assert_eq!(out, Caps::new(&[Codec::H264], &[Codec::Opus]));
        let video_only = Ports::Transform { accepts: Caps::new(&[Codec::H264], &[]), converts: vec![] };
        assert_eq!(video_only.output(Caps::any()).unwrap(), Caps::new(&[Codec::H264], &[]));
    }
}
