//! The catalogue and default graph built into the binary, unpacked to a directory to load.

use std::path::{Path, PathBuf};

use anyhow::Context;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The embedded default graph, unpacked (see [`unpacked_root`]); returns its path.
pub fn unpack_default_graph() -> anyhow::Result<PathBuf> {
    Ok(unpacked_root()?.join("graphs/live.dhall"))
}

/// The embedded catalogue's `package.dhall` (see [`unpacked_root`]), which graphs built from an
/// `srs.conf` or `SRS_*` and graph files written by `srs conf import` import.
pub fn catalogue() -> anyhow::Result<PathBuf> {
    Ok(unpacked_root()?.join("nodes/package.dhall"))
}

/// Where the embedded files live on disk: `$XDG_DATA_HOME/srs/` (or `~/.local/share/srs/`, else
/// the temp dir), in a directory named by their content. It lasts, since a graph written for the
/// user (`srs conf import`) imports from it and a running server reads it again at each reload;
/// it is unpacked once per build, not once per process (which left a directory behind at every
/// start), and a newer binary never rewrites an older one's.
fn unpacked_root() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    unpack_once(&base.join("srs"))
}

/// `parent/catalogue-<content hash>`, unpacked unless it already is.
fn unpack_once(parent: &Path) -> anyhow::Result<PathBuf> {
    let root = parent.join(format!("catalogue-{:016x}", content_hash()));
    if root.join(COMPLETE_FILE).is_file() {
        return Ok(root);
    }
    // Unpacked beside, then renamed into place: a reader never sees half of it, and two first
    // starts at once both succeed.
    let partial = parent.join(format!(".catalogue-{:016x}-{}", content_hash(), std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    unpack_to(&partial)?;
    if std::fs::rename(&partial, &root).is_err() {
        let _ = std::fs::remove_dir_all(&partial);
        if !root.join(COMPLETE_FILE).is_file() {
            // An older binary's unpacking, without the marker: complete it in place.
            unpack_to(&root)?;
        }
    }
    Ok(root)
}

/// Marks an unpacked directory as whole.
const COMPLETE_FILE: &str = ".complete";

fn unpack_to(root: &Path) -> anyhow::Result<()> {
    for (path, contents) in EMBEDDED {
        let target = root.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&target, contents).with_context(|| format!("writing {}", target.display()))?;
    }
    let complete = root.join(COMPLETE_FILE);
    std::fs::write(&complete, b"").with_context(|| format!("writing {}", complete.display()))
}

/// FNV-1a over every embedded path and file: stable across runs and builds of the same files.
fn content_hash() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, contents) in EMBEDDED {
        for byte in path.bytes().chain([0]).chain(contents.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_unpacked_once_whole_and_found_again() {
        let parent = std::env::temp_dir().join(format!("srs-unpack-once-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        let root = unpack_once(&parent).expect("unpacks");
        for (path, contents) in EMBEDDED {
            assert_eq!(std::fs::read_to_string(root.join(path)).expect("unpacked file"), *contents, "{path}");
        }
        let written =
            std::fs::metadata(root.join("graphs/live.dhall")).and_then(|m| m.modified()).expect("mtime");
        assert_eq!(unpack_once(&parent).expect("found again"), root);
        let again =
            std::fs::metadata(root.join("graphs/live.dhall")).and_then(|m| m.modified()).expect("mtime");
        assert_eq!(written, again, "not written a second time");
        let names: Vec<_> =
            std::fs::read_dir(&parent).expect("parent").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "no partial directory left beside it: {names:?}");

        // A directory an older binary left without the marker is completed in place.
        std::fs::remove_file(root.join(COMPLETE_FILE)).expect("marker");
        std::fs::remove_file(root.join("graphs/live.dhall")).expect("a file");
        assert_eq!(unpack_once(&parent).expect("completed"), root);
        assert!(root.join("graphs/live.dhall").is_file() && root.join(COMPLETE_FILE).is_file());
        let _ = std::fs::remove_dir_all(&parent);
    }
}
