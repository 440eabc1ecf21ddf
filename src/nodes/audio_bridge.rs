//! What `AacToOpus` and `OpusToAac` share: the stream loop of an audio transcoder that lets
//! everything else through (video, metadata and audio already in the target codec are the same
//! `Bytes`, never copied).

use std::sync::Arc;

use bytes::Bytes;
use petgraph::graph::NodeIndex;
use tokio::sync::mpsc;

use crate::codec::audio::TranscodeError;
use crate::graph::engine::Outputs;
use crate::media::{AudioTrack, Codec, Frame, MediaEvent, MediaKind, MediaTime, StreamDescription};
use crate::nodes::{CheckedGraph, StreamCtx};

/// One direction of audio transcoding.
pub trait AudioBridge: Send + 'static {
    /// The codec transcoded; other audio passes through.
    const FROM: Codec;
    const TO: Codec;
    /// A transcoder for `track` (of codec `FROM`) and the track it outputs.
    fn open(&self, track: &AudioTrack) -> Result<(Box<dyn Transcoder>, AudioTrack), TranscodeError>;
    /// A video frame as it goes on, with the stream's latest description; `None` leaves it out.
    fn video(&self, frame: Frame, _description: Option<&StreamDescription>) -> Option<Frame> {
        Some(frame)
    }
}

/// A stream's transcoder.
pub trait Transcoder: Send {
    fn push(
        &mut self,
        data: &[u8],
        time: MediaTime,
        out: &mut Vec<(Bytes, MediaTime)>,
    ) -> Result<(), TranscodeError>;
    /// At the end of the stream: what the transcoder still holds, encoded (padded with silence).
    fn flush(&mut self, out: &mut Vec<(Bytes, MediaTime)>) -> Result<(), TranscodeError>;
}

/// Frames whose errors are logged again after this many more.
const ERROR_LOG_EVERY: u64 = 100;

/// Whether anyone takes the transcoded audio now: any child that takes media at this moment
/// (`NodeKind::takes_media_now`). WebRTC players take audio live only, so while every child of
/// the bridge is an `RtcOut` and the stream has no WebRTC player, transcoding would be thrown
/// away: an RTMP stream that nobody watches over WebRTC costs no AAC decode and Opus encode (SRS
/// transcodes every stream of a vhost with `rtmp_to_rtc on`). Any other child (HTTP-FLV, HLS,
/// DVR...) always takes it. The children are read again after a reload.
struct Demand {
    graph: Option<Arc<CheckedGraph>>,
    children: Vec<NodeIndex>,
}

impl Demand {
    fn wanted(&mut self, ctx: &StreamCtx) -> bool {
        let engine = ctx.engine.current();
        if !self.graph.as_ref().is_some_and(|seen| Arc::ptr_eq(seen, engine.graph())) {
            let graph = engine.graph();
            self.children =
                graph.index_of(ctx.name()).map(|n| graph.children(n).collect()).unwrap_or_default();
            self.graph = Some(Arc::clone(graph));
        }
        self.children.is_empty()
            || self
                .children
                .iter()
                .any(|child| engine.spec(*child).kind().1.takes_media_now(&engine, &ctx.key))
    }
}

/// Runs one stream through `bridge` until its end.
pub async fn run<B: AudioBridge>(
    bridge: B,
    ctx: StreamCtx,
    mut input: mpsc::Receiver<MediaEvent>,
    mut outputs: Outputs,
) {
    let mut transcoder: Option<Box<dyn Transcoder>> = None;
    let mut out = Vec::new();
    let mut errors = 0u64;
    let mut source: Option<Arc<StreamDescription>> = None;
    let mut demand = Demand { graph: None, children: Vec::new() };
    // Closed while nobody took the audio; opened again (a fresh timeline) when someone does.
    let mut idle = false;
    while let Some(event) = input.recv().await {
        let event = match event {
            MediaEvent::Description(description) => {
                source = Some(Arc::clone(&description));
                idle = false;
                MediaEvent::Description(describe(&bridge, &ctx, &description, &mut transcoder))
            }
            MediaEvent::Frame(frame) if frame.codec == B::FROM => {
                if !demand.wanted(&ctx) {
                    if transcoder.take().is_some() {
                        idle = true;
                        tracing::debug!(node = ctx.name(), stream = %ctx.key, "no one takes the {} audio: transcoding paused", B::TO.name());
                    }
                    continue;
                }
                if idle {
                    idle = false;
                    // Opened as for the description, which went downstream already (the same track).
                    if let Some(source) = &source {
                        describe(&bridge, &ctx, source, &mut transcoder);
                    }
                    tracing::debug!(node = ctx.name(), stream = %ctx.key, "transcoding to {} again", B::TO.name());
                }
                let Some(transcoder) = transcoder.as_mut() else { continue };
                if let Err(e) = transcoder.push(&frame.data, frame.dts, &mut out) {
                    errors += 1;
                    if errors % ERROR_LOG_EVERY == 1 {
                        tracing::warn!(node = ctx.name(), stream = %ctx.key, errors, "audio frame not transcoded: {e}");
                    }
                }
                for (data, time) in out.drain(..) {
                    let frame = Frame { codec: B::TO, dts: time, pts: time, keyframe: true, data };
                    if !outputs.send(MediaEvent::Frame(frame)).await {
                        return;
                    }
                }
                continue;
            }
            MediaEvent::Frame(frame) if frame.kind() == MediaKind::Video => {
                match bridge.video(frame, source.as_deref()) {
                    Some(frame) => MediaEvent::Frame(frame),
                    None => continue,
                }
            }
            MediaEvent::End => {
                // The audio held for a whole output frame goes out before the end (the DVR file
                // would otherwise end that much audio short of its video).
                if let Some(transcoder) = transcoder.as_mut() {
                    if let Err(e) = transcoder.flush(&mut out) {
                        tracing::warn!(node = ctx.name(), stream = %ctx.key, "audio not flushed at the end: {e}");
                    }
                    for (data, time) in out.drain(..) {
                        let frame = Frame { codec: B::TO, dts: time, pts: time, keyframe: true, data };
                        if !outputs.send(MediaEvent::Frame(frame)).await {
                            return;
                        }
                    }
                }
                MediaEvent::End
            }
            other => other,
        };
        let end = matches!(event, MediaEvent::End);
        if !outputs.send(event).await || end {
            break;
        }
    }
}

/// The description downstream sees: the audio track replaced by the transcoder's output.
fn describe<B: AudioBridge>(
    bridge: &B,
    ctx: &StreamCtx,
    description: &Arc<StreamDescription>,
    transcoder: &mut Option<Box<dyn Transcoder>>,
) -> Arc<StreamDescription> {
    let Some(track) = description.audio.as_ref().filter(|a| a.codec == B::FROM) else {
        *transcoder = None;
        return Arc::clone(description);
    };
    let mut described = StreamDescription::clone(description);
    match bridge.open(track) {
        Ok((opened, output)) => {
            *transcoder = Some(opened);
            described.audio = Some(output);
        }
        Err(e) => {
            tracing::warn!(node = ctx.name(), stream = %ctx.key, "cannot transcode {} audio, dropped: {e}", B::FROM.name());
            *transcoder = None;
            described.audio = None;
        }
    }
    Arc::new(described)
}
