//! One media file on disk, shared by `FileOut` and `Dvr`: written under `<path>.tmp`, flushed at
//! every point a reader can stop at (so a killed process leaves a playable `.tmp`), finalized when
//! closed (classic MP4: `moov` and the `mdat` size; faststart: `moov` moved to the front; FLV: the
//! duration and size written into the first onMetaData) and renamed to its final name.
//!
//! The bytes come from `file_muxer.rs`; this file only does the I/O.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use super::file_io::{FileIo, IoSettings, BLOCK_ALIGN};
use super::file_muxer::{FileMuxer, Mp4Layout};
use super::FileFormat;
use crate::codec::mp4::{faststart_insert, faststart_moov, ClassicFinish};
use crate::media::{MediaEvent, MediaTime};

/// Bytes buffered before a write reaches the file: twice the I/O block, so that every write but
/// the last (and those of chunks bigger than a block) is at least a block.
fn write_buffer(io: IoSettings) -> usize {
    2 * io.block
}

/// What a closed file holds, for logs and hooks.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedFile {
    pub path: PathBuf,
    pub n_bytes: u64,
    pub n_frames: u64,
    /// From the first to the last frame's decode time.
    pub duration: Duration,
}

/// A file being written; `close` finalizes and renames it.
#[derive(Debug)]
pub struct MediaFileWriter {
    path: PathBuf,
    temporary: PathBuf,
    file: BufWriter<FileIo>,
    io: IoSettings,
    muxer: FileMuxer,
    mp4_layout: Mp4Layout,
    chunks: Vec<Bytes>,
    n_bytes: u64,
    n_frames: u64,
    first_dts: Option<MediaTime>,
    last_dts: Option<MediaTime>,
}

/// `<path>.tmp`: where a file is written until it is complete.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

impl MediaFileWriter {
    /// Creates `<path>.tmp` (and missing directories), written as `io` says.
    pub async fn create(
        path: PathBuf,
        format: FileFormat,
        mp4_layout: Mp4Layout,
        io: IoSettings,
    ) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if io.in_place {
                std::fs::create_dir_all(dir)?;
            } else {
                tokio::fs::create_dir_all(dir).await?;
            }
        }
        let temporary = temporary_path(&path);
        let file = BufWriter::with_capacity(write_buffer(io), FileIo::create(&temporary, io.in_place).await?);
        Ok(MediaFileWriter {
            path,
            temporary,
            file,
            io,
            muxer: FileMuxer::new(format, mp4_layout),
            mp4_layout,
            chunks: Vec::new(),
            n_bytes: 0,
            n_frames: 0,
            first_dts: None,
            last_dts: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Decode time of the first frame written.
    pub fn first_dts(&self) -> Option<MediaTime> {
        self.first_dts
    }

    /// Media time covered so far (first to last decode time).
    pub fn duration(&self) -> MediaTime {
        match (self.first_dts, self.last_dts) {
            (Some(first), Some(last)) => last - first,
            _ => MediaTime::ZERO,
        }
    }

    pub async fn write(&mut self, event: &MediaEvent) -> std::io::Result<()> {
        if let MediaEvent::Frame(frame) = event {
            self.n_frames += 1;
            self.first_dts.get_or_insert(frame.dts);
            self.last_dts = Some(self.last_dts.map_or(frame.dts, |last| last.max(frame.dts)));
        }
        let durable = self.muxer.push(event, &mut self.chunks);
        self.write_chunks().await?;
        if durable && self.io.flush_at_keyframes {
            self.file.flush().await?;
        }
        Ok(())
    }

    /// Finishes the file and gives it its final name.
    pub async fn close(mut self) -> std::io::Result<ClosedFile> {
        let muxer = std::mem::replace(&mut self.muxer, FileMuxer::new(FileFormat::Flv, self.mp4_layout));
        let finish = muxer.finish(&mut self.chunks);
        self.write_chunks().await?;
        self.file.flush().await?;
        if !finish.patches.is_empty() {
            let file = self.file.get_mut();
            for patch in &finish.patches {
                file.seek(SeekFrom::Start(patch.offset)).await?;
                file.write_all(&patch.bytes).await?;
            }
            file.seek(SeekFrom::End(0)).await?;
        }
        if let Some(classic) = finish.classic {
            self.finish_classic(classic).await?;
        }
        if self.io.sync {
            self.file.get_mut().sync_data().await?;
        }
        rename(&self.temporary, &self.path, self.io).await?;
        let duration = Duration::from_millis(u64::try_from(self.duration().as_millis()).unwrap_or(0));
        Ok(ClosedFile { path: self.path, n_bytes: self.n_bytes, n_frames: self.n_frames, duration })
    }

    /// Gives the file up after a write failed (a full disk): what reached the disk (a prefix
    /// of the recording, playable up to its last whole tag or fragment) takes the final name;
    /// a file that holds nothing is removed. Gives the path kept, if any.
    pub async fn abandon(self) -> Option<PathBuf> {
        let MediaFileWriter { path, temporary, file, io, .. } = self;
        // Unflushed bytes are dropped with the buffer: there is no room for them.
        drop(file);
        let on_disk = tokio::fs::metadata(&temporary).await.map(|m| m.len()).unwrap_or(0);
        if on_disk > 0 && rename(&temporary, &path, io).await.is_ok() {
            return Some(path);
        }
        let _ = tokio::fs::remove_file(&temporary).await;
        None
    }

    async fn write_chunks(&mut self) -> std::io::Result<()> {
        for chunk in self.chunks.drain(..) {
            self.n_bytes += chunk.len() as u64;
            self.file.write_all(&chunk).await?;
        }
        Ok(())
    }

    /// Appends `moov`, patches the `mdat` size, and for faststart rewrites the file moov first.
    async fn finish_classic(&mut self, finish: ClassicFinish) -> std::io::Result<()> {
        let moov_start = self.n_bytes;
        self.file.write_all(&finish.moov).await?;
        self.n_bytes += finish.moov.len() as u64;
        self.file.flush().await?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(finish.mdat_size_patch.offset)).await?;
        file.write_all(&finish.mdat_size_patch.bytes).await?;
        file.seek(SeekFrom::End(0)).await?;
        if self.mp4_layout != Mp4Layout::Faststart {
            return Ok(());
        }
        // The mdat header starts 8 bytes before its 64-bit size field.
        let mdat_start = finish.mdat_size_patch.offset.saturating_sub(8);
        if self.insert_moov_in_front(&finish, moov_start, mdat_start).await? {
            return Ok(());
        }
        let moov = faststart_moov(&finish.moov, mdat_start).map_err(std::io::Error::other)?;
        let moved = temporary_path(&self.temporary);
        let in_place = self.io.in_place;
        let mut source = FileIo::open(&self.temporary, in_place).await?;
        let mut target =
            BufWriter::with_capacity(write_buffer(self.io), FileIo::create(&moved, in_place).await?);
        let mut head = vec![0u8; usize::try_from(mdat_start).unwrap_or(0)];
        source.read_exact(&mut head).await?;
        target.write_all(&head).await?;
        target.write_all(&moov).await?;
        let media_len = moov_start - mdat_start;
        if in_place {
            // The media bytes pass unchanged: the kernel copies them (`copy_file_range`).
            target.flush().await?;
            source.copy_in_place(target.get_mut(), media_len)?;
        } else {
            let mut media = source.take(media_len);
            tokio::io::copy(&mut media, &mut target).await?;
        }
        target.flush().await?;
        self.n_bytes = self.n_bytes - finish.moov.len() as u64 + moov.len() as u64;
        *self.file.get_mut() = target.into_inner();
        rename(&moved, &self.temporary, self.io).await
    }
}

