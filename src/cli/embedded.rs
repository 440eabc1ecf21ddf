//! The catalogue and default graph built into the binary, unpacked to a private directory to load.

use std::path::PathBuf;

use anyhow::Context;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Writes the embedded files under a fresh temporary directory; returns the default graph's path.
pub fn unpack_default_graph() -> anyhow::Result<PathBuf> {
    let root = std::env::temp_dir().join(format!("srs-embedded-{}", std::process::id()));
    for (path, contents) in EMBEDDED {
        let target = root.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&target, contents).with_context(|| format!("writing {}", target.display()))?;
    }
    Ok(root.join("graphs/live.dhall"))
}
