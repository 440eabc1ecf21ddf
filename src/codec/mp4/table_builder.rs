//! One track's sample tables built while a classic MP4 is written, kept in the form they are
//! written in: durations, composition offsets and chunk sizes as runs, sync samples by number
//! (only once a sample is not sync), chunk offsets 32 bits wide until one is not. An hour of
//! audio and video costs a few bytes per sample (mostly `stsz`), not a record of each.

use super::boxes::BoxWriter;

/// Samples in a run-length table entry: counts are 32-bit in every table that uses runs.
type Runs<T> = Vec<(u32, T)>;

/// Appends `value` to `runs`, extending the last run when it holds the same value.
fn push_run<T: PartialEq + Copy>(runs: &mut Runs<T>, value: T) {
    match runs.last_mut() {
        Some((count, last)) if *last == value && *count < u32::MAX => *count += 1,
        _ => runs.push((1, value)),
    }
}

/// `runs` with `extra` pushed (as `push_run` would), without copying them: the runs that stay as
/// they are, and the one or two that end the table.
fn with_last<T: PartialEq + Copy>(runs: &[(u32, T)], extra: Option<T>) -> (&[(u32, T)], Runs<T>) {
    let Some(extra) = extra else { return (runs, Vec::new()) };
    match runs.split_last() {
        Some((&(count, last), head)) if last == extra && count < u32::MAX => (head, vec![(count + 1, last)]),
        _ => (runs, vec![(1, extra)]),
    }
}

/// Chunk offsets, 4 bytes each until an offset past 4 GiB needs 8.
#[derive(Debug)]
enum ChunkOffsets {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Default for ChunkOffsets {
    fn default() -> Self {
        ChunkOffsets::Narrow(Vec::new())
    }
}

impl ChunkOffsets {
    fn push(&mut self, offset: u64) {
        match self {
            ChunkOffsets::Narrow(offsets) => match u32::try_from(offset) {
                Ok(narrow) => offsets.push(narrow),
                Err(_) => {
                    let mut wide: Vec<u64> = offsets.iter().map(|o| u64::from(*o)).collect();
                    wide.push(offset);
                    *self = ChunkOffsets::Wide(wide);
                }
            },
            ChunkOffsets::Wide(offsets) => offsets.push(offset),
        }
    }
}

/// The sample tables of one track, filled one sample at a time.
#[derive(Debug, Default)]
pub(crate) struct TableBuilder {
    first_decode_ticks: Option<i64>,
    last_decode_ticks: Option<i64>,
    /// Durations of every sample but the last (known once the next sample arrives).
    durations: Runs<u32>,
    composition_offsets: Runs<i32>,
    any_negative_composition: bool,
    sizes: Vec<u32>,
    /// 1-based numbers of the sync samples; `None` while every sample so far is sync.
    sync_numbers: Option<Vec<u32>>,
    chunk_offsets: ChunkOffsets,
    /// Samples per chunk, as runs of chunks.
    chunk_sizes: Runs<u32>,
    /// Samples in the newest chunk (not yet in `chunk_sizes`).
    open_chunk_samples: u32,
}

impl TableBuilder {
    pub(crate) fn last_decode_ticks(&self) -> Option<i64> {
        self.last_decode_ticks
    }

    pub(crate) fn first_decode_ticks(&self) -> Option<i64> {
        self.first_decode_ticks
    }

    pub(crate) fn n_samples(&self) -> u32 {
        self.sizes.len() as u32
    }

    /// About the bytes `write` produces (exact but for a run or two), to size the buffer once.
    pub(crate) fn written_len(&self) -> usize {
        let offsets = match &self.chunk_offsets {
            ChunkOffsets::Narrow(offsets) => 4 * offsets.len(),
            ChunkOffsets::Wide(offsets) => 8 * offsets.len(),
        };
        6 * 20
            + 8 * (self.durations.len() + self.composition_offsets.len() + 2)
            + 4 * self.sync_numbers.as_ref().map_or(0, Vec::len)
            + 12 * (self.chunk_sizes.len() + 1)
            + 4 * self.sizes.len()
            + offsets
    }

    pub(crate) fn open_chunk_samples(&self) -> u32 {
        self.open_chunk_samples
    }

    /// Records a sample (decode times never go backwards: the caller checked). `chunk_offset` is
    /// `Some(file offset)` when the sample starts a new chunk.
    pub(crate) fn push(
        &mut self,
        decode_ticks: i64,
        composition_offset: i64,
        size: u32,
        sync: bool,
        chunk_offset: Option<u64>,
    ) {
        if let Some(last) = self.last_decode_ticks {
            push_run(
                &mut self.durations,
                u32::try_from(decode_ticks.saturating_sub(last)).unwrap_or(u32::MAX),
            );
        }
        self.first_decode_ticks.get_or_insert(decode_ticks);
        self.last_decode_ticks = Some(decode_ticks);
        let clamped = composition_offset.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        push_run(&mut self.composition_offsets, clamped);
        self.any_negative_composition |= clamped < 0;
        let number = self.sizes.len() as u32 + 1;
        self.sizes.push(size);
        match (&mut self.sync_numbers, sync) {
            (Some(numbers), true) => numbers.push(number),
            (Some(_), false) => {}
            (None, true) => {}
            (None, false) => self.sync_numbers = Some((1..number).collect()),
        }
        match chunk_offset {
            Some(offset) => {
                if self.open_chunk_samples > 0 {
                    push_run(&mut self.chunk_sizes, self.open_chunk_samples);
                }
                self.chunk_offsets.push(offset);
                self.open_chunk_samples = 1;
            }
            None => self.open_chunk_samples += 1,
        }
    }