impl MediaFileWriter {
    /// Faststart without copying the media: a range of whole blocks inserted in front of the
    /// `mdat` (which the muxer started on a block) takes the relocated `moov`, and the old one is
    /// cut off the end. `false` where the file system cannot insert (the caller copies instead).
    async fn insert_moov_in_front(
        &mut self,
        finish: &ClassicFinish,
        moov_start: u64,
        mdat_start: u64,
    ) -> std::io::Result<bool> {
        if mdat_start % BLOCK_ALIGN != 0 {
            return Ok(false);
        }
        let (range, head) =
            faststart_insert(&finish.moov, mdat_start, BLOCK_ALIGN).map_err(std::io::Error::other)?;
        let file = self.file.get_mut();
        // tokio's file may still be writing the size patch: the range goes in after it.
        file.flush().await?;
        if let Err(error) = file.insert_range(mdat_start, range) {
            tracing::debug!(file = %self.temporary.display(), "faststart copies the media: {error}");
            return Ok(false);
        }
        file.seek(SeekFrom::Start(mdat_start)).await?;
        file.write_all(&head).await?;
        file.flush().await?;
        // The old moov now ends the file, `range` bytes further on.
        file.set_len(moov_start + range).await?;
        file.seek(SeekFrom::End(0)).await?;
        self.n_bytes = moov_start + range;
        Ok(true)
    }
}

/// Renames `from` to `to`. In place (a batch run), a file at `to` is removed first: ext4 starts
/// writing a file back at once when it replaces another by a rename (`auto_da_alloc`).
async fn rename(from: &Path, to: &Path, io: IoSettings) -> std::io::Result<()> {
    if io.in_place {
        match std::fs::remove_file(to) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::rename(from, to)
    } else {
        tokio::fs::rename(from, to).await
    }
}
