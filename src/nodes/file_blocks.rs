//! A batch run's inputs read in large blocks that frames share, and the sinks' way to tell that a
//! frame's tag is still, byte for byte, in the block it was read in.
//!
//! FLV to FLV passes most tags unchanged. The FLV source of a batch run reads its input with
//! positioned reads of a block at a time (`BATCH_BLOCK`), each block starting at the first tag the
//! previous one did not hold whole (`FlvReader::next_block`), so every tag body is a slice of one
//! block. The FLV sink, finding the tag it would write around a frame's data in that block
//! (`InputBlocks::find_unchanged`), writes the block's bytes (`InputRun`, consecutive tags joined)
//! instead of building the tag: each byte of such a run is read once into the block and written
//! once from it, with nothing copied in the process.
//!
//! Block buffers are reused once every frame sliced from them is gone (a few are kept), so after
//! the first blocks a read costs neither page faults nor zeroing.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bytes::Bytes;

/// Free block buffers kept for the next reads.
const KEPT_BUFFERS: usize = 4;

/// Consecutive bytes of one input block: unchanged tags an output writes as they were read.
#[derive(Debug, Clone)]
pub struct InputRun {
    block: Arc<Block>,
    start: usize,
    end: usize,
}

impl InputRun {
    /// This run followed by `next` when `next` starts where it ends, in the same block.
    pub fn joined(&self, next: &InputRun) -> Option<InputRun> {
        (Arc::ptr_eq(&self.block, &next.block) && self.end == next.start).then(|| InputRun {
            block: Arc::clone(&self.block),
            start: self.start,
            end: next.end,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.block.data[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Where the run starts in its input file.
    pub fn file_offset(&self) -> u64 {
        self.block.offset + self.start as u64
    }
}

/// The blocks a graph's batch inputs read (`Engine::shared`, through `FileIoMode`): their
/// buffers, and where each block came from while frames still hold it.
#[derive(Debug, Default)]
pub struct InputBlocks {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Blocks read, while alive (a dead one is skipped, and forgotten at the next read).
    blocks: Mutex<Vec<Weak<Block>>>,
    /// Buffers of blocks no frame holds any more.
    free: Mutex<Vec<Vec<u8>>>,
}

/// Some bytes of an input file: `data[..len]` is the file's from `offset` on.
#[derive(Debug)]
struct Block {
    data: Vec<u8>,
    len: usize,
    offset: u64,
    home: Weak<Shared>,
}

impl Drop for Block {
    fn drop(&mut self) {
        if let Some(home) = self.home.upgrade() {
            let mut free = lock(&home.free);
            if free.len() < KEPT_BUFFERS {
                free.push(std::mem::take(&mut self.data));
            }
        }
    }
}

/// The owner a block's `Bytes` keep.
struct Owner(Arc<Block>);

impl AsRef<[u8]> for Owner {
    fn as_ref(&self) -> &[u8] {
        &self.0.data[..self.0.len]
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl InputBlocks {
    /// Up to `len` bytes of `file` from `offset` (fewer at its end), in a block registered for
    /// `find_unchanged` as long as a slice of it lives.
    pub fn read(&self, file: &File, offset: u64, len: usize) -> std::io::Result<Bytes> {
        let mut data = lock(&self.shared.free).pop().unwrap_or_default();
        if data.len() < len {
            data.resize(len, 0);
        }
        let mut filled = 0;
        while filled < len {
            match file.read_at(&mut data[filled..len], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let block = Arc::new(Block { data, len: filled, offset, home: Arc::downgrade(&self.shared) });
        let mut blocks = lock(&self.shared.blocks);
        blocks.retain(|block| block.strong_count() > 0);
        blocks.push(Arc::downgrade(&block));
        drop(blocks);
        Ok(Bytes::from_owner(Owner(block)))
    }

    /// Where a block read here holds `before`, then `data`, then `after`, when `data` is a slice
    /// of it: the three as a run of the block, to write instead of them. Only the bytes around
    /// `data` are compared: `data` itself is the block's bytes.
    pub fn find_unchanged(&self, before: &[u8], data: &Bytes, after: &[u8]) -> Option<InputRun> {
        if data.is_empty() {
            return None;
        }
        let address = data.as_ptr() as usize;
        let blocks = lock(&self.shared.blocks);
        // A live block whose buffer holds `data`'s address holds `data`: live buffers never overlap.
        let block = blocks.iter().rev().filter_map(Weak::upgrade).find(|block| {
            let start = block.data.as_ptr() as usize;
            address >= start && address + data.len() <= start + block.len
        })?;
        drop(blocks);
        let bytes = &block.data[..block.len];
        let data_at = address - bytes.as_ptr() as usize;
        let start = data_at.checked_sub(before.len())?;
        let end = data_at + data.len() + after.len();
        let unchanged =
            bytes.get(start..data_at)? == before && bytes.get(data_at + data.len()..end)? == after;
        unchanged.then_some(InputRun { block, start, end })
    }

    /// Blocks still held by frames.
    #[cfg(test)]
    fn n_live(&self) -> usize {
        lock(&self.shared.blocks).iter().filter(|block| block.strong_count() > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn slices_of_a_block_are_found_with_their_file_offsets_while_they_live() {
        let path = std::env::temp_dir().join(format!("srs-file-blocks-{}", std::process::id()));
        let mut content = vec![7u8; 3000];
        content[1100..1110].copy_from_slice(b"0123456789");
        std::fs::File::create(&path).unwrap().write_all(&content).unwrap();
        let file = File::open(&path).unwrap();
        let blocks = InputBlocks::default();
        let bytes = blocks.read(&file, 1000, 1000).unwrap();
        assert_eq!(&bytes[..], &content[1000..2000]);
        let data = bytes.slice(103..107);
        let found = blocks.find_unchanged(b"012", &data, b"78").unwrap();
        assert_eq!((found.file_offset(), found.bytes()), (1100, &content[1100..1109]));
        assert!(blocks.find_unchanged(b"x12", &data, b"78").is_none(), "bytes before differ");
        assert!(blocks.find_unchanged(b"012", &data, b"79").is_none(), "bytes after differ");
        assert!(blocks.find_unchanged(b"", &Bytes::copy_from_slice(&data), b"").is_none(), "not a block's");
        let next = blocks.find_unchanged(b"", &bytes.slice(109..200), b"").unwrap();
        let joined = found.joined(&next).unwrap();
        assert_eq!((joined.file_offset(), joined.bytes()), (1100, &content[1100..1200]));
        assert!(next.joined(&found).is_none());
        // Past the end of the file: the block holds what there is.
        let tail = blocks.read(&file, 2500, 1000).unwrap();
        assert_eq!(&tail[..], &content[2500..]);
        let in_tail = blocks.find_unchanged(b"", &tail.slice(10..20), b"").unwrap();
        assert_eq!(in_tail.file_offset(), 2510);
        assert!(found.joined(&in_tail).is_none(), "another block");
        // Once every slice is gone the block is forgotten and its buffer read into again.
        drop((bytes, data, tail, found, next, joined, in_tail));
        assert_eq!(blocks.n_live(), 0);
        let again = blocks.read(&file, 0, 500).unwrap();
        assert_eq!(&again[..], &content[..500]);
        assert_eq!(blocks.find_unchanged(b"", &again.slice(1..2), b"").map(|r| r.file_offset()), Some(1));
        assert_eq!(blocks.n_live(), 1);
        std::fs::remove_file(&path).unwrap();
    }
}
