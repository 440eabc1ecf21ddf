//! SRS's `security` rules (allow/deny publish/play by all, IP or IPv4 CIDR) and `refer`
//! (hotlink protection on the RTMP pageUrl), both per vhost.
//!
//! Order as SRS (`srs_app_security.cpp`): an enabled rule list that is empty denies; any matching
//! deny denies; then, if there is at least one allow rule for the method, one must match.
//! Refer: the pageUrl's host must end with one of the listed domains (no list: allowed).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum RuleAction {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum RuleMethod {
    Publish,
    Play,
}

/// One `allow|deny publish|play all|ip|cidr;` line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub struct SecurityRule {
    pub action: RuleAction,
    pub method: RuleMethod,
    /// `all`, an IP address or an IPv4 CIDR (`10.0.0.0/8`).
    pub target: String,
}

/// srs.conf `vhost { security { ... } }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub struct Security {
    pub enabled: bool,
    pub rules: Vec<SecurityRule>,
}

/// srs.conf `vhost { refer { ... } }`: domains the pageUrl must end with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub struct Refer {
    pub enabled: bool,
    pub all: Vec<String>,
    pub publish: Vec<String>,
    pub play: Vec<String>,
}

impl Security {
    /// `Err` says which rule (or absence of one) denied `ip`.
    pub fn check(&self, method: RuleMethod, ip: IpAddr) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.rules.is_empty() {
            return Err("security is enabled with no rules".into());
        }
        let for_method = || self.rules.iter().filter(|rule| rule.method == method);
        if let Some(rule) = for_method().find(|r| r.action == RuleAction::Deny && matches(&r.target, ip)) {
            return Err(format!("denied by rule `deny {} {}`", method_name(method), rule.target));
        }
        let mut allows = for_method().filter(|r| r.action == RuleAction::Allow).peekable();
        if allows.peek().is_none() {
            return Ok(());
        }
        if allows.any(|r| matches(&r.target, ip)) {
            Ok(())
        } else {
            Err(format!("{ip} matches no `allow {}` rule", method_name(method)))
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for rule in &self.rules {
            let target = rule.target.as_str();
            if target != "all" && target.parse::<IpAddr>().is_err() && parse_cidr(target).is_none() {
                return Err(format!("security rule target `{target}`: write `all`, an IP or an IPv4 CIDR"));
            }
        }
        Ok(())
    }
}

fn method_name(method: RuleMethod) -> &'static str {
    match method {
        RuleMethod::Publish => "publish",
        RuleMethod::Play => "play",
    }
}

fn matches(target: &str, ip: IpAddr) -> bool {
    if target == "all" {
        return true;
    }
    if let Ok(exact) = target.parse::<IpAddr>() {
        return exact == ip;
    }
    match (parse_cidr(target), ip) {
        (Some((network, bits)), IpAddr::V4(v4)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(v4) & mask == network & mask
        }
        _ => false,
    }
}

fn parse_cidr(text: &str) -> Option<(u32, u32)> {
    let (address, bits) = text.split_once('/')?;
    let address: std::net::Ipv4Addr = address.parse().ok()?;
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 32)?;
    Some((u32::from(address), bits))
}

impl Refer {
    /// Checks `page_url` against the `all` list and the method's list.
    pub fn check(&self, method: Option<RuleMethod>, page_url: &str) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        let list = match method {
            None => &self.all,
            Some(RuleMethod::Publish) => &self.publish,
            Some(RuleMethod::Play) => &self.play,
        };
        if list.is_empty() {
            return Ok(());
        }
        let domain = page_domain(page_url);
        if list.iter().any(|allowed| !allowed.is_empty() && domain.ends_with(allowed.as_str())) {
            Ok(())
        } else {
            Err(format!("pageUrl `{page_url}` is not from an allowed domain"))
        }
    }
}

/// The host of a URL: without scheme, path and port.
fn page_domain(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(action: RuleAction, method: RuleMethod, target: &str) -> SecurityRule {
        SecurityRule { action, method, target: target.into() }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn deny_wins_then_allow_list_decides() {
        use RuleAction::*;
        use RuleMethod::*;
        let security = Security {
            enabled: true,
            rules: vec![
                rule(Allow, Publish, "127.0.0.0/8"),
                rule(Deny, Publish, "127.0.0.2"),
                rule(Deny, Play, "127.0.0.2"),
            ],
        };
        assert!(security.check(Publish, ip("127.0.0.1")).is_ok());
        assert!(security.check(Publish, ip("127.0.0.2")).is_err(), "deny before allow");
        assert!(security.check(Publish, ip("10.0.0.1")).is_err(), "an allow list exists and nothing matched");
        assert!(security.check(Play, ip("127.0.0.1")).is_ok(), "only deny rules for play: others pass");
        assert!(security.check(Play, ip("127.0.0.2")).is_err());
        let empty = Security { enabled: true, rules: vec![] };
        assert!(empty.check(Play, ip("127.0.0.1")).is_err(), "SRS: enabled and empty denies");
        let off = Security { enabled: false, rules: vec![] };
        assert!(off.check(Play, ip("127.0.0.1")).is_ok());
        assert!(Security { enabled: true, rules: vec![rule(Allow, Play, "bad/99")] }.validate().is_err());
    }

    #[test]
    fn refer_is_a_domain_suffix_match() {
        let refer = Refer { enabled: true, all: vec![], publish: vec![], play: vec!["example.com".into()] };
        assert!(refer.check(Some(RuleMethod::Play), "http://www.example.com:8080/player.html").is_ok());
        assert!(refer.check(Some(RuleMethod::Play), "http://evil.org/x").is_err());
        assert!(refer.check(Some(RuleMethod::Play), "").is_err());
        assert!(refer.check(Some(RuleMethod::Publish), "http://evil.org/").is_ok(), "no publish list");
    }
}
