//! The control blocks' tables: global `http_api { }`, vhost `http_hooks { }`, `security { }`
//! and `refer { }`. Each maps onto the record of its node (`HttpApi`) or of the vhost router's
//! settings, `None` when the block is disabled (SRS's `enabled` defaults to off for all four).

use super::mapping::Scope;
use super::table::{Block, Enabled, Entry, Kind, Repeat};
use super::values::bad;
use super::{ConfError, Directive};
use crate::control::hooks::HttpHooks;
use crate::control::security::{Refer, RuleAction, RuleMethod, Security, SecurityRule};
use crate::nodes::http_api::{self, ApiAuth, RawApi};

/// The `HttpHooks` record's defaults for what srs.conf cannot say (`nodes/HttpHooks.dhall`).
const HOOK_TIMEOUT_MS: u64 = 5_000;

/// The `HttpApi` node's settings with SRS's defaults (`nodes/http_api.dhall`).
pub(super) fn default_http_api() -> http_api::Config {
    http_api::Config {
        listen: "1985".into(),
        crossdomain: true,
        auth: ApiAuth { enabled: false, username: String::new(), password: String::new() },
        bearer_token: None,
        raw_api: RawApi { enabled: false, allow_reload: false },
        tls: None,
    }
}

/// What `http_api { }` maps to: the `HttpApi` node, and its `https { }` when enabled.
pub(super) struct ApiBlock {
    pub api: http_api::Config,
    pub https: Option<super::classic::Https>,
}

/// Global `http_api { }`.
pub(super) static HTTP_API: Block<Enabled<ApiBlock>> = Block {
    name: "http_api",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|a| &mut a.enabled) },
        Entry { name: "listen", default: "1985", kind: Kind::Listen(|a| &mut a.config.api.listen) },
        Entry { name: "crossdomain", default: "on", kind: Kind::FlagOn(|a| &mut a.config.api.crossdomain) },
        Entry {
            name: "auth",
            default: "",
            kind: Kind::Nested {
                table: &API_AUTH,
                map: |a, d, s| API_AUTH.map(d, &mut a.config.api.auth, s),
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "raw_api",
            default: "",
            kind: Kind::Nested {
                table: &RAW_API,
                map: |a, d, s| RAW_API.map(d, &mut a.config.api.raw_api, s),
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "https",
            default: "",
            kind: Kind::Nested {
                table: &super::mapping::HTTPS_API,
                map: |a, d, s| {
                    let https = super::classic::Https::with_listen("1990");
                    a.config.https = super::mapping::HTTPS_API.map_enabled(d, https, s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
    ],
};

/// `http_api { auth { } }`.
static API_AUTH: Block<ApiAuth> = Block {
    name: "auth",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|a| &mut a.enabled) },
        Entry { name: "username", default: "", kind: Kind::Text(|a| &mut a.username) },
        Entry { name: "password", default: "", kind: Kind::Text(|a| &mut a.password) },
    ],
};

/// `http_api { raw_api { } }` (`allow_query`/`allow_update` were removed from SRS and warn as
/// unsupported).
static RAW_API: Block<RawApi> = Block {
    name: "raw_api",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|r| &mut r.enabled) },
        Entry { name: "allow_reload", default: "off", kind: Kind::FlagOff(|r| &mut r.allow_reload) },
    ],
};

/// `HttpHooks` with no URL and SRS's `enabled on`.
pub(super) fn default_http_hooks() -> HttpHooks {
    HttpHooks {
        enabled: true,
        on_connect: Vec::new(),
        on_close: Vec::new(),
        on_publish: Vec::new(),
        on_unpublish: Vec::new(),
        on_play: Vec::new(),
        on_stop: Vec::new(),
        on_dvr: Vec::new(),
        on_hls: Vec::new(),
        on_hls_notify: Vec::new(),
        timeout_ms: HOOK_TIMEOUT_MS,
        allow_on_error: false,
        ca_file: None,
    }
}

