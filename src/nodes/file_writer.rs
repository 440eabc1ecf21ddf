//! One media file on disk, shared by `FileOut` and `Dvr`: written under `<path>.tmp`, flushed at
//! every point a reader can stop at (so a killed process leaves a playable `.tmp`), finalized when
//! closed (classic MP4: `moov` and the `mdat` size; faststart: `moov` moved to the front; FLV: the
//! duration and size written into the first onMetaData) and renamed to its final name.
//!
//! The bytes come from `file_muxer.rs`; this file only does the I/O.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use super::file_behind::WriteBehind;
use super::file_blocks::{InputBlocks, InputRun};
use super::file_io::{FileIo, IoSettings, BLOCK_ALIGN};
use super::file_muxer::{FileMuxer, Mp4Layout};
use super::FileFormat;
use crate::codec::mp4::{faststart_insert, faststart_moov, room_after_moov, ClassicFinish};
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
    /// A batch run's input blocks, whose unchanged FLV tags are written as they were read.
    inputs: Option<Arc<InputBlocks>>,
    /// Unchanged input bytes to write before anything else (consecutive tags of a block joined).
    pending_copy: Option<InputRun>,
    /// The thread writing runs of unchanged input bytes, once there was one.
    behind: Option<WriteBehind>,
    n_bytes: u64,
    /// Of `n_bytes`, those written as runs of an input's bytes.
    n_copied: u64,
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
            muxer: FileMuxer::with_moov_room(format, mp4_layout, io.moov_room),
            mp4_layout,
            chunks: Vec::new(),
            inputs: None,
            pending_copy: None,
            behind: None,
            n_bytes: 0,
            n_copied: 0,
            n_frames: 0,
            first_dts: None,
            last_dts: None,
        })
    }

    /// Writes FLV tags that `inputs` hold unchanged as the input's bytes rather than building them
    /// (`FileMuxer::copy_unchanged`), from a thread of their own (`file_behind`); batch runs only
    /// (files in place).
    pub fn copy_unchanged_from(&mut self, inputs: Arc<InputBlocks>) {
        if self.io.in_place {
            self.inputs = Some(inputs);
        }
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
        if let Some(range) =
            self.inputs.as_deref().and_then(|inputs| self.muxer.copy_unchanged(event, inputs))
        {
            let joined = self.pending_copy.as_ref().and_then(|pending| pending.joined(&range));
            match joined {
                Some(joined) => self.pending_copy = Some(joined),
                None => {
                    self.copy_pending().await?;
                    self.pending_copy = Some(range);
                }
            }
            return Ok(());
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
        self.copy_pending().await?;
        self.settle()?;
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
        tracing::debug!(
            file = %self.path.display(),
            bytes = self.n_bytes,
            copied_from_input = self.n_copied,
            "file closed"
        );
        let duration = Duration::from_millis(u64::try_from(self.duration().as_millis()).unwrap_or(0));
        Ok(ClosedFile { path: self.path, n_bytes: self.n_bytes, n_frames: self.n_frames, duration })
    }

    /// Gives the file up after a write failed (a full disk): what reached the disk (a prefix
    /// of the recording, playable up to its last whole tag or fragment) takes the final name;
    /// a file that holds nothing is removed. Gives the path kept, if any.
    pub async fn abandon(self) -> Option<PathBuf> {
        let MediaFileWriter { path, temporary, file, io, behind, .. } = self;
        // Unflushed bytes are dropped with the buffer: there is no room for them. Queued runs are
        // written (or fail) before the thread ends.
        drop(behind);
        drop(file);
        let on_disk = tokio::fs::metadata(&temporary).await.map(|m| m.len()).unwrap_or(0);
        if on_disk > 0 && rename(&temporary, &path, io).await.is_ok() {
            return Some(path);
        }
        let _ = tokio::fs::remove_file(&temporary).await;
        None
    }

    /// Queues the unchanged input bytes waiting to be written, after what is buffered (written
    /// now: nothing is queued before it, see `write_chunks`).
    async fn copy_pending(&mut self) -> std::io::Result<()> {
        let Some(run) = self.pending_copy.take() else { return Ok(()) };
        self.file.flush().await?;
        let behind = match &mut self.behind {
            Some(behind) => behind,
            None => self.behind.insert(WriteBehind::start(self.file.get_ref().try_clone_in_place()?)?),
        };
        self.n_bytes += run.len() as u64;
        self.n_copied += run.len() as u64;
        behind.write(run)
    }

    /// Waits until the runs queued are in the file: only then may this thread write to it.
    fn settle(&mut self) -> std::io::Result<()> {
        self.behind.as_mut().map_or(Ok(()), WriteBehind::settle)
    }

    async fn write_chunks(&mut self) -> std::io::Result<()> {
        if !self.chunks.is_empty() {
            self.copy_pending().await?;
            self.settle()?;
        }
        for chunk in self.chunks.drain(..) {
            self.n_bytes += chunk.len() as u64;
            self.file.write_all(&chunk).await?;
        }
        Ok(())
    }

    /// Appends `moov`, patches the `mdat` size, and for faststart rewrites the file moov first.
    async fn finish_classic(&mut self, finish: ClassicFinish) -> std::io::Result<()> {
        if self.moov_into_room(&finish).await? {
            return Ok(());
        }
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
    /// Faststart where the muxer kept room in front of the media (a batch run's estimate): the
    /// `moov` and a `free` box over the rest of the room are written there, and the `mdat` size
    /// patched; nothing moves. `false` when there is no room or the `moov` outgrew it (the caller
    /// then appends it and moves it to the front as without room).
    async fn moov_into_room(&mut self, finish: &ClassicFinish) -> std::io::Result<bool> {
        let Some(room) = finish.room else { return Ok(false) };
        let Some(tail) = room_after_moov(finish.moov.len() as u64, room) else {
            tracing::debug!(
                file = %self.temporary.display(),
                moov = finish.moov.len(),
                room = room.len,
                "the moov outgrew the room kept for it: moved to the front at the end"
            );
            return Ok(false);
        };
        self.file.flush().await?;
        let file = self.file.get_mut();
        let tail_at = room.offset + finish.moov.len() as u64;
        let writes = [
            (room.offset, &finish.moov),
            (tail_at, &tail),
            (finish.mdat_size_patch.offset, &finish.mdat_size_patch.bytes),
        ];
        for (offset, bytes) in writes {
            file.seek(SeekFrom::Start(offset)).await?;
            file.write_all(bytes).await?;
        }
        file.seek(SeekFrom::End(0)).await?;
        file.flush().await?;
        Ok(true)
    }

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

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::codec::mp4::read_mp4;
    use crate::nodes::file_io::{BatchIo, FileIoMode};

    const H264_AAC: &[u8] = include_bytes!("../../tests/fixtures/mp4/h264_aac.mp4");

    /// Top-level box names of an MP4 file.
    fn box_names(file: &[u8]) -> Vec<(String, u64)> {
        let mut names = Vec::new();
        let mut at = 0usize;
        while at + 16 <= file.len() {
            let mut size = u64::from(u32::from_be_bytes(file[at..at + 4].try_into().unwrap()));
            if size == 1 {
                size = u64::from_be_bytes(file[at + 8..at + 16].try_into().unwrap());
            }
            names.push((String::from_utf8_lossy(&file[at + 4..at + 8]).into_owned(), at as u64));
            at += size as usize;
        }
        assert_eq!(at, file.len(), "boxes cover the file");
        names
    }

    /// A batch run's faststart file with `moov_room` kept: with room enough the `moov` goes
    /// right after `ftyp`; with too little it is moved to the front at the end, as without room.
    /// Either way the file reads back as the source's frames.
    #[tokio::test]
    async fn faststart_moov_goes_into_the_room_or_is_moved_in_front_when_it_outgrew_it() {
        let mut source = read_mp4(&Bytes::from_static(H264_AAC)).unwrap();
        // Eight loops of the clip: a moov larger than the one block the smallest room rounds up to.
        let clip = std::mem::take(&mut source.frames);
        let span = clip.iter().map(|f| f.dts).max().unwrap() + MediaTime::from_millis(100);
        for n in 0..8 {
            let shift = MediaTime::from_millis(span.as_millis() * n);
            source.frames.extend(clip.iter().map(|f| crate::media::Frame {
                dts: f.dts + shift,
                pts: f.pts + shift,
                ..f.clone()
            }));
        }
        let dir = std::env::temp_dir().join(format!("srs-file-writer-{}", std::process::id()));
        for (moov_room, moov_at_32) in [(1 << 20, true), (100, false)] {
            let mode = FileIoMode::default();
            mode.set_batch(BatchIo { sync: false, moov_room });
            let path = dir.join(format!("room-{moov_room}.mp4"));
            let mut writer =
                MediaFileWriter::create(path.clone(), FileFormat::Mp4, Mp4Layout::Faststart, mode.settings())
                    .await
                    .unwrap();
            writer.write(&MediaEvent::Description(Arc::new(source.description.clone()))).await.unwrap();
            for frame in &source.frames {
                writer.write(&MediaEvent::Frame(frame.clone())).await.unwrap();
            }
            writer.close().await.unwrap();
            let file = std::fs::read(&path).unwrap();
            let names = box_names(&file);
            let position = |name: &str| names.iter().position(|(n, _)| n == name).unwrap();
            assert!(position("moov") < position("mdat"), "room {moov_room}: {names:?}");
            assert_eq!(names.last().unwrap().0, "mdat", "room {moov_room}: {names:?}");
            assert_eq!(names[1] == ("moov".to_owned(), 32), moov_at_32, "room {moov_room}: {names:?}");
            let back = read_mp4(&Bytes::from(file)).unwrap();
            assert_eq!(back.frames.len(), source.frames.len());
            // Per track (ties in decode time may interleave the tracks differently).
            for kind in [crate::media::MediaKind::Video, crate::media::MediaKind::Audio] {
                let track = |frames: &[crate::media::Frame]| -> Vec<(Bytes, bool)> {
                    frames.iter().filter(|f| f.kind() == kind).map(|f| (f.data.clone(), f.keyframe)).collect()
                };
                assert!(track(&back.frames) == track(&source.frames), "room {moov_room}: {kind:?} frames");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
