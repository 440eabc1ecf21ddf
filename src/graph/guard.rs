//! Panics stay inside the task they happen in: a bug reached by one connection's input ends that
//! connection (logged with its id, counted for `/metrics`), never the server. Tokio already keeps
//! a panicking task from taking its worker down; this adds the log line, the count, and the
//! bookkeeping a task must still do when it ends (the engine's running-task count).

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;

static PANICS: AtomicU64 = AtomicU64::new(0);

/// Panics caught since the process started.
pub fn panics_caught() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// Runs `future`; a panic in it is logged with `what` and the connection id `conn`, counted,
/// and becomes a normal end of the future.
pub async fn guarded<F>(what: &'static str, conn: Option<u64>, future: F)
where
    F: Future<Output = ()>,
{
    if let Err(payload) = AssertUnwindSafe(future).catch_unwind().await {
        PANICS.fetch_add(1, Ordering::Relaxed);
        let message = panic_message(payload.as_ref());
        match conn {
            Some(id) => tracing::error!(conn = id, "{what} panicked, ended alone: {message}"),
            None => tracing::error!("{what} panicked, ended alone: {message}"),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// The test-only way to reach a panic from outside: with `SRS_TEST_PANIC_STREAM` set to a stream
/// name, publishing that stream panics in the publisher's task (`tests/fault_panics.rs`).
pub fn panic_if_test_stream(stream: &str) {
    if std::env::var_os("SRS_TEST_PANIC_STREAM").is_some_and(|name| name == stream) {
        panic!("SRS_TEST_PANIC_STREAM: publishing `{stream}` panics on purpose");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_an_end_and_is_counted() {
        let before = panics_caught();
        guarded("test task", Some(7), async { panic!("boom") }).await;
        guarded("test task", None, async { std::panic::panic_any(42u8) }).await;
        guarded("test task", None, async {}).await;
        assert_eq!(panics_caught() - before, 2);
        assert_eq!(panic_message(&"x"), "x");
    }
}