    /// Every sample's duration in track ticks summed; the last sample lasts as long as the one
    /// before it (0 when it is the only one).
    pub(crate) fn media_duration(&self) -> u64 {
        let known: u64 = self.durations.iter().map(|(count, d)| u64::from(*count) * u64::from(*d)).sum();
        known + u64::from(self.last_duration())
    }

    fn last_duration(&self) -> u32 {
        if self.sizes.is_empty() {
            return 0;
        }
        self.durations.last().map_or(0, |(_, duration)| *duration)
    }

    /// Writes stts, ctts (when any offset is not 0), stss (when any sample is not sync), stsc,
    /// stsz and stco/co64.
    pub(crate) fn write(&self, writer: &mut BoxWriter) {
        let last_duration = (!self.sizes.is_empty()).then(|| self.last_duration());
        let (durations, durations_tail) = with_last(&self.durations, last_duration);
        writer.begin_full(b"stts", 0, 0);
        writer.u32((durations.len() + durations_tail.len()) as u32);
        for (count, duration) in durations.iter().copied().chain(durations_tail) {
            writer.u32(count);
            writer.u32(duration);
        }
        writer.end();
        if self.composition_offsets.iter().any(|(_, offset)| *offset != 0) {
            writer.begin_full(b"ctts", u8::from(self.any_negative_composition), 0);
            writer.u32(self.composition_offsets.len() as u32);
            for (count, offset) in &self.composition_offsets {
                writer.u32(*count);
                writer.i32(*offset);
            }
            writer.end();
        }
        if let Some(numbers) = &self.sync_numbers {
            writer.begin_full(b"stss", 0, 0);
            writer.u32(numbers.len() as u32);
            numbers.iter().for_each(|number| writer.u32(*number));
            writer.end();
        }
        let open_chunk = (self.open_chunk_samples > 0).then_some(self.open_chunk_samples);
        let (chunk_sizes, chunk_sizes_tail) = with_last(&self.chunk_sizes, open_chunk);
        writer.begin_full(b"stsc", 0, 0);
        writer.u32((chunk_sizes.len() + chunk_sizes_tail.len()) as u32);
        let mut first_chunk = 1;
        for (n_chunks, samples_per_chunk) in chunk_sizes.iter().copied().chain(chunk_sizes_tail) {
            writer.u32(first_chunk);
            writer.u32(samples_per_chunk);
            writer.u32(1);
            first_chunk += n_chunks;
        }
        writer.end();
        writer.begin_full(b"stsz", 0, 0);
        writer.u32(0);
        writer.u32(self.n_samples());
        self.sizes.iter().for_each(|size| writer.u32(*size));
        writer.end();
        match &self.chunk_offsets {
            ChunkOffsets::Narrow(offsets) => {
                writer.begin_full(b"stco", 0, 0);
                writer.u32(offsets.len() as u32);
                offsets.iter().for_each(|offset| writer.u32(*offset));
            }
            ChunkOffsets::Wide(offsets) => {
                writer.begin_full(b"co64", 0, 0);
                writer.u32(offsets.len() as u32);
                offsets.iter().for_each(|offset| writer.u64(*offset));
            }
        }
        writer.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_equal_neighbours() {
        let mut runs = Runs::new();
        for value in [5, 5, 6, 5] {
            push_run(&mut runs, value);
        }
        assert_eq!(runs, vec![(2, 5), (1, 6), (1, 5)]);
    }

    #[test]
    fn last_sample_lasts_as_long_as_the_one_before() {
        let mut table = TableBuilder::default();
        for (dts, chunk) in [(0, Some(100)), (10, None), (30, Some(500))] {
            table.push(dts, 0, 4, true, chunk);
        }
        assert_eq!(table.media_duration(), 10 + 20 + 20);
        let mut single = TableBuilder::default();
        single.push(5, 0, 1, true, Some(0));
        assert_eq!(single.media_duration(), 0);
    }

    #[test]
    fn sync_numbers_appear_only_once_a_sample_is_not_sync() {
        let mut table = TableBuilder::default();
        for (n, sync) in [true, true, false, true, false].into_iter().enumerate() {
            table.push(n as i64, 0, 1, sync, Some(n as u64));
        }
        assert_eq!(table.sync_numbers, Some(vec![1, 2, 4]));
        let mut audio = TableBuilder::default();
        (0..3).for_each(|n| audio.push(n, 0, 1, true, None));
        assert_eq!(audio.sync_numbers, None);
    }

    #[test]
    fn chunk_offsets_widen_past_four_gib() {
        let mut table = TableBuilder::default();
        table.push(0, 0, 1, true, Some(8));
        table.push(1, 0, 1, true, Some(u64::from(u32::MAX) + 1));
        let mut writer = BoxWriter::default();
        table.write(&mut writer);
        let bytes = writer.finish().unwrap();
        let co64 = bytes.windows(4).position(|w| w == b"co64").expect("co64 written");
        assert_eq!(&bytes[co64 + 8..co64 + 12], &2u32.to_be_bytes());
        assert_eq!(&bytes[co64 + 12..co64 + 20], &8u64.to_be_bytes());
    }
}
