//! The global directives about the process rather than the graph: `work_dir`, `pid`, `daemon`,
//! `srs_log_tank`, `srs_log_file`, `srs_log_level(_v2)`. The CLI acts on them before building the
//! graph (chdir, pid file, log sink).

use super::values::{flag_default_on, text};
use super::{ConfError, Directive, Warning};

/// Where logs go: SRS's `srs_log_tank` (`file` unless it says `console`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTank {
    /// stderr.
    Console,
    /// Appended to `srs_log_file`.
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSettings {
    /// `work_dir`: the process changes to it before anything else; relative paths start here.
    pub work_dir: String,
    /// `pid`: the pid file written at start.
    pub pid: String,
    pub log_tank: LogTank,
    /// `srs_log_file`, used when `log_tank` is `File`.
    pub log_file: String,
    /// A `tracing` filter from `srs_log_level` / `srs_log_level_v2`, when set.
    pub log_filter: Option<String>,
}

impl Default for ProcessSettings {
    /// SRS's defaults.
    fn default() -> ProcessSettings {
        ProcessSettings {
            work_dir: "./".into(),
            pid: "./objs/srs.pid".into(),
            log_tank: LogTank::File,
            log_file: "./objs/srs.log".into(),
            log_filter: None,
        }
    }
}

/// Applies one process directive (the first of its name: the caller skips repeats).
pub fn apply(
    settings: &mut ProcessSettings,
    directive: &Directive,
    warnings: &mut Vec<Warning>,
) -> Result<(), ConfError> {
    match directive.name.as_str() {
        "work_dir" => settings.work_dir = text(directive)?,
        "pid" => settings.pid = text(directive)?,
        "daemon" if flag_default_on(directive) => warnings.push(Warning {
            at: directive.origin.clone(),
            message: "`daemon on`: srs never daemonizes and stays in the foreground (as SRS in docker)"
                .into(),
        }),
        "srs_log_tank" => {
            settings.log_tank = if directive.arg0() == "console" { LogTank::Console } else { LogTank::File };
        }
        "srs_log_file" => settings.log_file = text(directive)?,
        // srs_log_level_v2 wins over srs_log_level wherever it appears.
        "srs_log_level" if settings.log_filter.is_none() => {
            settings.log_filter = Some(log_filter(directive, false, warnings));
        }
        "srs_log_level_v2" => settings.log_filter = Some(log_filter(directive, true, warnings)),
        _ => {}
    }
    Ok(())
}

/// SRS levels (verbose < info < trace < warn < error; `trace` is its everyday level) as a
/// `tracing` filter; `_v2` uses the common names (trace < debug < info < warn < error).
fn log_filter(directive: &Directive, v2: bool, warnings: &mut Vec<Warning>) -> String {
    let level = directive.arg0().to_ascii_lowercase();
    let filter = match (v2, level.as_str()) {
        (false, "verbose") | (true, "trace") => "trace",
        (false, "info") | (true, "debug") => "debug",
        (false, "trace") | (true, "info") => "info",
        (_, "warn") => "warn",
        (_, "error") => "error",
        _ => {
            warnings.push(Warning {
                at: directive.origin.clone(),
                message: format!("`{}`: unknown level `{level}`, using the default", directive.name),
            });
            "info"
        }
    };
    filter.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::Origin;

    fn directive(name: &str, args: &[&str]) -> Directive {
        Directive {
            name: name.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            children: Vec::new(),
            is_block: false,
            origin: Origin::Implied,
        }
    }

    fn settings(directives: &[Directive]) -> (ProcessSettings, Vec<Warning>) {
        let mut settings = ProcessSettings::default();
        let mut warnings = Vec::new();
        for d in directives {
            apply(&mut settings, d, &mut warnings).unwrap();
        }
        (settings, warnings)
    }

    #[test]
    fn log_tank_is_a_file_unless_console() {
        assert_eq!(settings(&[]).0.log_tank, LogTank::File);
        assert_eq!(settings(&[directive("srs_log_tank", &["console"])]).0.log_tank, LogTank::Console);
        assert_eq!(settings(&[directive("srs_log_tank", &["stderr"])]).0.log_tank, LogTank::File);
    }

    #[test]
    fn daemon_on_warns_and_off_is_quiet() {
        assert_eq!(settings(&[directive("daemon", &["on"])]).1.len(), 1);
        assert_eq!(settings(&[directive("daemon", &["yes"])]).1.len(), 1, "prefer true: `yes` is on");
        assert!(settings(&[directive("daemon", &["off"])]).1.is_empty());
    }

    #[test]
    fn log_levels_map_to_tracing_filters_and_v2_wins() {
        let (s, _) = settings(&[directive("srs_log_level", &["trace"])]);
        assert_eq!(s.log_filter.as_deref(), Some("info"));
        let (s, _) =
            settings(&[directive("srs_log_level_v2", &["debug"]), directive("srs_log_level", &["error"])]);
        assert_eq!(s.log_filter.as_deref(), Some("debug"));
        let (s, warnings) = settings(&[directive("srs_log_level", &["loud"])]);
        assert_eq!((s.log_filter.as_deref(), warnings.len()), (Some("info"), 1));
    }

    #[test]
    fn paths_need_a_value() {
        let mut s = ProcessSettings::default();
        assert!(apply(&mut s, &directive("work_dir", &[]), &mut Vec::new()).is_err());
        apply(&mut s, &directive("pid", &["run/srs.pid"]), &mut Vec::new()).unwrap();
        assert_eq!(s.pid, "run/srs.pid");
    }
}
