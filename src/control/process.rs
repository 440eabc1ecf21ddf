//! Supervised child processes (FFmpeg for `Ingest` and `Transcode`, the programs of `Exec`).
//!
//! Each child runs in its own process group with `PR_SET_PDEATHSIG(SIGKILL)`, so it dies with the
//! server even after a `kill -9` (the kernel signals it when the thread that forked it ends; tokio
//! forks on a runtime worker, which lives as long as the server). A child that exits is started
//! again after a backoff (1 s doubling to 30 s, back to 1 s after a run of 10 s or more), so a
//! program that fails at once costs one start per backoff, never a busy loop. Stopping sends
//! SIGTERM to the group, then SIGKILL after a grace period; whatever is left of the group (a
//! shell script's own children) is killed with it. Each stderr line goes to the log with the
//! process id and the stream. Every supervised process is listed in [`ProcessTable`] (the API's
//! `/api/v1/processes`), which also caps how many a graph runs.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::process_table::{ProcessEntry, ProcessTable};
use crate::graph::StreamKey;

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run at least this long counts as healthy: the next failure starts the backoff over.
const HEALTHY_RUN: Duration = Duration::from_secs(10);
/// How long a stopped child has between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Longer stderr lines are cut (a child controls what it writes).
const MAX_LOG_LINE: usize = 1024;

/// What to run and for whom.
#[derive(Debug)]
pub struct ProcessSpec {
    pub program: String,
    pub args: Vec<String>,
    /// The node that asked for it.
    pub node: String,
    /// The stream it works for (`None` for graph-scoped children such as an ingest).
    pub stream: Option<StreamKey>,
    /// When set, the child's stdout is piped and handed here at every start (an ingest reads
    /// FLV from it); otherwise it goes to `/dev/null`.
    pub stdout: Option<mpsc::Sender<ChildStdout>>,
}

impl ProcessSpec {
    /// The command line as run: program and arguments joined by spaces.
    pub fn command_line(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("the graph already runs its limit of {0} child processes")]
    TooMany(usize),
}

