//! `SRS_*` environment variables, as SRS 5+ reads them: `SRS_` + the directive's dotted path
//! upper-cased with `.` → `_` (`vhost.play.gop_cache` → `SRS_VHOST_PLAY_GOP_CACHE`).
//!
//! SRS's getters look at the variable first, so a set variable wins over the file. We get the
//! same effect by writing each variable into the directive tree before mapping (creating the
//! blocks it needs), so the same truth rules and checks apply, and messages name the variable.
//! Vhost-level variables apply to every vhost. Empty variables are ignored, as in SRS.

use super::{Directive, Origin, Warning};
use crate::graph::stream_key::DEFAULT_VHOST;

/// Global directive paths a variable may set.
const GLOBAL_PATHS: &[&str] = &[
    "listen",
    "chunk_size",
    "max_connections",
    "work_dir",
    "pid",
    "daemon",
    "srs_log_tank",
    "srs_log_file",
    "srs_log_level",
    "srs_log_level_v2",
    "http_server.enabled",
    "http_server.listen",
    "http_server.dir",
    "http_server.crossdomain",
    "http_api.enabled",
    "http_api.listen",
    "http_api.crossdomain",
    "http_api.auth.enabled",
    "http_api.auth.username",
    "http_api.auth.password",
    "http_api.raw_api.enabled",
    "http_api.raw_api.allow_reload",
    "srt_server.enabled",
    "srt_server.listen",
    "srt_server.latency",
    "srt_server.passphrase",
    "srt_server.pbkeylen",
    "srt_server.default_app",
];

/// Vhost directive paths (after `vhost.`) a variable may set, in every vhost.
const VHOST_PATHS: &[&str] = &[
    "min_latency",
    "tcp_nodelay",
    "chunk_size",
    "play.gop_cache",
    "play.gop_cache_max_frames",
    "play.queue_length",
    "play.time_jitter",
    "play.mix_correct",
    "play.atc",
    "play.mw_latency",
    "play.mw_msgs",
    "publish.firstpkt_timeout",
    "publish.normal_timeout",
    "http_remux.enabled",
    "http_remux.mount",
    "http_hooks.enabled",
    "http_hooks.on_connect",
    "http_hooks.on_close",
    "http_hooks.on_publish",
    "http_hooks.on_unpublish",
    "http_hooks.on_play",
    "http_hooks.on_stop",
    "http_hooks.on_dvr",
    "http_hooks.on_hls",
    "security.enabled",
    "refer.enabled",
    "refer.all",
    "refer.publish",
    "refer.play",
];

/// SRS's older spelling of `SRS_SRS_LOG_TANK`, honoured when the long one is unset.
const LOG_TANK_ALIAS: &str = "SRS_LOG_TANK";

/// The variable naming a dotted directive path.
pub fn variable_name(path: &str) -> String {
    format!("SRS_{}", path.to_ascii_uppercase().replace('.', "_"))
}

/// What `srs -e` starts from, as SRS does: console logs unless a variable says otherwise, and a
/// `vhost __defaultVhost__` (the process never daemonizes, so `SRS_DAEMON=off` is implied).
pub fn apply_env_only_defaults(tree: &mut Vec<Directive>, vars: &[(String, String)]) {
    let is_set = |name: &str| vars.iter().any(|(n, v)| n == name && !v.is_empty());
    if !is_set("SRS_SRS_LOG_TANK") && !is_set(LOG_TANK_ALIAS) {
        tree.push(implied("srs_log_tank", &["console"]));
    }
    if !tree.iter().any(|d| d.name == "vhost") {
        let mut vhost = implied("vhost", &[DEFAULT_VHOST]);
        vhost.is_block = true;
        tree.push(vhost);
    }
}

