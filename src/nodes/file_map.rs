//! A batch run's FLV input, mapped into memory rather than read, and the sinks' way to tell that a
//! frame's bytes are still where the input holds them.
//!
//! FLV to FLV passes most tags unchanged. Read into buffers, every byte would be copied out of the
//! page cache, into the reader, into the tag and back into the page cache; mapped, the reader only
//! touches tag headers, frames are slices of the mapping, and the FLV sink, finding a tag's bytes
//! unchanged in the input (`InputMaps::find_unchanged`), has the kernel copy runs of such tags from
//! the input file to the output (`copy_file_range`), so the bodies never enter the process.
//!
//! One of the crate's three `unsafe` places (see `lib.rs`): mapping a file. A mapping is only sound while
//! nobody changes the file; if another process truncated it during the remux, reading a page past
//! its new end would kill the process with SIGBUS. Only batch runs (`srs remux`, whose inputs are
//! finished files) map their inputs; live graphs and `repeat` sources read as before.
#![allow(unsafe_code)]

use std::fs::File;
use std::num::NonZeroUsize;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use nix::sys::mman::{madvise, mmap, munmap, MapFlags, MmapAdvise, ProtFlags};

/// Pages given back to the page cache at once, behind the reader.
const PAGE: usize = 4096;

/// A whole file mapped read-only.
#[derive(Debug)]
pub struct MappedFile {
    start: NonNull<u8>,
    len: usize,
    file: Arc<File>,
}

// SAFETY: the mapping is read-only and private; its bytes are only ever read, from any thread.
unsafe impl Send for MappedFile {}
// SAFETY: as above: shared references only read.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Maps `file` whole; `None` for an empty file (nothing to map).
    pub fn map(file: File) -> std::io::Result<Option<MappedFile>> {
        let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
        let Some(length) = NonZeroUsize::new(len) else { return Ok(None) };
        // SAFETY: a new private read-only mapping at an address the kernel picks aliases nothing
        // of ours; see the module documentation for the file changing underneath.
        let start =
            unsafe { mmap(None, length, ProtFlags::PROT_READ, MapFlags::MAP_PRIVATE, file.as_fd(), 0) }?;
        let start = start.cast::<u8>();
        // SAFETY: the range is the mapping just made. Only advice: sequential reading ahead.
        let _ = unsafe { madvise(start.cast(), len, MmapAdvise::MADV_SEQUENTIAL) };
        Ok(Some(MappedFile { start, len, file: Arc::new(file) }))
    }

    pub fn file(&self) -> &Arc<File> {
        &self.file
    }

    /// The mapped bytes, as a `Bytes` that keeps the mapping alive.
    pub fn bytes(self: &Arc<Self>) -> Bytes {
        Bytes::from_owner(Shared(Arc::clone(self)))
    }

    /// Drops the pages wholly before `offset` from the process (they stay in the page cache): the
    /// reader is past them, so the process's memory does not grow with the file. A slice that is
    /// read again later faults its page back in, with the same bytes.
    pub fn release_before(&self, offset: usize) {
        let len = offset.min(self.len) / PAGE * PAGE;
        if len > 0 {
            // SAFETY: the range lies in the mapping. For a private, read-only file mapping,
            // `MADV_DONTNEED` only unmaps the pages; reading them again maps the file's bytes.
            let _ = unsafe { madvise(self.start.cast(), len, MmapAdvise::MADV_DONTNEED) };
        }
    }
}

impl AsRef<[u8]> for MappedFile {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `start..start + len` is mapped readable until `drop`, which needs `&mut self`.
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours and nothing borrows it any more (every `Bytes` of it holds an
        // `Arc` of this value).
        let _ = unsafe { munmap(self.start.cast(), self.len) };
    }
}

/// The owner `Bytes::from_owner` keeps.
struct Shared(Arc<MappedFile>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref().as_ref()
    }
}

/// Where a run of output bytes can be copied from: a range of an input file.
#[derive(Debug, Clone)]
pub struct InputRange {
    pub file: Arc<File>,
    pub offset: u64,
    pub len: u64,
}

impl InputRange {
    /// This range followed by `next` when `next` starts where it ends, in the same file.
    pub fn joined(&self, next: &InputRange) -> Option<InputRange> {
        (Arc::ptr_eq(&self.file, &next.file) && self.offset + self.len == next.offset).then(|| InputRange {
            file: Arc::clone(&self.file),
            offset: self.offset,
            len: self.len + next.len,
        })
    }
}

/// The inputs a graph mapped (`Engine::shared`, through `FileIoMode`).
#[derive(Debug, Default)]
pub struct InputMaps {
    maps: Mutex<Vec<(Bytes, Arc<File>)>>,
}

impl InputMaps {
    pub fn add(&self, mapped: &Arc<MappedFile>) {
        self.lock().push((mapped.bytes(), Arc::clone(mapped.file())));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Bytes, Arc<File>)>> {
        self.maps.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where the input holds `before`, then `data`, then `after`, when `data` is a slice of a mapped
    /// input: the range of the three, to copy instead of writing them. Only the bytes around
    /// `data` are compared: `data` itself is the input's bytes.
    pub fn find_unchanged(&self, before: &[u8], data: &Bytes, after: &[u8]) -> Option<InputRange> {
        let address = data.as_ptr() as usize;
        let maps = self.lock();
        let (map, file) = maps.iter().find(|(map, _)| {
            let start = map.as_ptr() as usize;
            address >= start && address + data.len() <= start + map.len()
        })?;
        let data_at = address - map.as_ptr() as usize;
        let start = data_at.checked_sub(before.len())?;
        let end = data_at + data.len() + after.len();
        let unchanged = map.get(start..data_at)? == before && map.get(data_at + data.len()..end)? == after;
        unchanged.then(|| InputRange {
            file: Arc::clone(file),
            offset: start as u64,
            len: (end - start) as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn slices_of_a_mapped_input_are_found_with_their_offsets() {
        let path = std::env::temp_dir().join(format!("srs-file-map-{}", std::process::id()));
        let mut content = vec![7u8; 3 * PAGE];
        content[100..110].copy_from_slice(b"0123456789");
        std::fs::File::create(&path).unwrap().write_all(&content).unwrap();
        let mapped = Arc::new(MappedFile::map(File::open(&path).unwrap()).unwrap().unwrap());
        let bytes = mapped.bytes();
        assert_eq!(&bytes[..], &content[..]);
        let maps = InputMaps::default();
        maps.add(&mapped);
        let data = bytes.slice(103..107);
        let found = maps.find_unchanged(b"012", &data, b"78").unwrap();
        assert_eq!((found.offset, found.len), (100, 9));
        assert!(maps.find_unchanged(b"x12", &data, b"78").is_none(), "bytes before differ");
        assert!(maps.find_unchanged(b"012", &data, b"79").is_none(), "bytes after differ");
        assert!(maps.find_unchanged(b"", &Bytes::copy_from_slice(&data), b"").is_none(), "not in a mapping");
        let next = maps.find_unchanged(b"", &bytes.slice(109..200), b"").unwrap();
        assert_eq!(found.joined(&next).map(|r| (r.offset, r.len)), Some((100, 100)));
        assert!(next.joined(&found).is_none());
        // Released pages read back the same bytes.
        mapped.release_before(2 * PAGE);
        assert_eq!(&bytes[..], &content[..]);
        assert!(MappedFile::map(File::create(&path).unwrap()).unwrap().is_none(), "empty");
        std::fs::remove_file(&path).unwrap();
    }
}
