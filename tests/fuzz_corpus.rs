//! Replays the committed fuzz corpora and every regression the fuzzer found through the fuzz targets'
//! bodies, on stable Rust: CI cannot run libFuzzer, but it checks that no input ever found to crash,
//! hang or exhaust memory does so again, and that the seeds still run clean.
//! Long runs: `scripts/fuzz` (nightly, cargo-fuzz); see ARCHITECTURE.md "Fuzzing and faults".

#[path = "../fuzz/targets/mod.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Every input of one target runs to completion; a slow one (the fuzzer's timeout is 10 s in release
/// builds; this is a debug build) is reported with its path.
fn replay(target: &str, body: fn(&[u8])) -> usize {
    let mut n = 0;
    for kind in ["corpus", "regressions"] {
        for path in files_under(&fuzz_dir().join(kind).join(target)) {
            let data = std::fs::read(&path).expect("read a corpus file");
            let started = Instant::now();
            let outcome = std::panic::catch_unwind(|| body(&data));
            assert!(outcome.is_ok(), "{target}: {} panics", path.display());
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{target}: {} takes over a minute",
                path.display()
            );
            n += 1;
        }
    }
    n
}

#[test]
fn every_target_has_a_seed_corpus_and_a_fuzz_binary() {
    for (name, _) in targets::TARGETS {
        let seeds = files_under(&fuzz_dir().join("corpus").join(name));
        assert!(!seeds.is_empty(), "fuzz/corpus/{name}/ has no seed");
        let binary = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&binary).unwrap_or_default();
        assert!(
            text.contains(&format!("targets::{name}(")),
            "{} does not call targets::{name}",
            binary.display()
        );
    }
}

#[test]
fn corpora_and_regressions_replay_without_a_panic() {
    let mut total = 0;
    for (name, body) in targets::TARGETS {
        let n = replay(name, *body);
        assert!(n > 0, "{name}: nothing replayed");
        total += n;
    }
    eprintln!("replayed {total} inputs");
}

#[test]
fn the_committed_corpus_stays_small() {
    let total: u64 = ["corpus", "regressions"]
        .iter()
        .flat_map(|kind| {
            files_under(&fuzz_dir().join(kind)).into_iter().chain(
                std::fs::read_dir(fuzz_dir().join(kind))
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.ok())
                    .flat_map(|e| files_under(&e.path())),
            )
        })
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    assert!(total < 2 << 20, "committed fuzz inputs take {total} bytes (keep them under 2 MiB)");
}
