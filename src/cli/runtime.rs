//! The server's tokio runtime.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often a parking worker may run the idle hook.
const IDLE_HOOK_INTERVAL: Duration = Duration::from_secs(1);

static IDLE_HOOK: OnceLock<fn()> = OnceLock::new();

/// Sets what a worker thread runs when it goes idle (at most once a second per worker). The
/// binary gives its allocator's collection here: mimalloc keeps pages freed by another thread on
/// the owning thread's lists until that thread allocates again, and an idle worker never does, so
/// after a burst of players left their connections' memory stayed with the process.
pub fn set_worker_idle_hook(hook: fn()) {
    let _ = IDLE_HOOK.set(hook);
}

/// A multi-threaded runtime whose workers run the idle hook when they park.
pub fn server_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().on_thread_park(run_idle_hook).build()
}

fn run_idle_hook() {
    thread_local! {
        static LAST_RUN: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let Some(hook) = IDLE_HOOK.get() else { return };
    let now = Instant::now();
    if LAST_RUN.get().is_none_or(|last| now.duration_since(last) >= IDLE_HOOK_INTERVAL) {
        LAST_RUN.set(Some(now));
        hook();
    }
}
