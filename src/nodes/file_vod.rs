//! `FileOut`'s segmented outputs: an HLS VOD playlist (`.m3u8`) with MPEG-TS segments, or a static
//! MPEG-DASH presentation (`.mpd`) with fMP4 init and media segments.
//!
//! HLS: segments are cut by `codec::hls::Segmenter` (at the first video keyframe at least
//! `segment_duration` after the segment's start; by duration for audio-only streams), muxed by
//! `codec::mpegts::TsMuxer` through `hls_out::writer::TsSegments`, and named `<stem>-<n>.ts` beside
//! the playlist. Each segment is written under a temporary name and renamed once complete; the
//! playlist (`codec::hls::MediaPlaylist` with `vod`) is written once, when the input ends, so a
//! damaged input still leaves a playable VOD of what was converted.
//!
//! DASH is `DashOut` itself with a window that keeps every segment and nothing deleted: its MPD
//! turns static (`mediaPresentationDuration`) when the input ends. Segments go in `<stem>/`.
//!
//! ```dhall
//! srs.node "vod" (srs.Node.FileOut srs.FileOut::{ path = "./objs/[app]/[stream].m3u8", segment_duration = 4.0 })
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::dash_out::{self, DashSegmentTemplate};
use super::hls_out::writer::{write_atomically, TsSegments, WriteError};
use crate::codec::hls::{target_duration, Closed, MediaPlaylist, PlaylistEntry, Segmenter, SegmenterConfig};
use crate::media::{Frame, MediaKind, MediaTime, StreamDescription};

/// SRS's `hls_aof_ratio`: an audio-only segment is cut after this many target durations.
const AUDIO_OVERFLOW_RATIO: f64 = 2.1;

/// The `DashOut` configuration that writes a static presentation at `mpd` (already filled in).
pub fn dash_config(mpd: &Path, segment_duration: f64) -> dash_out::Config {
    let folder = mpd.parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let name = mpd.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dash_out::Config {
        dash_fragment: segment_duration,
        dash_path: if folder.is_empty() { ".".into() } else { folder },
        // The path is already filled in: `DashOut` fills templates again, which leaves it as is.
        dash_mpd_file: name,
        // A VOD keeps every segment.
        dash_window_size: u64::MAX,
        dash_cleanup: false,
        dash_dispose: 0.0,
        segment_template: DashSegmentTemplate::Time,
        ..dash_out::Config::default()
    }
}

/// A segment's file name, relative to the playlist.
#[derive(Debug, Clone, PartialEq)]
struct SegmentName(String);

/// An HLS VOD being written: segments as they close, the playlist at the end.
pub struct HlsVodWriter {
    playlist: PathBuf,
    folder: PathBuf,
    stem: String,
    segmenter: Segmenter<SegmentName>,
    muxer: Option<TsSegments>,
    description: Option<StreamDescription>,
    /// Segment files written in place (a batch run: `nodes::file_io`).
    in_place: bool,
    /// Segments written, in order: (file name, duration).
    written: Vec<(String, Duration)>,
    /// Per track (video, audio): the last decode time and the gap before it, so the last segment
    /// ends where its last frame does rather than where it starts.
    last_frames: [Option<(MediaTime, MediaTime)>; 2],
}

impl HlsVodWriter {
    pub fn new(playlist: PathBuf, segment_duration: f64, in_place: bool) -> HlsVodWriter {
        let folder = playlist.parent().map(Path::to_path_buf).unwrap_or_default();
        let stem =
            playlist.file_stem().map_or_else(|| "segment".into(), |s| s.to_string_lossy().into_owned());
        let fragment = Duration::try_from_secs_f64(segment_duration).unwrap_or(Duration::from_secs(6));
        let segmenter = Segmenter::new(SegmenterConfig {
            fragment,
            td_ratio: 1.0,
            aof_ratio: AUDIO_OVERFLOW_RATIO,
            window: Duration::MAX,
            wait_keyframe: true,
            part_target: None,
        });
        HlsVodWriter {
            playlist,
            folder,
            stem,
            segmenter,
            muxer: None,
            description: None,
            in_place,
            written: Vec::new(),
            last_frames: [None, None],
        }
    }

    pub fn playlist_path(&self) -> &Path {
        &self.playlist
    }

