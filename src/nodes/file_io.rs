//! How file nodes (`FileIn`, `FileOut`, `Dvr`) read and write, in one of two modes.
//!
//! - **Pooled** (the default, live graphs): tokio's files, each read or write a job on the
//!   blocking pool, so a slow disk never stalls a runtime worker serving sockets; files are
//!   flushed at every keyframe or fragment and `fdatasync`ed when closed.
//! - **In place** (a batch run: `srs remux`, `srs run` of a graph with only file sources): the
//!   graph runs on a current-thread runtime that has nothing else to serve, so reads and writes
//!   are plain system calls made where the bytes are, in blocks of [`BATCH_BLOCK`] or more, with
//!   no hop to another thread; no flush at keyframes, and `fdatasync` only when asked (`--sync`).
//!
//! The mode is graph-scoped state ([`FileIoMode`] in `Engine::shared`), set before the engine starts.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::file_blocks::InputBlocks;

/// Bytes read or written at once in a batch run.
pub const BATCH_BLOCK: usize = 1 << 20;

/// The I/O mode of a graph's file nodes; pooled unless `set_batch` was called.
#[derive(Debug, Default)]
pub struct FileIoMode {
    batch: OnceLock<BatchIo>,
    /// Blocks of a batch run's inputs, where FLV sinks look for tags to copy unchanged.
    inputs: Arc<InputBlocks>,
}

/// A batch run's file I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchIo {
    /// `fdatasync` each output file before renaming it into place.
    pub sync: bool,
    /// Bytes a faststart MP4 output keeps in front of its media for the `moov`, estimated from the
    /// input (`codec::mp4::moov_room_for`); 0 when unknown (the `moov` is then inserted at the end).
    pub moov_room: u64,
}

/// What one file node does, from the graph's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoSettings {
    /// System calls made in place (batch) rather than on the blocking pool (live).
    pub in_place: bool,
    /// `fdatasync` a finished file before its rename.
    pub sync: bool,
    /// Flush buffered bytes at every point a reader can stop at (keyframe, fragment).
    pub flush_at_keyframes: bool,
    /// Bytes read at once from an input, and buffered before a write.
    pub block: usize,
    /// Room kept for a faststart MP4's `moov` in front of its media (0: none).
    pub moov_room: u64,
}

/// Live graphs' reads and writes.
const POOLED_BLOCK: usize = 256 * 1024;

impl FileIoMode {
    /// Makes the graph's file I/O a batch run's; the first call wins.
    pub fn set_batch(&self, batch: BatchIo) {
        let _ = self.batch.set(batch);
    }

    pub fn inputs(&self) -> &Arc<InputBlocks> {
        &self.inputs
    }

    pub fn settings(&self) -> IoSettings {
        match self.batch.get() {
            None => IoSettings {
                in_place: false,
                sync: true,
                flush_at_keyframes: true,
                block: POOLED_BLOCK,
                moov_room: 0,
            },
            Some(batch) => IoSettings {
                in_place: true,
                sync: batch.sync,
                flush_at_keyframes: false,
                block: BATCH_BLOCK,
                moov_room: batch.moov_room,
            },
        }
    }
}

/// The file system block that ranges inserted into a file must start at and be made of (ext4's
/// and XFS's usual block; a file system with larger blocks refuses, and the caller copies).
pub const BLOCK_ALIGN: u64 = 4096;

/// A file read or written in place or through tokio's blocking pool.
#[derive(Debug)]
pub enum FileIo {
    Pooled(tokio::fs::File),
    InPlace(std::fs::File),
}

impl FileIo {
    pub async fn open(path: impl AsRef<Path>, in_place: bool) -> std::io::Result<FileIo> {
        if in_place {
            Ok(FileIo::InPlace(std::fs::File::open(path)?))
        } else {
            Ok(FileIo::Pooled(tokio::fs::File::open(path).await?))
        }
    }

    pub async fn create(path: impl AsRef<Path>, in_place: bool) -> std::io::Result<FileIo> {
        if in_place {
            Ok(FileIo::InPlace(std::fs::File::create(path)?))
        } else {
            Ok(FileIo::Pooled(tokio::fs::File::create(path).await?))
        }
    }

    pub async fn sync_data(&self) -> std::io::Result<()> {
        match self {
            FileIo::Pooled(file) => file.sync_data().await,
            FileIo::InPlace(file) => file.sync_data(),
        }
    }

    /// Copies `len` bytes from this file's position to `target`'s, in the kernel where it can
    /// (`copy_file_range`); both files in place.
    pub fn copy_in_place(&mut self, target: &mut FileIo, len: u64) -> std::io::Result<u64> {
        match (self, target) {
            (FileIo::InPlace(source), FileIo::InPlace(target)) => {
                std::io::copy(&mut source.take(len), target)
            }
            _ => Err(std::io::Error::other("an in-place copy between pooled files")),
        }
    }

