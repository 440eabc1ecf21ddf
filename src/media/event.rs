//! The events on an edge: description, frames, metadata, end of stream.

use std::sync::Arc;

use bytes::Bytes;

use super::{Frame, MediaTime, StreamDescription};

/// Script data (onMetaData), kept as its AMF0 body because only FLV-family outputs use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub time: MediaTime,
    /// AMF0 values as carried in an FLV script tag: the name ("onMetaData") then the object.
    pub amf0: Bytes,
}

/// What flows on a graph edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The stream's tracks; sent first and again whenever a sequence header changes.
    Description(Arc<StreamDescription>),
    Frame(Frame),
    Metadata(Metadata),
    /// The publisher is gone: sinks finalize (close files, write last playlists).
    End,
}
