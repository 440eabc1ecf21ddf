//! Segment containers on disk: MPEG-TS written as frames arrive, fMP4 fragments written per
//! segment (or per part with LL-HLS). Every file appears atomically: written under a temporary
//! name, then renamed, so a player never reads half a segment.
//!
//! Where segments end is decided by `codec::hls::Segmenter`; this file only moves bytes.

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::codec::hls::SegmentCipher;
use crate::codec::mp4::{FragmentWriter, NextDecodeTimes};
use crate::codec::mpegts::TsMuxer;
use crate::media::{Frame, MediaKind, StreamDescription};
use crate::nodes::file_io::{FileIo, BATCH_BLOCK};

/// A file's temporary name while it is being written (SRS's `.tmp`).
pub fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    let temporary = temporary(path);
    if let Err(e) = tokio::fs::write(&temporary, bytes).await {
        // A full disk leaves a part of the file: given back at once.
        remove(&temporary).await;
        return Err(e);
    }
    tokio::fs::rename(&temporary, path).await
}

/// The disk is full or the quota used up: writing can resume once space is freed, so the file
/// being written is given up, not the stream.
pub fn is_storage_full(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}

/// Removes a file, ignoring one that is already gone.
pub async fn remove(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(file = %path.display(), "cannot remove: {e}");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("mpeg-ts: {0}")]
    Ts(#[from] crate::codec::mpegts::TsError),
    #[error("fmp4: {0}")]
    Mp4(#[from] crate::codec::mp4::Mp4Error),
    #[error("no random bytes for an hls key: {0}")]
    Random(getrandom::Error),
}

impl WriteError {
    /// The muxer refused one frame's content (SRS's decode errors); anything else is a failure
    /// to write the files (disk, permissions, randomness).
    pub fn is_frame_error(&self) -> bool {
        matches!(self, WriteError::Ts(_) | WriteError::Mp4(_))
    }

    /// No space left for the files (see [`is_storage_full`]).
    pub fn is_storage_full(&self) -> bool {
        matches!(self, WriteError::Io(e) if is_storage_full(e))
    }
}

/// MPEG-TS segments: one muxer for the stream (continuity counters run across segments), one
/// temporary file per segment, tables at the start of each; AES-128 encrypted when opened with a
/// cipher (`hls_keys`).
#[derive(Debug)]
pub struct TsSegments {
    muxer: TsMuxer,
    file: Option<TsFile>,
    /// Files written in place, a segment buffered whole (a batch run: `nodes::file_io`).
    in_place: bool,
    /// A frame's packets on their way to the file (reused).
    packets: BytesMut,
}

/// The segment being written.
#[derive(Debug)]
struct TsFile {
    path: PathBuf,
    file: BufWriter<FileIo>,
    cipher: Option<SegmentCipher>,
    /// Encrypted bytes on their way to the file (reused).
    encrypted: Vec<u8>,
}

impl TsFile {
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.cipher {
            Some(cipher) => {
                self.encrypted.clear();
                cipher.update(bytes, &mut self.encrypted);
                self.file.write_all(&self.encrypted).await
            }
            None => self.file.write_all(bytes).await,
        }
    }

    /// Writes what the cipher still holds (the padded last block) and flushes.
    async fn flush_all(&mut self) -> std::io::Result<()> {
        if let Some(cipher) = self.cipher.take() {
            self.encrypted.clear();
            cipher.finish(&mut self.encrypted);
            self.file.write_all(&self.encrypted).await?;
        }
        self.file.flush().await
    }
}

impl TsSegments {
    pub fn new(description: &StreamDescription) -> Result<TsSegments, WriteError> {
        Ok(TsSegments {
            muxer: TsMuxer::new(description)?,
            file: None,
            in_place: false,
            packets: BytesMut::new(),
        })
    }

    /// Segments written in place, in blocks of at least `BATCH_BLOCK` (a batch run).
    pub fn in_place(mut self) -> TsSegments {
        self.in_place = true;
        self
    }

    pub fn update_description(&mut self, description: &StreamDescription) -> Result<(), WriteError> {
        Ok(self.muxer.update_description(description)?)
    }