/// Vhost `http_hooks { }`: every `on_*` takes several URLs, kept in order.
pub(super) static HTTP_HOOKS: Block<Enabled<HttpHooks>> = Block {
    name: "http_hooks",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|h| &mut h.enabled) },
        Entry {
            name: "on_connect",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_connect, d, s)),
        },
        Entry {
            name: "on_close",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_close, d, s)),
        },
        Entry {
            name: "on_publish",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_publish, d, s)),
        },
        Entry {
            name: "on_unpublish",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_unpublish, d, s)),
        },
        Entry {
            name: "on_play",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_play, d, s)),
        },
        Entry {
            name: "on_stop",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_stop, d, s)),
        },
        Entry {
            name: "on_dvr",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_dvr, d, s)),
        },
        Entry {
            name: "on_hls",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_hls, d, s)),
        },
        Entry {
            name: "on_hls_notify",
            default: "",
            kind: Kind::Custom(|h, d, s| hook_urls(&mut h.config.on_hls_notify, d, s)),
        },
        // Beyond SRS: a private CA for `https://` hooks.
        Entry {
            name: "ca_file",
            default: "",
            kind: Kind::Custom(|h, d, _| {
                h.config.ca_file = Some(super::values::text(d)?);
                Ok(())
            }),
        },
    ],
};

/// An enabled `security` block's record before its rules.
pub(super) fn default_security() -> Security {
    Security { enabled: true, rules: Vec::new() }
}

/// Vhost `security { }`: `allow|deny publish|play TARGET` rules, in order.
pub(super) static SECURITY: Block<Enabled<Security>> = Block {
    name: "security",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|s| &mut s.enabled) },
        Entry {
            name: "allow",
            default: "",
            kind: Kind::Lines(|s, d, scope| {
                s.config.rules.push(security_rule(d, RuleAction::Allow, scope)?);
                Ok(())
            }),
        },
        Entry {
            name: "deny",
            default: "",
            kind: Kind::Lines(|s, d, scope| {
                s.config.rules.push(security_rule(d, RuleAction::Deny, scope)?);
                Ok(())
            }),
        },
    ],
};

/// An enabled `refer` block's record before its lists.
pub(super) fn default_refer() -> Refer {
    Refer { enabled: true, all: Vec::new(), publish: Vec::new(), play: Vec::new() }
}

/// Vhost `refer { }`: `all`, `publish`, `play` list domains.
pub(super) static REFER: Block<Enabled<Refer>> = Block {
    name: "refer",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|r| &mut r.enabled) },
        Entry { name: "all", default: "", kind: Kind::Words(|r| &mut r.config.all) },
        Entry { name: "publish", default: "", kind: Kind::Words(|r| &mut r.config.publish) },
        Entry { name: "play", default: "", kind: Kind::Words(|r| &mut r.config.play) },
    ],
};

/// The URLs of one `on_*` directive: http(s) only; https warns (no TLS client yet).
fn hook_urls(list: &mut Vec<String>, directive: &Directive, _: &mut Scope) -> Result<(), ConfError> {
    for url in &directive.args {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(bad(directive, format!("`{url}` is not an http:// or https:// URL")));
        }
    }
    *list = directive.args.clone();
    Ok(())
}

