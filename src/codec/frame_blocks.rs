//! The blocks a demuxer writes frames into and cuts them from (`BytesMut::split`), reused once
//! every frame cut from a block has been dropped.
//!
//! Writing each frame into fresh memory costs a page fault per 4 KiB: in `perf` of native HLS
//! ingests, faults under the Annex-B conversion were the largest single cost. A block whose frames
//! are gone is still mapped, so writing into it again costs nothing more. Blocks still shared with
//! frames wait in a queue (a watched stream's hub keeps `queue_length`, 30 s, of packets, so a block
//! may wait that long; an unwatched one keeps its gop cache), and a block found unused when another is already being reused goes back to the
//! allocator: no block but the one in use is ever kept idle.

use std::collections::VecDeque;

use bytes::BytesMut;

/// Blocks waiting for their frames to go, at most; an older one is left to its frames. Waiting
/// costs only a handle (the frames hold the memory anyway): 1024 blocks of 256 KiB are 30 s of a
/// 70 Mbit/s stream.
const MAX_WAITING: usize = 1024;

/// A demuxer track's output blocks.
#[derive(Debug)]
pub struct FrameBlocks {
    current: BytesMut,
    /// Blocks given up for a new one, oldest first, each still shared with frames when retired.
    waiting: VecDeque<BytesMut>,
    /// The next new block's size: it doubles up to `max_block`, so a demuxer that reads one frame
    /// (a probe, a fuzz input, a stream that ends at once) does not pay for a whole block.
    next_block: usize,
    max_block: usize,
}

impl FrameBlocks {
    pub fn new(first_block: usize, max_block: usize) -> FrameBlocks {
        FrameBlocks { current: BytesMut::new(), waiting: VecDeque::new(), next_block: first_block, max_block }
    }

    /// The buffer to write the next frame into, with room for at least `needed` more bytes. Cut
    /// the frame off with `split()` once written, so the buffer is empty again.
    pub fn room(&mut self, needed: usize) -> &mut BytesMut {
        if self.current.capacity() - self.current.len() < needed {
            self.replace(needed);
        }
        &mut self.current
    }

    fn replace(&mut self, needed: usize) {
        // Bytes written but not cut off yet move to the new block with the rest of their frame.
        // (Only when there are some: even an empty split would share the block being retired.)
        let pending = if self.current.is_empty() { BytesMut::new() } else { self.current.split() };
        let wanted = needed.saturating_add(pending.len());
        let retired = std::mem::take(&mut self.current);
        if retired.capacity() > 0 {
            self.waiting.push_back(retired);
        }
        let mut reused: Option<BytesMut> = None;
        self.waiting.retain_mut(|block| {
            // Only a block no frame shares any more can be reclaimed; one that is, but is not
            // needed, goes back to the allocator rather than sit idle here.
            if !block.is_empty() || !block.try_reclaim(wanted) {
                return true;
            }
            if reused.is_none() {
                reused = Some(std::mem::take(block));
            }
            false
        });
        while self.waiting.len() > MAX_WAITING {
            self.waiting.pop_front();
        }
        let mut block = match reused {
            Some(block) => block,
            None => {
                let block = BytesMut::with_capacity(self.next_block.max(wanted.saturating_mul(2)));
                self.next_block = self.next_block.saturating_mul(2).min(self.max_block);
                block
            }
        };
        block.extend_from_slice(&pending);
        self.current = block;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_frame(blocks: &mut FrameBlocks, len: usize) -> bytes::Bytes {
        let out = blocks.room(len);
        out.extend_from_slice(&vec![7u8; len]);
        out.split().freeze()
    }

    #[test]
    fn frames_share_a_block_until_it_is_full() {
        let mut blocks = FrameBlocks::new(1024, 4096);
        let a = write_frame(&mut blocks, 300);
        let b = write_frame(&mut blocks, 300);
        assert_eq!(b.as_ptr() as usize, a.as_ptr() as usize + 300, "cut from the same block");
        assert_eq!((a.len(), b.len()), (300, 300));
    }

    /// Four 1000-byte frames fill a 4096-byte block.
    fn fill_block(blocks: &mut FrameBlocks) -> Vec<bytes::Bytes> {
        (0..4).map(|_| write_frame(blocks, 1000)).collect()
    }

    #[test]
    fn a_block_whose_frames_are_gone_is_written_again() {
        let mut blocks = FrameBlocks::new(4096, 4096);
        let start = fill_block(&mut blocks)[0].as_ptr() as usize;
        // The block is full and its frames are gone: the next frame is written there again.
        let again = write_frame(&mut blocks, 1000);
        assert_eq!(again.as_ptr() as usize, start, "the same memory, reused");
        assert_eq!(&again[..], &[7u8; 1000][..]);
    }

    #[test]
    fn a_block_still_shared_is_not_touched_and_idle_blocks_are_not_kept() {
        let mut blocks = FrameBlocks::new(4096, 4096);
        let held = fill_block(&mut blocks).swap_remove(0);
        let second = fill_block(&mut blocks);
        let second_start = second[0].as_ptr() as usize;
        assert_ne!(second_start, held.as_ptr() as usize, "a block a frame still holds is not reused");
        drop(second);
        let third = fill_block(&mut blocks);
        assert_eq!(third[0].as_ptr() as usize, second_start, "the free block is reused");
        assert_eq!(&held[..], &[7u8; 1000][..], "the held frame is intact");
        // Both blocks are free now: the older is reused, the other given back, none waits idle.
        let held_start = held.as_ptr() as usize;
        drop((held, third));
        let fourth = write_frame(&mut blocks, 1000);
        assert_eq!(fourth.as_ptr() as usize, held_start);
        assert_eq!(blocks.waiting.len(), 0);
    }

    #[test]
    fn a_frame_larger_than_a_block_gets_a_block_of_its_own() {
        let mut blocks = FrameBlocks::new(1024, 2048);
        let big = write_frame(&mut blocks, 10_000);
        assert_eq!(big.len(), 10_000);
        let small = write_frame(&mut blocks, 10);
        assert_eq!(small.len(), 10);
    }

    #[test]
    fn bytes_not_cut_off_move_to_the_new_block() {
        let mut blocks = FrameBlocks::new(16, 16);
        blocks.room(10).extend_from_slice(b"0123456789");
        blocks.room(20).extend_from_slice(b"abcdefghijklmnopqrst");
        assert_eq!(&blocks.room(0).split()[..], b"0123456789abcdefghijklmnopqrst");
    }
}
