//! Live playlists an HTTP server can wait on: LL-HLS blocking playlist reload (`_HLS_msn`,
//! `_HLS_part`) and preload-hinted parts requested before they exist.
//!
//! `HlsOut` registers each low-latency playlist by its absolute file path and publishes its
//! progress (newest complete segment, parts of the open one, the hinted part) through a
//! `watch` channel; `HttpStatic` finds a requested file here and waits, bounded, for the progress
//! it needs before reading the file from disk. Shared through `Engine::shared`, so neither node
//! knows the other.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// What a live playlist holds right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The newest complete segment's media sequence number.
    pub last_complete: Option<u64>,
    /// The segment being written and how many of its parts are complete.
    pub open: Option<(u64, u32)>,
    /// The part announced by `#EXT-X-PRELOAD-HINT` (absolute path).
    pub hint: Option<PathBuf>,
    /// EXT-X-TARGETDURATION: blocking requests wait at most three of these.
    pub target_duration: Duration,
    /// EXT-X-PART-INF's PART-TARGET: a first load waits at most this for a fresh part.
    pub part_target: Duration,
}

impl Progress {
    /// The playlist holds segment `msn` (complete), or its part `part` when one is named.
    pub fn has(&self, msn: u64, part: Option<u32>) -> bool {
        let complete = self.last_complete.is_some_and(|last| last >= msn);
        let open = match (self.open, part) {
            (Some((seq, _)), _) if seq > msn => true,
            (Some((seq, n_parts)), Some(part)) => seq == msn && n_parts > part,
            _ => false,
        };
        complete || open
    }

    /// Whether `self` shows a part or segment that `before` did not.
    pub fn advanced_since(&self, before: &Progress) -> bool {
        self.open != before.open || self.last_complete != before.last_complete
    }

    /// The newest media sequence number the playlist shows.
    pub fn newest(&self) -> Option<u64> {
        self.open.map(|(seq, _)| seq).or(self.last_complete)
    }
}

/// One live playlist's progress.
#[derive(Debug)]
pub struct LivePlaylist {
    progress: watch::Sender<Progress>,
}

impl LivePlaylist {
    pub fn update(&self, progress: Progress) {
        self.progress.send_replace(progress);
    }

    pub fn progress(&self) -> Progress {
        self.progress.borrow().clone()
    }

    /// Waits until `ready` holds or `limit` passes; says whether it holds.
    pub async fn wait_until(&self, limit: Duration, ready: impl Fn(&Progress) -> bool) -> bool {
        let mut receiver = self.progress.subscribe();
        tokio::time::timeout(limit, receiver.wait_for(|p| ready(p))).await.is_ok_and(|r| r.is_ok())
    }
}

/// Every registered live playlist, by absolute path.
#[derive(Debug, Default)]
pub struct LivePlaylists {
    by_path: Mutex<HashMap<PathBuf, Arc<LivePlaylist>>>,
}

/// A path made absolute with `.` components dropped, so both sides name a file the same way.
pub fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    absolute.components().filter(|c| *c != Component::CurDir).collect()
}

impl LivePlaylists {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<LivePlaylist>>> {
        // A poisoned map is still a valid map.
        self.by_path.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The playlist at `path`, registered now if it was not.
    pub fn register(&self, path: &Path) -> Arc<LivePlaylist> {
        let (progress, _) = watch::channel(Progress::default());
        Arc::clone(self.map().entry(normalize(path)).or_insert_with(|| Arc::new(LivePlaylist { progress })))
    }

    pub fn remove(&self, path: &Path) {
        self.map().remove(&normalize(path));
    }

    pub fn get(&self, path: &Path) -> Option<Arc<LivePlaylist>> {
        self.map().get(&normalize(path)).cloned()
    }

    /// The playlist whose preload hint is `path`.
    pub fn hinting(&self, path: &Path) -> Option<Arc<LivePlaylist>> {
        let path = normalize(path);
        self.map().values().find(|p| p.progress.borrow().hint.as_deref() == Some(path.as_path())).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_answers_blocking_requests() {
        let progress = Progress { last_complete: Some(4), open: Some((5, 2)), ..Default::default() };
        assert!(progress.has(4, None));
        assert!(progress.has(4, Some(9)));
        assert!(!progress.has(5, None));
        assert!(progress.has(5, Some(1)));
        assert!(!progress.has(5, Some(2)));
        assert!(!progress.has(6, Some(0)));
        assert_eq!(progress.newest(), Some(5));
    }

    #[tokio::test]
    async fn waiters_wake_when_the_part_appears() {
        let playlists = LivePlaylists::default();
        let live = playlists.register(Path::new("./x/s.m3u8"));
        assert!(playlists.get(Path::new("x/s.m3u8")).is_some());
        let waiter = {
            let live = Arc::clone(&live);
            tokio::spawn(async move { live.wait_until(Duration::from_secs(5), |p| p.has(0, Some(0))).await })
        };
        live.update(Progress { open: Some((0, 1)), ..Default::default() });
        assert!(waiter.await.expect("joins"));
        assert!(!live.wait_until(Duration::from_millis(10), |p| p.has(1, None)).await);
    }
}
