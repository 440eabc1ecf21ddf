//! A batch output's runs of unchanged input bytes (`file_blocks::InputRun`), written by a thread of
//! their own. While that thread has the kernel put one block's bytes into the page cache, the
//! run's thread reads and parses the next block and passes its frames through the graph, so the two
//! halves of an FLV → FLV remux overlap on two cores instead of adding up on one. A run is at most
//! a block (`BATCH_BLOCK`), so the thread is woken a few hundred times for 300 MB, not per frame.
//! The owner writes nothing to the file itself while runs are queued: `settle` waits for them.

use std::fs::File;
use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::file_blocks::InputRun;

/// Runs queued at most: the blocks they hold stay in memory until written.
const QUEUED_RUNS: usize = 2;

enum Job {
    Write(InputRun),
    /// Answered once every run queued before it is written: the first error since the last answer.
    Settle(SyncSender<std::io::Result<()>>),
}

/// The thread writing an output's runs, at the position of the file handle it was given.
#[derive(Debug)]
pub struct WriteBehind {
    jobs: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// Runs were queued since the last `settle`.
    queued: bool,
}

impl WriteBehind {
    /// Starts the thread; `file` is a handle sharing its position with the owner's.
    pub fn start(file: File) -> std::io::Result<WriteBehind> {
        let (jobs, queue) = sync_channel(QUEUED_RUNS);
        let thread = std::thread::Builder::new()
            .name("srs-write-behind".into())
            .spawn(move || write_runs(file, queue))?;
        Ok(WriteBehind { jobs: Some(jobs), thread: Some(thread), queued: false })
    }

    /// Queues `run` after those queued before (waits while the queue is full).
    pub fn write(&mut self, run: InputRun) -> std::io::Result<()> {
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(Job::Write(run)).map_err(|_| gone())?;
        self.queued = true;
        Ok(())
    }

    /// Returns once every queued run is written: the first write error among them, if any.
    pub fn settle(&mut self) -> std::io::Result<()> {
        if !std::mem::take(&mut self.queued) {
            return Ok(());
        }
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        let (reply, answer) = sync_channel(1);
        jobs.send(Job::Settle(reply)).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has written what was queued.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_runs(mut file: File, queue: Receiver<Job>) {
    let mut failed: Option<std::io::Error> = None;
    for job in queue {
        match job {
            // After an error the owner hears of it at its next `settle`, and gives the file up.
            Job::Write(run) if failed.is_none() => {
                if let Err(error) = file.write_all(run.bytes()) {
                    failed = Some(error);
                }
            }
            Job::Write(_) => {}
            Job::Settle(reply) => {
                let _ = reply.send(failed.take().map_or(Ok(()), Err));
            }
        }
    }
}

fn gone() -> std::io::Error {
    std::io::Error::other("the thread writing the output's runs ended")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nodes::file_blocks::InputBlocks;

    /// Runs land in the order queued, at the shared position, after what the owner wrote before;
    /// `settle` returns once they are all in the file.
    #[test]
    fn runs_are_written_in_order_after_the_owners_bytes() {
        let dir = std::env::temp_dir().join(format!("srs-file-behind-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("in");
        let content: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&input, &content).unwrap();
        let blocks = InputBlocks::default();
        let source = File::open(&input).unwrap();
        let (first, second) =
            (blocks.read(&source, 0, 3000).unwrap(), blocks.read(&source, 3000, 3000).unwrap());
        let run = |bytes: &bytes::Bytes, range: std::ops::Range<usize>| {
            blocks.find_unchanged(b"", &bytes.slice(range), b"").unwrap()
        };
        let output = dir.join("out");
        let mut file = File::create(&output).unwrap();
        file.write_all(b"head").unwrap();
        let mut behind = WriteBehind::start(file.try_clone().unwrap()).unwrap();
        for piece in [run(&first, 0..1000), run(&first, 1000..3000), run(&second, 0..2000)] {
            behind.write(piece).unwrap();
        }
        behind.settle().unwrap();
        file.write_all(b"tail").unwrap();
        behind.settle().unwrap();
        drop(behind);
        let mut expected = b"head".to_vec();
        expected.extend_from_slice(&content);
        expected.extend_from_slice(b"tail");
        assert!(std::fs::read(&output).unwrap() == expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
