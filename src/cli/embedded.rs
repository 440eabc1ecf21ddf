//! The catalogue and default graph built into the binary, unpacked to a directory to load.

use std::path::{Path, PathBuf};

use anyhow::Context;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Writes the embedded files under a fresh temporary directory; returns the default graph's path.
pub fn unpack_default_graph() -> anyhow::Result<PathBuf> {
    let root = std::env::temp_dir().join(format!("srs-embedded-{}", std::process::id()));
    unpack_to(&root)?;
    Ok(root.join("graphs/live.dhall"))
}

/// The embedded catalogue's `package.dhall`, unpacked for this process.
pub fn catalogue_for_this_process() -> anyhow::Result<PathBuf> {
    let root = std::env::temp_dir().join(format!("srs-embedded-{}", std::process::id()));
    unpack_to(&root)?;
    Ok(root.join("nodes/package.dhall"))
}

/// The embedded catalogue's `package.dhall` in a lasting place, for graph files written for the
/// user (`srs conf import`): `$XDG_DATA_HOME/srs/` (or `~/.local/share/srs/`, else the temp dir),
/// in a directory named by the catalogue's content, so a newer binary never rewrites an older one.
pub fn lasting_catalogue() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    let root = base.join("srs").join(format!("catalogue-{:016x}", content_hash()));
    let package = root.join("nodes/package.dhall");
    if !package.is_file() {
        unpack_to(&root)?;
    }
    Ok(package)
}

fn unpack_to(root: &Path) -> anyhow::Result<()> {
    for (path, contents) in EMBEDDED {
        let target = root.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&target, contents).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(())
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