/// Writes every recognised `SRS_*` variable into the tree; unknown ones are reported.
pub fn apply(tree: &mut Vec<Directive>, vars: &[(String, String)], warnings: &mut Vec<Warning>) {
    let long_log_tank_set = vars.iter().any(|(n, v)| n == "SRS_SRS_LOG_TANK" && !v.is_empty());
    for (name, value) in vars {
        let words: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
        if !name.starts_with("SRS_") || words.is_empty() {
            continue;
        }
        let origin = Origin::Env { var: name.clone() };
        if let Some(path) = GLOBAL_PATHS.iter().find(|p| variable_name(p) == *name) {
            set(tree, path, &words, &origin);
        } else if let Some(path) = VHOST_PATHS.iter().find(|p| variable_name(&format!("vhost.{p}")) == *name)
        {
            for vhost in tree.iter_mut().filter(|d| d.name == "vhost") {
                set(&mut vhost.children, path, &words, &origin);
            }
        } else if name == LOG_TANK_ALIAS {
            if !long_log_tank_set {
                set(tree, "srs_log_tank", &words, &origin);
            }
        } else {
            warnings.push(Warning { at: origin, message: "this variable is not supported: ignored".into() });
        }
    }
}

/// Sets the directive at `path` (dotted, relative to `children`) to `args`, creating blocks.
fn set(children: &mut Vec<Directive>, path: &str, args: &[String], origin: &Origin) {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let index = match children.iter().position(|d| d.name == head) {
        Some(index) => index,
        None => {
            let mut created = Directive {
                name: head.to_owned(),
                args: Vec::new(),
                children: Vec::new(),
                is_block: rest.is_some(),
                origin: origin.clone(),
            };
            if rest.is_none() {
                created.args = args.to_vec();
            }
            children.push(created);
            if rest.is_none() {
                return;
            }
            children.len() - 1
        }
    };
    let target = &mut children[index];
    match rest {
        Some(rest) => set(&mut target.children, rest, args, origin),
        None => {
            target.args = args.to_vec();
            target.origin = origin.clone();
        }
    }
}

