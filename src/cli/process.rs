//! What SRS's process-level directives do before the graph starts: `work_dir` (chdir),
//! `srs_log_tank`/`srs_log_file` (where logs go), `pid` (the pid file).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::conf::process::{LogTank, ProcessSettings};

/// Changes to `work_dir`, so relative paths in the configuration start there (as in SRS).
pub fn enter_work_dir(settings: &ProcessSettings) -> anyhow::Result<()> {
    let dir = settings.work_dir.trim();
    if dir.is_empty() || dir == "./" || dir == "." {
        return Ok(());
    }
    std::env::set_current_dir(dir).with_context(|| format!("work_dir `{dir}`"))
}

/// Logs to stderr (`console`) or appended to `srs_log_file`; `RUST_LOG` wins over
/// `srs_log_level`, which wins over `info`.
pub fn init_logging(settings: &ProcessSettings) -> anyhow::Result<()> {
    let default = settings.log_filter.clone().unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| super::default_filter(&default));
    match settings.log_tank {
        LogTank::Console => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .try_init();
        }
        LogTank::File => {
            let path = Path::new(&settings.log_file);
            create_parent(path)?;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("srs_log_file `{}`", path.display()))?;
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .try_init();
        }
    }
    Ok(())
}

/// The pid file, removed when dropped if it still holds our pid.
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    pub fn write(path: &str) -> anyhow::Result<PidFile> {
        let path = PathBuf::from(path);
        create_parent(&path)?;
        let mut file =
            std::fs::File::create(&path).with_context(|| format!("pid file `{}`", path.display()))?;
        writeln!(file, "{}", std::process::id()).with_context(|| format!("pid file `{}`", path.display()))?;
        Ok(PidFile { path })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path)
            .is_ok_and(|text| text.trim() == std::process::id().to_string());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn create_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
        }
        _ => Ok(()),
    }
}
