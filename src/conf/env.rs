//! `SRS_*` environment variables, as SRS 5+ reads them: `SRS_` + the directive's dotted path
//! upper-cased with `.` → `_` (`vhost.play.gop_cache` → `SRS_VHOST_PLAY_GOP_CACHE`).
//!
//! SRS's getters look at the variable first, so a set variable wins over the file. We get the
//! same effect by writing each variable into the directive tree before mapping (creating the
//! blocks it needs), so the same truth rules and checks apply, and messages name the variable.
//! The variables are those of the block tables (`table.rs`): every directive we map has
//! one. Vhost-level variables apply to every vhost; `stream_caster` ones (which SRS does not
//! read) to every `stream_caster`. Empty variables are ignored, as in SRS.

use super::table::{RepeatKind, Step, Variable};
use super::{Directive, Origin, Warning};
use crate::graph::stream_key::DEFAULT_VHOST;

/// SRS's older spelling of `SRS_SRS_LOG_TANK`, honoured when the long one is unset.
const LOG_TANK_ALIAS: &str = "SRS_LOG_TANK";

/// The variable naming a dotted directive path.
pub fn variable_name(path: &str) -> String {
    format!("SRS_{}", path.to_ascii_uppercase().replace('.', "_"))
}

/// Every variable we read, from the block tables, in table order.
pub(crate) fn variables() -> Vec<Variable> {
    super::table::variables(super::mapping::root_table())
}

/// The names of every variable we read (`SRS_LOG_TANK` aside), in table order.
pub fn variable_names() -> Vec<String> {
    variables().into_iter().map(|v| v.name).collect()
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
    let known = variables();
    let long_log_tank_set = vars.iter().any(|(n, v)| n == "SRS_SRS_LOG_TANK" && !v.is_empty());
    for (name, value) in vars {
        let words: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
        if !name.starts_with("SRS_") || words.is_empty() {
            continue;
        }
        let origin = Origin::Env { var: name.clone() };
        if let Some(variable) = known.iter().find(|v| v.name == *name) {
            set(tree, &variable.path, &words, &origin);
        } else if name == LOG_TANK_ALIAS {
            if !long_log_tank_set {
                set(tree, &[Step { name: "srs_log_tank", repeat: None }], &words, &origin);
            }
        } else {
            warnings.push(Warning { at: origin, message: "this variable is not supported: ignored".into() });
        }
    }
}

/// Sets the directive at `path` (relative to `children`) to `args`, creating blocks as the
/// path's steps allow.
fn set(children: &mut Vec<Directive>, path: &[Step], args: &[String], origin: &Origin) {
    let Some((step, rest)) = path.split_first() else { return };
    let Some(repeat) = step.repeat else {
        match children.iter_mut().find(|d| d.name == step.name) {
            Some(directive) => {
                directive.args = args.to_vec();
                directive.origin = origin.clone();
            }
            None => children.push(created(step.name, args, false, origin)),
        }
        return;
    };
    let exists = children.iter().any(|d| d.name == step.name);
    if !exists && repeat != RepeatKind::EachNamed {
        children.push(created(step.name, &[], true, origin));
    }
    let mut blocks = children.iter_mut().filter(|d| d.name == step.name);
    if repeat == RepeatKind::Once {
        // SRS's getters read the first block of a name.
        if let Some(block) = blocks.next() {
            set(&mut block.children, rest, args, origin);
        }
    } else {
        for block in blocks {
            set(&mut block.children, rest, args, origin);
        }
    }
}