/// A supervised child: restarted until [`Supervised::stop`] (or drop, which stops it too).
pub struct Supervised {
    entry: Arc<ProcessEntry>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Supervised {
    /// The process's id in the table and the API.
    pub fn id(&self) -> u64 {
        self.entry.id
    }

    /// The current child's pid (0 while none runs).
    pub fn pid(&self) -> u32 {
        self.entry.pid()
    }

    /// SIGTERM to the group, SIGKILL after the grace period; returns once the child is reaped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // The supervising task stops the child itself; dropping the task's handle detaches it.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts `spec` under supervision, counted in `table`; refused beyond the table's limit.
pub fn supervise(table: &Arc<ProcessTable>, spec: ProcessSpec) -> Result<Supervised, ProcessError> {
    let entry = table.add(&spec)?;
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(supervise_loop(Arc::clone(table), Arc::clone(&entry), spec, stopped));
    Ok(Supervised { entry, stop: Some(stop), task: Some(task) })
}

async fn supervise_loop(
    table: Arc<ProcessTable>,
    entry: Arc<ProcessEntry>,
    spec: ProcessSpec,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut backoff = FIRST_BACKOFF;
    let stream = spec.stream.as_ref().map(ToString::to_string).unwrap_or_default();
    loop {
        match start(&spec, &entry, &stream).await {
            Ok(mut child) => {
                let started = Instant::now();
                tracing::info!(process = entry.id, node = %spec.node, %stream, pid = child.pid, "started `{}`", entry.command_line);
                tokio::select! {
                    status = child.child.wait() => {
                        child.reaped = true;
                        kill_group(child.pid, libc::SIGKILL);
                        entry.set_pid(0);
                        if started.elapsed() >= HEALTHY_RUN {
                            backoff = FIRST_BACKOFF;
                        }
                        let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                        tracing::warn!(process = entry.id, node = %spec.node, %stream, retry_in = ?backoff, "process exited ({status})");
                    }
                    _ = &mut stopped => {
                        child.terminate().await;
                        entry.set_pid(0);
                        tracing::info!(process = entry.id, node = %spec.node, %stream, "process stopped");
                        break;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(process = entry.id, node = %spec.node, %stream, retry_in = ?backoff, "cannot start `{}`: {e}", spec.program)
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = &mut stopped => break,
        }
        entry.count_restart();
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    table.remove(entry.id);
}

/// A running child whose whole group is killed if it is dropped unreaped (shutdown, a cancelled task).
struct Group {
    child: Child,
    pid: i32,
    reaped: bool,
}

impl Group {
    async fn terminate(&mut self) {
        kill_group(self.pid, libc::SIGTERM);
        if tokio::time::timeout(STOP_GRACE, self.child.wait()).await.is_err() {
            kill_group(self.pid, libc::SIGKILL);
            let _ = self.child.wait().await;
        }
        // The leader is gone; what it left in its group goes too.
        kill_group(self.pid, libc::SIGKILL);
        self.reaped = true;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.reaped {
            kill_group(self.pid, libc::SIGKILL);
        }
    }
}

fn kill_group(pid: i32, signal: i32) {
    if pid > 0 {
        sys::kill_group(pid, signal);
    }
}

/// The only unsafe code of the crate: what std offers as `unsafe` (`pre_exec`) or not at all.
#[allow(unsafe_code)]
mod sys {
    use std::io;

    /// Makes the child ask for SIGKILL when its parent dies, before it execs.
    pub fn die_with_parent(command: &mut tokio::process::Command) {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
        // functions (prctl, getppid); it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // The server may have died before the signal was asked for.
                if libc::getppid() != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }

    pub fn kill_group(pgid: i32, signal: i32) {
        // SAFETY: killpg only sends a signal; a group already gone gives ESRCH, which is fine.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }

    /// Whether a process with this pid exists (signal 0 checks without sending).
    #[cfg(test)]
    pub fn alive(pid: u32) -> bool {
        // SAFETY: signal 0 sends nothing.
        pid > 0 && unsafe { libc::kill(pid as i32, 0) } == 0
    }
}

async fn start(spec: &ProcessSpec, entry: &Arc<ProcessEntry>, stream: &str) -> io::Result<Group> {
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .stdout(if spec.stdout.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .process_group(0);
    sys::die_with_parent(&mut command);
    let child = command.spawn()?;
    let pid = child.id().map_or(0, |pid| pid as i32);
    let mut group = Group { child, pid, reaped: false };
    entry.set_pid(pid as u32);
    if let Some(stderr) = group.child.stderr.take() {
        tokio::spawn(log_stderr(stderr, entry.id, spec.node.clone(), stream.to_owned()));
    }
    if let (Some(sender), Some(stdout)) = (&spec.stdout, group.child.stdout.take()) {
        let _ = sender.send(stdout).await;
    }
    Ok(group)
}

/// Logs each line (split at `\n` or `\r`, as FFmpeg rewrites its progress line) until EOF.
async fn log_stderr(mut stderr: ChildStderr, id: u64, node: String, stream: String) {
    let mut buffer = [0u8; 4096];
    let mut line = Vec::new();
    loop {
        let n = match stderr.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &byte in &buffer[..n] {
            if byte == b'\n' || byte == b'\r' {
                emit(&mut line, id, &node, &stream);
            } else if line.len() < MAX_LOG_LINE {
                line.push(byte);
            }
        }
    }
    emit(&mut line, id, &node, &stream);
}

fn emit(line: &mut Vec<u8>, id: u64, node: &str, stream: &str) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if !text.is_empty() {
        tracing::info!(process = id, node, stream, "stderr: {text}");
    }
    line.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(program: &str, args: &[&str]) -> ProcessSpec {
        ProcessSpec {
            program: program.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            node: "test".into(),
            stream: None,
            stdout: None,
        }
    }

    fn alive(pid: u32) -> bool {
        sys::alive(pid)
    }

    #[tokio::test]
    async fn stop_ends_the_child_and_its_group() {
        let table = Arc::new(ProcessTable::default());
        // A shell whose own child (sleep) is in the same group.
        let supervised = supervise(&table, spec("sh", &["-c", "sleep 100 & wait"])).unwrap();
        let mut pid = 0;
        for _ in 0..50 {
            pid = supervised.pid();
            if pid != 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(alive(pid), "the child runs");
        assert_eq!(table.entries().len(), 1);
        supervised.stop().await;
        assert!(!alive(pid), "the child is gone after stop");
        assert!(table.entries().is_empty(), "the table forgets a stopped process");
    }

    #[tokio::test]
    async fn a_program_that_exits_at_once_is_restarted_with_growing_backoff() {
        let table = Arc::new(ProcessTable::default());
        let supervised = supervise(&table, spec("false", &[])).unwrap();
        let entry = table.entries()[0].clone();
        let begin = Instant::now();
        while entry.restarts() < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(begin.elapsed() < Duration::from_secs(20), "restarts happen");
        }
        // 1 s + 2 s of backoff at least: no busy loop.
        assert!(begin.elapsed() >= Duration::from_secs(3), "backoff grows: {:?}", begin.elapsed());
        assert_eq!(entry.restarts(), 2, "one start per backoff");
        supervised.stop().await;
    }
}
