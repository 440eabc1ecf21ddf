//! `srs graph check` on broken graphs: each fails, naming the node or edge at fault.
//!
//! Each file under `tests/graphs/broken/` starts with `-- expect: <text>`; the check must fail and
//! its output must contain that text. Files under `tests/graphs/warn/` must pass with that warning
//! (media of one kind is lost); files under `tests/graphs/note/` must pass with that note and no
//! warning (a node takes only part of what an edge may carry, by design).

use std::path::{Path, PathBuf};
use std::process::Command;

fn graphs_in(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("test graph directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "dhall"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no graphs in {}", dir.display());
    files
}

fn expectation(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable graph");
    let first = text.lines().next().unwrap_or_default();
    first
        .strip_prefix("-- expect: ")
        .unwrap_or_else(|| panic!("{} lacks `-- expect:`", path.display()))
        .to_owned()
}

fn srs_check(path: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_srs"))
        .args(["graph", "check"])
        .arg(path)
        .output()
        .expect("srs runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn every_broken_graph_fails_naming_the_fault() {
    for path in graphs_in("tests/graphs/broken") {
        let (ok, output) = srs_check(&path);
        assert!(!ok, "{} passed the check:\n{output}", path.display());
        let expected = expectation(&path);
        assert!(output.contains(&expected), "{}: expected `{expected}` in:\n{output}", path.display());
    }
}

#[test]
fn a_lost_media_kind_is_a_warning_not_an_error() {
    for path in graphs_in("tests/graphs/warn") {
        let (ok, output) = srs_check(&path);
        assert!(ok, "{} failed:\n{output}", path.display());
        let expected = expectation(&path);
        assert!(output.contains(&expected), "{}: expected `{expected}` in:\n{output}", path.display());
    }
}

#[test]
fn a_narrower_codec_set_is_a_note_not_a_warning() {
    for path in graphs_in("tests/graphs/note") {
        let (ok, output) = srs_check(&path);
        assert!(ok, "{} failed:\n{output}", path.display());
        let expected = expectation(&path);
        assert!(output.contains(&expected), "{}: expected `{expected}` in:\n{output}", path.display());
        assert!(!output.contains("warning:"), "{}: no warning expected:\n{output}", path.display());
    }
}

#[test]
fn shipped_graphs_pass_and_draw() {
    let mut paths = graphs_in("graphs");
    paths.extend(graphs_in("examples"));
    for path in paths {
        let (ok, output) = srs_check(&path);
        assert!(ok, "{} failed the check:\n{output}", path.display());
        assert!(!output.contains("warning:"), "{} loses media:\n{output}", path.display());
        let dot =
            Command::new(env!("CARGO_BIN_EXE_srs")).args(["graph", "dot"]).arg(&path).output().expect("runs");
        assert!(dot.status.success());
        let text = String::from_utf8_lossy(&dot.stdout);
        assert!(text.starts_with("digraph srs {"), "{}", text);
        assert!(text.contains("video {H264"), "edges carry codec sets: {text}");
    }
}
