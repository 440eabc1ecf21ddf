//! `ProcessTable`: the supervised child processes of a graph (in `Engine::shared`), their limit,
//! and their JSON for `/api/v1/processes`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::process::{ProcessError, ProcessSpec};
use crate::graph::StreamKey;

/// Children a graph runs at most unless a node asks for fewer (`max_processes`).
pub const DEFAULT_MAX_PROCESSES: usize = 64;

#[derive(Debug)]
pub struct ProcessTable {
    limit: AtomicUsize,
    next_id: AtomicU64,
    entries: Mutex<BTreeMap<u64, Arc<ProcessEntry>>>,
}

impl Default for ProcessTable {
    fn default() -> Self {
        ProcessTable {
            limit: AtomicUsize::new(DEFAULT_MAX_PROCESSES),
            next_id: AtomicU64::new(1),
            entries: Mutex::new(BTreeMap::new()),
        }
    }
}

/// One supervised process: what it runs and how it is doing.
#[derive(Debug)]
pub struct ProcessEntry {
    pub id: u64,
    pub node: String,
    pub program: String,
    pub args: Vec<String>,
    pub command_line: String,
    pub stream: Option<StreamKey>,
    /// Unix milliseconds when supervision began.
    pub started_ms: u64,
    pid: AtomicU32,
    restarts: AtomicU32,
}

impl ProcessEntry {
    pub fn pid(&self) -> u32 {
        self.pid.load(Ordering::Relaxed)
    }

    pub(super) fn set_pid(&self, pid: u32) {
        self.pid.store(pid, Ordering::Relaxed);
    }

    pub fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::Relaxed)
    }

    pub(super) fn count_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "node": self.node,
            "cmdline": self.command_line,
            "argv": std::iter::once(&self.program).chain(&self.args).collect::<Vec<_>>(),
            "pid": self.pid(),
            "stream": self.stream.as_ref().map(StreamKey::url),
            "started": self.started_ms,
            "restarts": self.restarts(),
        })
    }
}

impl ProcessTable {
    /// Lowers the graph's limit to `max` (the smallest any node asks for wins; 0 is ignored).
    pub fn lower_limit(&self, max: usize) {
        if max > 0 {
            self.limit.fetch_min(max, Ordering::Relaxed);
        }
    }

    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    pub(super) fn add(&self, spec: &ProcessSpec) -> Result<Arc<ProcessEntry>, ProcessError> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let limit = self.limit();
        if entries.len() >= limit {
            return Err(ProcessError::TooMany(limit));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(ProcessEntry {
            id,
            node: spec.node.clone(),
            program: spec.program.clone(),
            args: spec.args.clone(),
            command_line: spec.command_line(),
            stream: spec.stream.clone(),
            started_ms: super::api::now_ms(),
            pid: AtomicU32::new(0),
            restarts: AtomicU32::new(0),
        });
        entries.insert(id, Arc::clone(&entry));
        Ok(entry)
    }

    pub(super) fn remove(&self, id: u64) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    /// Every supervised process, oldest first.
    pub fn entries(&self) -> Vec<Arc<ProcessEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// The processes working for `key`.
    pub fn for_stream(&self, key: &StreamKey) -> Vec<Arc<ProcessEntry>> {
        self.entries().into_iter().filter(|e| e.stream.as_ref() == Some(key)).collect()
    }

    /// `{"processes": [...]}` for the API.
    pub fn to_json(&self) -> Value {
        json!({ "processes": self.entries().iter().map(|e| e.to_json()).collect::<Vec<_>>() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(program: &str) -> ProcessSpec {
        ProcessSpec {
            program: program.into(),
            args: vec!["-i".into(), "a b".into()],
            node: "n".into(),
            stream: Some(StreamKey::new("__defaultVhost__", "live", "s")),
            stdout: None,
        }
    }

    #[test]
    fn the_limit_refuses_one_more_and_frees_on_remove() {
        let table = ProcessTable::default();
        table.lower_limit(1);
        table.lower_limit(0);
        assert_eq!(table.limit(), 1);
        let first = table.add(&spec("ffmpeg")).unwrap();
        assert!(matches!(table.add(&spec("ffmpeg")), Err(ProcessError::TooMany(1))));
        table.remove(first.id);
        assert!(table.add(&spec("ffmpeg")).is_ok());
    }

    #[test]
    fn json_has_the_exact_command_line_and_argv() {
        let table = ProcessTable::default();
        table.add(&spec("/usr/bin/ffmpeg")).unwrap();
        let json = table.to_json();
        let process = &json["processes"][0];
        assert_eq!(process["cmdline"], "/usr/bin/ffmpeg -i a b");
        assert_eq!(process["argv"], json!(["/usr/bin/ffmpeg", "-i", "a b"]));
        assert_eq!(process["stream"], "/live/s");
        assert_eq!(process["restarts"], 0);
    }
}