/// One `allow|deny publish|play all|ip|cidr;` line (SRS reads one target; extras warn).
fn security_rule(d: &Directive, action: RuleAction, scope: &mut Scope) -> Result<SecurityRule, ConfError> {
    let method = match d.arg0() {
        "publish" => RuleMethod::Publish,
        "play" => RuleMethod::Play,
        _ => return Err(bad(d, "write `publish` or `play`, then `all`, an IP or an IPv4 CIDR".into())),
    };
    let target = d.args.get(1).cloned().ok_or_else(|| bad(d, "missing `all`, an IP or a CIDR".into()))?;
    for extra in d.args.iter().skip(2) {
        scope.warn(d, format!("`{}`: SRS reads one target per rule; `{extra}` is ignored", d.name));
    }
    let rule = SecurityRule { action, method, target };
    Security { enabled: true, rules: vec![rule.clone()] }.validate().map_err(|reason| bad(d, reason))?;
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::super::mapping::Mapped;
    use super::*;
    use crate::conf::mapping::tests::map_text;

    fn warnings(mapped: &Mapped) -> Vec<String> {
        mapped.warnings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn max_connections_is_mapped_and_bounded() {
        assert_eq!(map_text("max_connections 20;\n").unwrap().config.max_connections, 20);
        assert_eq!(map_text("").unwrap().config.max_connections, 1000, "SRS's default");
        let error = map_text("max_connections 0;\n").unwrap_err();
        assert!(error.starts_with("srs.conf:1: `max_connections`: bad value `0`"), "{error}");
    }

    #[test]
    fn http_api_block_maps_every_directive() {
        let mapped = map_text(
            "http_api {\n enabled on;\n listen 127.0.0.1:1986;\n crossdomain off;\n\
             auth { enabled on; username admin; password secret; }\n\
             raw_api { enabled on; allow_reload on; allow_query on; }\n\
             https { enabled on; listen 1991; key k.pem; }\n}\n",
        )
        .unwrap();
        let api = mapped.config.http_api.clone().expect("enabled");
        assert_eq!(api.listen, "127.0.0.1:1986");
        assert!(!api.crossdomain);
        assert_eq!(api.auth, ApiAuth { enabled: true, username: "admin".into(), password: "secret".into() });
        assert_eq!(api.raw_api, RawApi { enabled: true, allow_reload: true });
        assert_eq!(api.bearer_token, None);
        let https = mapped.config.http_api_https.clone().expect("https enabled");
        assert_eq!(
            (https.listen.as_str(), https.key.as_str(), https.cert.as_str()),
            ("1991", "k.pem", "./conf/server.crt")
        );
        assert_eq!(warnings(&mapped), ["srs.conf:6: `allow_query` in `raw_api` is not supported: ignored",]);
    }

    #[test]
    fn http_api_defaults_and_truth_rules() {
        let api = map_text("http_api { enabled on; }\n").unwrap().config.http_api.expect("enabled");
        assert_eq!(api, default_http_api());
        assert_eq!((api.listen.as_str(), api.crossdomain), ("1985", true));
        let api = map_text("http_api { enabled on; crossdomain no; auth { enabled yes; } }\n")
            .unwrap()
            .config
            .http_api
            .expect("enabled");
        assert!(api.crossdomain, "prefer true: only `off` disables");
        assert!(!api.auth.enabled, "prefer false: only `on` enables");
        assert!(map_text("http_api { listen 1986; }\n").unwrap().config.http_api.is_none());
        assert!(map_text("http_api { enabled yes; }\n").unwrap().config.http_api.is_none());
    }

    #[test]
    fn http_hooks_keep_several_urls_per_event_in_order() {
        let mapped = map_text(
            "vhost v {\n http_hooks {\n  enabled on;\n  on_connect http://a/c http://b/c;\n  on_close http://a/x;\n\
             \x20 on_publish http://a/p http://b/p http://c/p;\n  on_unpublish http://a/u;\n  on_play http://a/pl;\n\
             \x20 on_stop http://a/s;\n  on_dvr http://a/d;\n  on_hls http://a/h;\n\
             \x20 on_hls_notify http://a/[app]/[stream];\n }\n}\n",
        )
        .unwrap();
        let hooks = mapped.config.vhosts[0].http_hooks.clone().expect("enabled");
        assert_eq!(hooks.on_connect, ["http://a/c", "http://b/c"]);
        assert_eq!(hooks.on_publish, ["http://a/p", "http://b/p", "http://c/p"]);
        assert_eq!(
            (hooks.on_close, hooks.on_unpublish, hooks.on_play, hooks.on_stop, hooks.on_dvr, hooks.on_hls),
            (
                vec!["http://a/x".to_owned()],
                vec!["http://a/u".to_owned()],
                vec!["http://a/pl".to_owned()],
                vec!["http://a/s".to_owned()],
                vec!["http://a/d".to_owned()],
                vec!["http://a/h".to_owned()]
            )
        );
        assert_eq!((hooks.timeout_ms, hooks.allow_on_error), (HOOK_TIMEOUT_MS, false));
        assert_eq!(hooks.on_hls_notify, ["http://a/[app]/[stream]"]);
        assert!(warnings(&mapped).is_empty(), "{:?}", warnings(&mapped));
    }

    #[test]
    fn http_hooks_are_off_unless_enabled_and_urls_are_checked() {
        let off = map_text("vhost v { http_hooks { on_publish http://a/p; } }\n").unwrap();
        assert!(off.config.vhosts[0].http_hooks.is_none(), "SRS's default is off");
        let off = map_text("vhost v { http_hooks { enabled yes; on_publish http://a/p; } }\n").unwrap();
        assert!(off.config.vhosts[0].http_hooks.is_none(), "prefer false");
        let error = map_text("vhost v {\n http_hooks { enabled on; on_play ftp://a/p; }\n}\n").unwrap_err();
        assert_eq!(
            error,
            "srs.conf:2: `on_play`: bad value `ftp://a/p`: `ftp://a/p` is not an http:// or https:// URL"
        );
        let tls = map_text("vhost v { http_hooks { enabled on; on_play https://a/p; } }\n").unwrap();
        assert_eq!(tls.config.vhosts[0].http_hooks.as_ref().unwrap().on_play, ["https://a/p"]);
        assert!(warnings(&tls).is_empty(), "https hooks are supported: {:?}", warnings(&tls));
        let ca = map_text("vhost v { http_hooks { enabled on; ca_file ./ca.pem; } }\n").unwrap();
        assert_eq!(ca.config.vhosts[0].http_hooks.as_ref().unwrap().ca_file.as_deref(), Some("./ca.pem"));
    }

    #[test]
    fn security_rules_keep_their_order() {
        let mapped = map_text(
            "vhost v {\n security {\n  enabled on;\n  deny play 10.0.0.1;\n  allow play all;\n\
             \x20 allow publish 127.0.0.0/8 10.0.0.2;\n  deny publish all;\n  seo on;\n }\n}\n",
        )
        .unwrap();
        let security = mapped.config.vhosts[0].security.clone().expect("enabled");
        let rule = |action, method, target: &str| SecurityRule { action, method, target: target.into() };
        use RuleAction::{Allow, Deny};
        use RuleMethod::{Play, Publish};
        assert_eq!(
            security,
            Security {
                enabled: true,
                rules: vec![
                    rule(Deny, Play, "10.0.0.1"),
                    rule(Allow, Play, "all"),
                    rule(Allow, Publish, "127.0.0.0/8"),
                    rule(Deny, Publish, "all"),
                ],
            }
        );
        assert_eq!(
            warnings(&mapped),
            [
                "srs.conf:6: `allow`: SRS reads one target per rule; `10.0.0.2` is ignored",
                "srs.conf:8: `seo` in `security` is not supported: ignored",
            ]
        );
        let off = map_text("vhost v { security { allow play all; } }\n").unwrap();
        assert!(off.config.vhosts[0].security.is_none(), "SRS's default is off");
        let error = map_text("vhost v { security { enabled on; allow record all; } }\n").unwrap_err();
        assert!(error.contains("`allow`: bad value `record all`"), "{error}");
        let error = map_text("vhost v { security { enabled on; deny play localhost; } }\n").unwrap_err();
        assert!(error.ends_with("write `all`, an IP or an IPv4 CIDR"), "{error}");
    }

    #[test]
    fn refer_lists_domains_per_method() {
        let mapped = map_text(
            "vhost v { refer { enabled on; all a.com b.com; publish p.com; play c.com; } }\n\
             vhost w { refer { all a.com; } }\n",
        )
        .unwrap();
        let refer = mapped.config.vhosts[0].refer.clone().expect("enabled");
        assert_eq!(
            (refer.all, refer.publish, refer.play),
            (
                vec!["a.com".to_owned(), "b.com".to_owned()],
                vec!["p.com".to_owned()],
                vec!["c.com".to_owned()]
            )
        );
        assert!(mapped.config.vhosts[1].refer.is_none(), "SRS's default is off");
        assert!(mapped.warnings.is_empty(), "{:?}", warnings(&mapped));
    }
}