    /// Another handle on this file, sharing its position, for a thread that writes to it (a
    /// batch output's runs of input bytes, `file_behind`). In place only.
    pub fn try_clone_in_place(&self) -> std::io::Result<std::fs::File> {
        match self {
            FileIo::InPlace(file) => file.try_clone(),
            FileIo::Pooled(_) => {
                Err(std::io::Error::other("a pooled file is not written from another thread"))
            }
        }
    }

    /// Inserts `len` bytes (reading as zeros) at `offset`, moving what follows without copying it
    /// (`fallocate` with `FALLOC_FL_INSERT_RANGE`: whole blocks of `BLOCK_ALIGN`, on ext4 and XFS).
    /// An error where the file system cannot; the caller then copies.
    pub fn insert_range(&self, offset: u64, len: u64) -> std::io::Result<()> {
        use nix::fcntl::{fallocate, FallocateFlags};
        let too_far = || std::io::Error::other("offset past the largest file");
        let (offset, len) =
            (i64::try_from(offset).map_err(|_| too_far())?, i64::try_from(len).map_err(|_| too_far())?);
        let mode = FallocateFlags::FALLOC_FL_INSERT_RANGE;
        let result = match self {
            FileIo::Pooled(file) => fallocate(file, mode, offset, len),
            FileIo::InPlace(file) => fallocate(file, mode, offset, len),
        };
        result.map_err(std::io::Error::from)
    }

    pub async fn set_len(&self, len: u64) -> std::io::Result<()> {
        match self {
            FileIo::Pooled(file) => file.set_len(len).await,
            FileIo::InPlace(file) => file.set_len(len),
        }
    }

    pub async fn len(&self) -> std::io::Result<u64> {
        match self {
            FileIo::Pooled(file) => Ok(file.metadata().await?.len()),
            FileIo::InPlace(file) => Ok(file.metadata()?.len()),
        }
    }
}

impl AsyncRead for FileIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            FileIo::Pooled(file) => Pin::new(file).poll_read(cx, buf),
            FileIo::InPlace(file) => {
                let n = file.read(buf.initialize_unfilled())?;
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl AsyncWrite for FileIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            FileIo::Pooled(file) => Pin::new(file).poll_write(cx, buf),
            FileIo::InPlace(file) => Poll::Ready(file.write(buf)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            FileIo::Pooled(file) => Pin::new(file).poll_flush(cx),
            FileIo::InPlace(file) => Poll::Ready(file.flush()),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            FileIo::Pooled(file) => Pin::new(file).poll_shutdown(cx),
            FileIo::InPlace(file) => Poll::Ready(file.flush()),
        }
    }
}

impl AsyncSeek for FileIo {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> std::io::Result<()> {
        match self.get_mut() {
            FileIo::Pooled(file) => Pin::new(file).start_seek(position),
            FileIo::InPlace(file) => file.seek(position).map(drop),
        }
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<u64>> {
        match self.get_mut() {
            FileIo::Pooled(file) => Pin::new(file).poll_complete(cx),
            FileIo::InPlace(file) => Poll::Ready(file.stream_position()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

    #[test]
    fn live_unless_set_batch() {
        let mode = FileIoMode::default();
        assert!(!mode.settings().in_place && mode.settings().sync && mode.settings().flush_at_keyframes);
        mode.set_batch(BatchIo { sync: false, moov_room: 0 });
        mode.set_batch(BatchIo { sync: true, moov_room: 0 });
        let batch = mode.settings();
        assert!(batch.in_place && !batch.sync && !batch.flush_at_keyframes && batch.block >= BATCH_BLOCK);
    }

    #[tokio::test]
    async fn both_modes_write_seek_and_read_the_same() {
        let dir = std::env::temp_dir().join(format!("srs-file-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for in_place in [false, true] {
            let path = dir.join(format!("{in_place}.bin"));
            let mut file = FileIo::create(&path, in_place).await.unwrap();
            file.write_all(b"hello world").await.unwrap();
            file.seek(SeekFrom::Start(6)).await.unwrap();
            file.write_all(b"WORLD").await.unwrap();
            assert_eq!(file.seek(SeekFrom::End(0)).await.unwrap(), 11);
            file.flush().await.unwrap();
            file.sync_data().await.unwrap();
            drop(file);
            let mut text = String::new();
            FileIo::open(&path, in_place).await.unwrap().read_to_string(&mut text).await.unwrap();
            assert_eq!(text, "hello WORLD");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