fn implied(name: &str, args: &[&str]) -> Directive {
    Directive {
        name: name.to_owned(),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        children: Vec::new(),
        is_block: false,
        origin: Origin::Implied,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::conf::{load, Sources};
    use crate::nodes::jitter::TimeJitter;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    fn env_only(pairs: &[(&str, &str)]) -> crate::conf::Loaded {
        let sources = Sources { file: None, env_only: true, vars: vars(pairs) };
        load(&sources, &|_: &Path| Err(std::io::ErrorKind::NotFound.into())).unwrap()
    }

    #[test]
    fn variable_names_follow_the_dotted_path() {
        assert_eq!(variable_name("vhost.play.gop_cache"), "SRS_VHOST_PLAY_GOP_CACHE");
        assert_eq!(variable_name("http_server.listen"), "SRS_HTTP_SERVER_LISTEN");
        assert_eq!(variable_name("srs_log_file"), "SRS_SRS_LOG_FILE");
    }

    #[test]
    fn env_only_starts_with_the_default_vhost_and_console_logs() {
        let loaded = env_only(&[]);
        assert_eq!(loaded.config.vhosts.len(), 1);
        assert_eq!(loaded.config.vhosts[0].name, DEFAULT_VHOST);
        assert_eq!(loaded.process.log_tank, crate::conf::process::LogTank::Console);
        assert!(loaded.config.http_server.is_none());
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn env_only_builds_a_whole_server() {
        let loaded = env_only(&[
            ("SRS_LISTEN", "1936"),
            ("SRS_HTTP_SERVER_ENABLED", "on"),
            ("SRS_HTTP_SERVER_LISTEN", "8081"),
            ("SRS_VHOST_HTTP_REMUX_ENABLED", "on"),
            ("SRS_VHOST_HTTP_REMUX_MOUNT", "[vhost]/[app]/[stream].flv"),
            ("SRS_VHOST_PLAY_GOP_CACHE", "off"),
            ("SRS_VHOST_PLAY_TIME_JITTER", "zero"),
            ("SRS_VHOST_MIN_LATENCY", "on"),
            ("SRS_SRS_LOG_TANK", "file"),
            ("HOME", "/root"),
        ]);
        let config = &loaded.config;
        assert_eq!(config.listen, "1936");
        assert_eq!(config.http_server.as_ref().map(|s| s.listen.as_str()), Some("8081"));
        let vhost = &config.vhosts[0];
        assert!(vhost.http_remux.is_some() && vhost.min_latency && !vhost.play.gop_cache);
        assert_eq!(vhost.play.time_jitter, TimeJitter::Zero);
        assert_eq!(loaded.process.log_tank, crate::conf::process::LogTank::File);
    }

    #[test]
    fn env_sets_the_control_blocks() {
        let loaded = env_only(&[
            ("SRS_MAX_CONNECTIONS", "50"),
            ("SRS_HTTP_API_ENABLED", "on"),
            ("SRS_HTTP_API_LISTEN", "127.0.0.1:1986"),
            ("SRS_HTTP_API_CROSSDOMAIN", "off"),
            ("SRS_HTTP_API_AUTH_ENABLED", "on"),
            ("SRS_HTTP_API_AUTH_USERNAME", "admin"),
            ("SRS_HTTP_API_RAW_API_ENABLED", "on"),
            ("SRS_VHOST_HTTP_HOOKS_ENABLED", "on"),
            ("SRS_VHOST_HTTP_HOOKS_ON_PUBLISH", "http://127.0.0.1:8085/a http://127.0.0.1:8085/b"),
            ("SRS_VHOST_REFER_ENABLED", "on"),
            ("SRS_VHOST_REFER_PLAY", "example.com"),
            ("SRS_VHOST_SECURITY_ENABLED", "on"),
        ]);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let config = &loaded.config;
        assert_eq!(config.max_connections, 50);
        let api = config.http_api.as_ref().expect("enabled");
        assert_eq!((api.listen.as_str(), api.crossdomain, api.auth.enabled), ("127.0.0.1:1986", false, true));
        assert_eq!((api.auth.username.as_str(), api.raw_api.enabled), ("admin", true));
        let vhost = &config.vhosts[0];
        let hooks = vhost.http_hooks.as_ref().expect("enabled");
        assert_eq!(hooks.on_publish, ["http://127.0.0.1:8085/a", "http://127.0.0.1:8085/b"]);
        assert_eq!(vhost.refer.as_ref().map(|r| r.play.clone()), Some(vec!["example.com".to_owned()]));
        assert_eq!(vhost.security.as_ref().map(|s| s.rules.len()), Some(0), "rules come from the file");
    }

    #[test]
    fn env_truth_rules_are_the_getters_rules() {
        let loaded = env_only(&[("SRS_HTTP_SERVER_ENABLED", "yes"), ("SRS_VHOST_PLAY_GOP_CACHE", "no")]);
        assert!(loaded.config.http_server.is_none(), "prefer false: only `on` enables");
        assert!(loaded.config.vhosts[0].play.gop_cache, "prefer true: only `off` disables");
    }

    #[test]
    fn variables_override_the_file_in_every_vhost() {
        let text = "listen 1935;\nvhost a.com { play { gop_cache on; } }\nvhost __defaultVhost__ { }\n";
        let reader = move |_: &Path| Ok(text.to_owned());
        let sources = Sources {
            file: Some("srs.conf".into()),
            env_only: false,
            vars: vars(&[
                ("SRS_LISTEN", "1940 1941"),
                ("SRS_VHOST_PLAY_GOP_CACHE", "off"),
                ("SRS_NOPE", "1"),
            ]),
        };
        let loaded = load(&sources, &reader).unwrap();
        assert_eq!(loaded.config.listen, "1940");
        assert!(loaded.config.vhosts.iter().all(|v| !v.play.gop_cache));
        assert_eq!(loaded.process.log_tank, crate::conf::process::LogTank::File, "no -e: SRS's file default");
        let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert!(warnings.iter().any(|w| w.starts_with("env SRS_NOPE: ")), "{warnings:?}");
        assert!(
            warnings.iter().any(|w| w.starts_with("env SRS_LISTEN: ") && w.contains("1941")),
            "{warnings:?}"
        );
    }

    #[test]
    fn bad_values_in_variables_name_the_variable() {
        let sources =
            Sources { file: None, env_only: true, vars: vars(&[("SRS_VHOST_PLAY_MW_LATENCY", "soon")]) };
        let error = load(&sources, &|_: &Path| Err(std::io::ErrorKind::NotFound.into())).unwrap_err();
        assert_eq!(
            error.to_string(),
            "env SRS_VHOST_PLAY_MW_LATENCY: `mw_latency`: bad value `soon`: expected a whole number"
        );
    }

    #[test]
    fn empty_variables_are_ignored_and_the_short_log_tank_is_an_alias() {
        let loaded = env_only(&[("SRS_LISTEN", ""), ("SRS_LOG_TANK", "file")]);
        assert_eq!(loaded.config.listen, "1935");
        assert_eq!(loaded.process.log_tank, crate::conf::process::LogTank::File);
    }
}