fn created(name: &str, args: &[String], is_block: bool, origin: &Origin) -> Directive {
    Directive {
        name: name.to_owned(),
        args: args.to_vec(),
        children: Vec::new(),
        is_block,
        origin: origin.clone(),
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
    use crate::conf::classic::Caster;
    use crate::conf::table::{Row, Table, ValueKind};
    use crate::conf::{load, Sources};
    use crate::nodes::dvr::DvrPlan;
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
        assert_eq!(loaded.config.listen, "1940 1941", "every address of SRS_LISTEN is kept");
        assert!(loaded.config.vhosts.iter().all(|v| !v.play.gop_cache));
        assert_eq!(loaded.process.log_tank, crate::conf::process::LogTank::File, "no -e: SRS's file default");
        let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert!(warnings.iter().any(|w| w.starts_with("env SRS_NOPE: ")), "{warnings:?}");
        assert!(!warnings.iter().any(|w| w.starts_with("env SRS_LISTEN: ")), "{warnings:?}");
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
    fn variables_come_from_the_tables_and_name_one_directive_each() {
        let names = variable_names();
        for expected in [
            "SRS_SERVER_ID",
            "SRS_VHOST_HLS_ENABLED",
            "SRS_VHOST_HLS_HLS_PATH",
            "SRS_VHOST_HLS_HLS_M3U8_FILE",
            "SRS_VHOST_HLS_HLS_TS_FILE",
            "SRS_VHOST_DVR_ENABLED",
            "SRS_VHOST_DVR_DVR_PATH",
            "SRS_VHOST_DVR_DVR_PLAN",
            "SRS_VHOST_DVR_DVR_DURATION",
            "SRS_VHOST_DVR_DVR_WAIT_KEYFRAME",
            "SRS_HTTP_API_AUTH_PASSWORD",
            "SRS_STREAM_CASTER_OUTPUT",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "two directives share a variable");
        // Rule lines and unmapped blocks have no variable.
        for absent in ["SRS_VHOST_SECURITY_ALLOW", "SRS_VHOST_SECURITY_DENY", "SRS_HTTP_API_HTTPS"] {
            assert!(!names.iter().any(|n| n == absent), "{absent}");
        }
    }

    /// A value for `row` that differs from SRS's default and passes its checks.
    fn sample(path: &str, row: &Row) -> String {
        let custom = match path {
            "listen" => "1940",
            "server_id" => "vid-sample",
            "work_dir" => "/srv",
            "pid" => "run/x.pid",
            "daemon" => "on",
            "srs_log_tank" => "console",
            "srs_log_file" => "x.log",
            "srs_log_level" => "warn",
            "srs_log_level_v2" => "debug",
            "srt_server.pbkeylen" => "16",
            "stream_caster.caster" => "flv",
            "stream_caster.listen" => "8936",
            "stream_caster.output" => "rtmp://127.0.0.1/live/other",
            "vhost.enabled" => "off",
            "vhost.chunk_size" => "4096",
            "vhost.play.time_jitter" => "zero",
            "vhost.play.mw_msgs" => "4",
            "vhost.http_remux.mount" => "[vhost]/[app]/[stream].ts",
            "vhost.http_static.mount" => "[vhost]/vod",
            "vhost.hls.hls_on_error" => "ignore",
            "vhost.dvr.dvr_plan" => "segment",
            "vhost.dvr.time_jitter" => "zero",
            "vhost.http_hooks.ca_file" => "/etc/ssl/private-ca.pem",
            "vhost.forward.backend" => "http://127.0.0.1:8085/api/v1/forward",
            "vhost.rtc.pli_for_rtmp" => "2.5",
            // `mode remote` is the block's `enabled`.
            "vhost.cluster.mode" => "remote",
            hook if hook.starts_with("vhost.http_hooks.on_") => {
                "http://127.0.0.1:8085/a http://127.0.0.1:8085/b"
            }
            _ => "",
        };
        match row.value {
            ValueKind::FlagOn => "off".into(),
            ValueKind::FlagOff => "on".into(),
            ValueKind::Natural { min, max } => {
                let default = row.default.parse::<u64>().unwrap_or(min);
                (if default < max { default + 1 } else { min }).to_string()
            }
            ValueKind::Seconds => (row.default.parse::<f64>().unwrap_or(1.0) * 2.0).to_string(),
            ValueKind::Text => format!("sample-{}", row.name),
            ValueKind::Listen => "127.0.0.1:19999".into(),
            ValueKind::Words => "live/a live/b".into(),
            ValueKind::Custom => {
                assert!(!custom.is_empty(), "give `{path}` a sample value in this test");
                custom.into()
            }
            ValueKind::Nested { .. } | ValueKind::Lines | ValueKind::Unmapped => unreachable!("not a value"),
        }
    }

    /// A directive's dotted path, its row, and the variables its block needs to be mapped.
    type Leaf = (String, Row, Vec<(String, String)>);

    /// Every leaf row under `table`, with its dotted path and the variables that make its block
    /// mapped (the `enabled` of each block on the way, and what a stream_caster needs).
    fn leaves(table: &dyn Table, prefix: &str, needs: &[(String, String)], out: &mut Vec<Leaf>) {
        let rows = table.rows();
        let mut needs = needs.to_vec();
        if rows.iter().any(|r| r.name == "enabled" && matches!(r.value, ValueKind::FlagOff)) {
            needs.push((format!("{prefix}enabled"), "on".into()));
        }
        if prefix == "vhost.cluster." {
            needs.push((format!("{prefix}mode"), "remote".into()));
        }
        if prefix == "stream_caster." {
            for (name, value) in
                [("caster", "mpegts_over_udp"), ("listen", "8935"), ("output", "rtmp://127.0.0.1/live/cam")]
            {
                needs.push((format!("{prefix}{name}"), value.into()));
            }
        }
        for row in rows {
            match row.value {
                ValueKind::Nested { table, .. } => {
                    leaves(table, &format!("{prefix}{}.", row.name), &needs, out)
                }
                ValueKind::Lines | ValueKind::Unmapped => {}
                _ => out.push((format!("{prefix}{}", row.name), row, needs.clone())),
            }
        }
    }

    /// The directive at dotted `path` with `value`, as srs.conf text (vhosts in the default one).
    fn conf_text(path: &str, value: &str) -> String {
        let parts: Vec<&str> = path.split('.').collect();
        let (last, blocks) = parts.split_last().expect("a path has a name");
        let mut text = format!("{last} {value};");
        for block in blocks.iter().rev() {
            let args = if *block == "vhost" { format!(" {DEFAULT_VHOST}") } else { String::new() };
            text = format!("{block}{args} {{ {text} }}");
        }
        text
    }

    fn load_with(file: String, vars: Vec<(String, String)>) -> Result<crate::conf::Loaded, String> {
        let reader = move |_: &Path| Ok(file.clone());
        let sources = Sources { file: Some("srs.conf".into()), env_only: false, vars };
        load(&sources, &reader).map_err(|e| e.to_string())
    }

    /// What a load gives, warnings by message (their origins name the file or the variable).
    type Outcome = (crate::conf::classic::Config, crate::conf::process::ProcessSettings, Vec<String>);

    fn outcome(loaded: crate::conf::Loaded) -> Outcome {
        let mut messages: Vec<String> = loaded.warnings.into_iter().map(|w| w.message).collect();
        messages.sort();
        (loaded.config, loaded.process, messages)
    }

    #[test]
    fn every_directive_of_the_tables_is_set_by_its_variable() {
        let mut rows = Vec::new();
        leaves(crate::conf::mapping::root_table(), "", &[], &mut rows);
        let names = variable_names();
        assert_eq!(rows.len(), names.len(), "every leaf row has one variable");
        let base = format!("vhost {DEFAULT_VHOST} {{ }}\n");
        for (path, row, needs) in rows {
            let value = sample(&path, &row);
            let name = variable_name(&path);
            assert!(names.contains(&name), "{name}");
            let needs: Vec<(String, String)> =
                needs.into_iter().filter(|(p, _)| *p != path).map(|(p, v)| (variable_name(&p), v)).collect();
            let mut with_variable = needs.clone();
            with_variable.push((name.clone(), value.clone()));
            let by_variable =
                outcome(load_with(base.clone(), with_variable).unwrap_or_else(|e| panic!("{e}")));
            // A vhost directive goes in the one vhost (a second `vhost` block would be a repeat).
            let file = match path.starts_with("vhost.") {
                true => format!("{}\n", conf_text(&path, &value)),
                false => format!("{base}{}\n", conf_text(&path, &value)),
            };
            let by_file = outcome(load_with(file, needs.clone()).unwrap_or_else(|e| panic!("{e}")));
            // Without a required directive (a caster's `listen`) the load may fail: that differs too.
            let without = load_with(base.clone(), needs).map(outcome);
            assert_eq!(
                by_variable,
                by_file,
                "{name}={value} maps as `{}` in the file",
                conf_text(&path, &value)
            );
            assert_ne!(Ok(by_variable.clone()), without, "{name}={value} changed nothing");
            assert!(
                !by_variable.2.iter().any(|w| w.contains("not supported: ignored")),
                "{name}: {:?}",
                by_variable.2
            );
            // Where the classic form names the field as srs.conf does, the field holds the value.
            let classic = serde_json::to_value(&by_variable.0).expect("serializes");
            match classic_field(&classic, &path) {
                Some(field) => {
                    assert!(carries(field, &value), "{name}={value}: the classic field is {field}")
                }
                None => assert!(
                    path.ends_with(".enabled") || NOT_A_CLASSIC_FIELD.contains(&path.as_str()),
                    "{path}: no classic field of that name"
                ),
            }
        }
    }

    /// Directives that set no classic field of their own name: process settings, the caster
    /// `output` (which becomes `stream`) and the API's `https` (`http_api_https`). The walk still checks them against the file.
    const NOT_A_CLASSIC_FIELD: &[&str] = &[
        "vhost.cluster.mode",
        "work_dir",
        "pid",
        "daemon",
        "srs_log_tank",
        "srs_log_file",
        "srs_log_level",
        "srs_log_level_v2",
        "stream_caster.output",
        // srs.conf's seconds become the classic `pli_interval` in milliseconds.
        "vhost.rtc.pli_for_rtmp",
        // The API's `https` block is the classic `http_api_https` (the API block is the node).
        "http_api.https.listen",
        "http_api.https.key",
        "http_api.https.cert",
    ];

    /// The classic value's field at srs.conf's dotted `path` (the first vhost and caster).
    fn classic_field<'a>(classic: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
        let pointer: Vec<&str> = path
            .split('.')
            .map(|step| match step {
                "vhost" => "vhosts/0",
                "stream_caster" => "stream_casters/0",
                other => other,
            })
            .collect();
        classic.pointer(&format!("/{}", pointer.join("/")))
    }

    /// Whether a classic field holds what srs.conf `value` says.
    fn carries(field: &serde_json::Value, value: &str) -> bool {
        use serde_json::Value;
        match field {
            Value::Bool(on) => value == if *on { "on" } else { "off" },
            Value::Number(n) => n.as_f64() == value.parse::<f64>().ok(),
            Value::String(text) => text.eq_ignore_ascii_case(value),
            Value::Array(items) => {
                let words: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                words.join(" ") == value
            }
            Value::Null | Value::Object(_) => false,
        }
    }

    #[test]
    fn hls_dvr_and_server_id_variables_reach_the_classic_form() {
        let loaded = env_only(&[
            ("SRS_SERVER_ID", "vid-env"),
            ("SRS_VHOST_HLS_ENABLED", "on"),
            ("SRS_VHOST_HLS_HLS_PATH", "/tmp/hls"),
            ("SRS_VHOST_HLS_HLS_M3U8_FILE", "[app]/[stream]/index.m3u8"),
            ("SRS_VHOST_HLS_HLS_TS_FILE", "[app]/[stream]/[seq].ts"),
            ("SRS_VHOST_HLS_HLS_FRAGMENT", "2"),
            ("SRS_VHOST_DVR_ENABLED", "on"),
            ("SRS_VHOST_DVR_DVR_PATH", "/tmp/dvr/[app]/[stream].[timestamp].mp4"),
            ("SRS_VHOST_DVR_DVR_PLAN", "segment"),
            ("SRS_VHOST_DVR_DVR_DURATION", "5"),
            ("SRS_VHOST_DVR_DVR_WAIT_KEYFRAME", "off"),
        ]);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config.server_id.as_deref(), Some("vid-env"));
        let vhost = &loaded.config.vhosts[0];
        let hls = vhost.hls.as_ref().expect("enabled");
        assert_eq!(
            (hls.hls_path.as_str(), hls.hls_m3u8_file.as_str(), hls.hls_ts_file.as_str(), hls.hls_fragment),
            ("/tmp/hls", "[app]/[stream]/index.m3u8", "[app]/[stream]/[seq].ts", 2.0)
        );
        let dvr = vhost.dvr.as_ref().expect("enabled");
        assert_eq!(dvr.dvr_path, "/tmp/dvr/[app]/[stream].[timestamp].mp4");
        assert_eq!((dvr.dvr_plan, dvr.dvr_duration, dvr.dvr_wait_keyframe), (DvrPlan::Segment, 5, false));
    }

    #[test]
    fn stream_caster_variables_apply_to_every_caster_or_make_one() {
        let loaded = env_only(&[
            ("SRS_STREAM_CASTER_ENABLED", "on"),
            ("SRS_STREAM_CASTER_CASTER", "flv"),
            ("SRS_STREAM_CASTER_LISTEN", "8936"),
        ]);
        assert_eq!(loaded.config.stream_casters.len(), 1);
        assert_eq!(loaded.config.stream_casters[0].listen, "8936");
        let text = "stream_caster { enabled on; caster flv; listen 1; }\n\
                    stream_caster { enabled on; caster flv; listen 2; }\n";
        let loaded =
            load_with(text.into(), vars(&[("SRS_STREAM_CASTER_CASTER", "mpegts_over_udp")])).unwrap();
        let kinds: Vec<_> = loaded.config.stream_casters.iter().map(|c| c.caster).collect();
        assert_eq!(kinds, [Caster::MpegtsOverUdp, Caster::MpegtsOverUdp]);
    }

    #[test]
    fn empty_variables_are_ignored_and_the_short_log_tank_is_an_alias() {
        let loaded = env_only(&[("SRS_LISTEN", ""), ("SRS_LOG_TANK", "file")]);
        assert_eq!(loaded.config.listen, "1935");
        assert_eq!(loaded.process.log_tank, crate::conf::process::LogTank::File);
    }
}