    pub async fn on_description(&mut self, description: &StreamDescription) -> Result<(), WriteError> {
        if let Some(muxer) = &mut self.muxer {
            muxer.update_description(description)?;
        }
        self.description = Some(description.clone());
        Ok(())
    }

    pub async fn on_frame(&mut self, frame: &Frame) -> Result<(), WriteError> {
        if self.muxer.is_none() {
            let description = self.description.clone().unwrap_or_default();
            let muxer = TsSegments::new(&description)?;
            self.muxer = Some(if self.in_place { muxer.in_place() } else { muxer });
        }
        let audio_only = self.description.as_ref().is_none_or(|d| d.video.is_none());
        let kind = frame.kind();
        let random_access = (frame.keyframe && kind == MediaKind::Video) || audio_only;
        let last_frame = &mut self.last_frames[usize::from(kind == MediaKind::Audio)];
        let gap = last_frame.map_or(MediaTime::ZERO, |(last, _)| frame.dts - last);
        *last_frame = Some((frame.dts, gap));
        let stem = &self.stem;
        let step = self.segmenter.push(
            kind,
            frame.dts,
            frame.keyframe && kind == MediaKind::Video,
            random_access,
            |seq| SegmentName(format!("{stem}-{seq}.ts")),
        );
        if let Some(closed) = step.closed {
            self.on_closed(closed, None).await?;
        }
        let Some(muxer) = &mut self.muxer else { return Ok(()) };
        if step.opened {
            let name = &self.segmenter.open_segment().map(|s| s.meta.0.clone()).unwrap_or_default();
            muxer.open(&self.folder.join(name), None).await?;
        }
        muxer.write(frame).await
    }

    /// Closes the last segment and writes the playlist; returns how many segments it lists.
    pub async fn finish(&mut self) -> Result<usize, WriteError> {
        let media_end = self.last_frames.iter().flatten().map(|(last, gap)| *last + *gap).max();
        if let Some(closed) = self.segmenter.close() {
            self.on_closed(closed, media_end).await?;
        }
        let durations: Vec<Duration> = self.written.iter().map(|(_, d)| *d).collect();
        let playlist = MediaPlaylist {
            version: 3,
            media_sequence: 0,
            target_duration: target_duration(durations.iter(), self.segmenter.config().max_td()),
            entries: self
                .written
                .iter()
                .map(|(name, duration)| PlaylistEntry {
                    duration: *duration,
                    uri: Some(name.clone()),
                    ..PlaylistEntry::default()
                })
                .collect(),
            vod: true,
            ..MediaPlaylist::default()
        };
        write_atomically(&self.playlist, playlist.to_text().as_bytes()).await?;
        Ok(self.written.len())
    }

    /// A closed segment is kept and listed, even one the live rules would drop for being short:
    /// a VOD keeps every frame. The last segment lasts until `media_end`, where its last frame ends.
    async fn on_closed(
        &mut self,
        closed: Closed<SegmentName>,
        media_end: Option<MediaTime>,
    ) -> Result<(), WriteError> {
        let segment = match closed {
            Closed::Kept { segment, .. } | Closed::Dropped { segment } => segment,
        };
        let to_end = media_end.map_or(Duration::ZERO, |end| {
            Duration::from_millis(u64::try_from((end - segment.start).as_millis()).unwrap_or(0))
        });
        if let Some(muxer) = &mut self.muxer {
            muxer.finish(true).await?;
        }
        self.written.push((segment.meta.0, segment.duration.max(to_end)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_config_keeps_every_segment_beside_the_mpd() {
        let config = dash_config(Path::new("/vod/app/movie.mpd"), 4.0);
        assert_eq!((config.dash_path.as_str(), config.dash_mpd_file.as_str()), ("/vod/app", "movie.mpd"));
        assert_eq!((config.dash_fragment, config.dash_window_size), (4.0, u64::MAX));
        assert!(!config.dash_cleanup && config.dash_dispose == 0.0);
        assert_eq!(dash_config(Path::new("movie.mpd"), 6.0).dash_path, ".");
    }

    #[test]
    fn hls_segments_are_named_beside_the_playlist() {
        let writer = HlsVodWriter::new(PathBuf::from("/vod/movie.m3u8"), 6.0, false);
        assert_eq!((writer.folder.as_path(), writer.stem.as_str()), (Path::new("/vod"), "movie"));
        assert_eq!(writer.segmenter.config().max_td(), Duration::from_secs(6));
    }
}