    /// Starts a segment file; with a cipher, everything written to it is encrypted.
    pub async fn open(&mut self, path: &Path, cipher: Option<SegmentCipher>) -> Result<(), WriteError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if self.in_place {
                std::fs::create_dir_all(dir)?;
            } else {
                tokio::fs::create_dir_all(dir).await?;
            }
        }
        let capacity = if self.in_place { 2 * BATCH_BLOCK } else { 64 * 1024 };
        let file = BufWriter::with_capacity(capacity, FileIo::create(temporary(path), self.in_place).await?);
        let mut file = TsFile { path: path.to_owned(), file, cipher, encrypted: Vec::new() };
        file.write(&self.muxer.write_tables()).await?;
        self.file = Some(file);
        Ok(())
    }

    pub async fn write(&mut self, frame: &Frame) -> Result<(), WriteError> {
        self.packets.clear();
        self.muxer.write_frame_into(frame, &mut self.packets)?;
        if let Some(file) = &mut self.file {
            file.write(&self.packets).await?;
        }
        Ok(())
    }

    /// Gives up the open segment (the disk is full): its temporary file is removed.
    pub async fn abandon(&mut self) {
        if let Some(file) = self.file.take() {
            drop(file.file);
            remove(&temporary(&file.path)).await;
        }
    }

    /// Ends the open segment: renamed into place when `keep`, else removed.
    pub async fn finish(&mut self, keep: bool) -> Result<(), WriteError> {
        let Some(mut file) = self.file.take() else { return Ok(()) };
        if let Err(e) = file.flush_all().await {
            drop(file.file);
            remove(&temporary(&file.path)).await;
            return Err(e.into());
        }
        let path = file.path;
        drop(file.file);
        if keep && self.in_place {
            std::fs::rename(temporary(&path), &path)?;
        } else if keep {
            tokio::fs::rename(temporary(&path), &path).await?;
        } else {
            remove(&temporary(&path)).await;
        }
        Ok(())
    }
}

/// fMP4 segments: frames buffered per fragment, a `moof`+`mdat` per segment, or per part with
/// LL-HLS (the segment file is then its parts end to end).
#[derive(Debug)]
pub struct Fmp4Segments {
    writer: FragmentWriter,
    next_fragment: u32,
    video: Vec<Frame>,
    audio: Vec<Frame>,
    /// Fragments of the open segment already written as parts.
    parts: Vec<Bytes>,
}

impl Fmp4Segments {
    pub fn new(description: &StreamDescription) -> Result<Fmp4Segments, WriteError> {
        Ok(Fmp4Segments {
            writer: FragmentWriter::new(description)?,
            next_fragment: 1,
            video: Vec::new(),
            audio: Vec::new(),
            parts: Vec::new(),
        })
    }

    pub fn init_segment(&self) -> Result<Bytes, WriteError> {
        Ok(self.writer.init_segment()?)
    }

    pub fn write(&mut self, frame: &Frame) {
        match frame.kind() {
            MediaKind::Video => self.video.push(frame.clone()),
            MediaKind::Audio => self.audio.push(frame.clone()),
        }
    }

    /// Gives up the open segment (the disk is full): its buffered frames and parts are dropped.
    pub fn abandon(&mut self) {
        self.video.clear();
        self.audio.clear();
        self.parts.clear();
    }

    /// The buffered frames as one fragment; `next` is the frame that follows (its decode time
    /// gives the last sample its exact duration).
    fn take_fragment(&mut self, next: Option<&Frame>) -> Result<Option<Bytes>, WriteError> {
        if self.video.is_empty() && self.audio.is_empty() {
            return Ok(None);
        }
        let mut until = NextDecodeTimes::default();
        match next.map(|f| (f.kind(), f.dts)) {
            Some((MediaKind::Video, dts)) => until.video = Some(dts),
            Some((MediaKind::Audio, dts)) => until.audio = Some(dts),
            None => {}
        }
        let video: Vec<&Frame> = self.video.iter().collect();
        let audio: Vec<&Frame> = self.audio.iter().collect();
        let bytes = self.writer.fragment_until(self.next_fragment, &video, &audio, until)?;
        self.next_fragment = self.next_fragment.wrapping_add(1);
        self.video.clear();
        self.audio.clear();
        Ok(Some(bytes))
    }

    /// Ends a part: its fragment is written to `part_path` and kept for the segment file.
    pub async fn finish_part(&mut self, part_path: &Path, next: Option<&Frame>) -> Result<(), WriteError> {
        if let Some(bytes) = self.take_fragment(next)? {
            write_atomically(part_path, &bytes).await?;
            self.parts.push(bytes);
        }
        Ok(())
    }

    /// Ends the open segment (after its last part, if parts are cut): writes the segment file
    /// when `keep`, else forgets the frames.
    pub async fn finish(&mut self, path: &Path, keep: bool, next: Option<&Frame>) -> Result<(), WriteError> {
        let tail = self.take_fragment(next)?;
        let parts = std::mem::take(&mut self.parts);
        if !keep {
            return Ok(());
        }
        let mut segment = BytesMut::with_capacity(parts.iter().map(Bytes::len).sum::<usize>());
        for bytes in parts.iter().chain(tail.iter()) {
            segment.extend_from_slice(bytes);
        }
        write_atomically(path, &segment).await?;
        Ok(())
    }

    /// Like [`Fmp4Segments::finish`] when the segment's last part must also be its own file.
    pub async fn finish_with_last_part(
        &mut self,
        path: &Path,
        last_part: &Path,
        keep: bool,
        next: Option<&Frame>,
    ) -> Result<(), WriteError> {
        self.finish_part(last_part, next).await?;
        self.finish(path, keep, next).await
    }
}
