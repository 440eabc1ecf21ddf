//! The header values GB28181 exchanges: Via (transport, sent-by, branch, rport), name-addr
//! headers (From, To, Contact: URI user and host, tag), CSeq, and the parameters of a digest
//! challenge or answer.

use super::SipError;

/// `SIP/2.0/UDP host:port;rport;branch=z9hG4bK...`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    pub fn parse(value: &str) -> Result<Via, SipError> {
        let bad = SipError::BadHeader("Via");
        // Only the first of comma-separated values matters for a response.
        let value = value.split(',').next().unwrap_or_default().trim();
        let (protocol, rest) = value.split_once(char::is_whitespace).ok_or(bad.clone())?;
        let transport = protocol.rsplit('/').next().ok_or(bad.clone())?.to_ascii_uppercase();
        let mut parts = rest.trim().split(';');
        let sent_by = parts.next().ok_or(bad.clone())?.trim();
        let (host, port) = split_host_port(sent_by).ok_or(bad)?;
        Ok(Via { transport, host, port, params: parse_params(parts) })
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        param(&self.params, name)
    }

    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write_params(f, &self.params)
    }
}

/// `"Name" <sip:user@host:port>;tag=abc` or `sip:user@host;tag=abc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub uri: String,
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    pub fn parse(value: &str) -> Result<NameAddr, SipError> {
        let bad = SipError::BadHeader("name-addr");
        let value = value.trim();
        let (uri, rest) = match value.find('<') {
            Some(open) => {
                let close = value[open..].find('>').ok_or(bad.clone())? + open;
                (&value[open + 1..close], &value[close + 1..])
            }
            None => value.split_once(';').map_or((value, ""), |(uri, rest)| (uri, rest)),
        };
        if !uri.starts_with("sip:") && !uri.starts_with("sips:") {
            return Err(bad);
        }
        Ok(NameAddr { uri: uri.to_owned(), params: parse_params(rest.split(';')) })
    }

    pub fn new(uri: String) -> NameAddr {
        NameAddr { uri, params: Vec::new() }
    }

    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag").flatten()
    }

    pub fn with_tag(mut self, tag: &str) -> NameAddr {
        self.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        self.params.push(("tag".into(), Some(tag.into())));
        self
    }

    /// The URI's user part (a GB28181 device or server id).
    pub fn user(&self) -> Option<&str> {
        uri_user(&self.uri)
    }

    /// The URI's host part (with port), without URI parameters.
    pub fn host(&self) -> Option<&str> {
        uri_host(&self.uri)
    }
}

impl std::fmt::Display for NameAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

pub fn uri_user(uri: &str) -> Option<&str> {
    let rest = uri.split_once(':')?.1;
    let (user, _) = rest.split_once('@')?;
    Some(user.split(';').next().unwrap_or(user)).filter(|u| !u.is_empty())
}

pub fn uri_host(uri: &str) -> Option<&str> {
    let rest = uri.split_once(':')?.1;
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    host.split([';', '?']).next().filter(|h| !h.is_empty())
}

/// `CSeq: 2 INVITE`
pub fn parse_cseq(value: &str) -> Result<(u32, String), SipError> {
    let bad = SipError::BadHeader("CSeq");
    let (number, method) = value.trim().split_once(char::is_whitespace).ok_or(bad.clone())?;
    Ok((number.parse().map_err(|_| bad)?, method.trim().to_owned()))
}

/// The parameters of `Digest realm="x", nonce="y", ...` (names lowercased, quotes removed).
pub fn parse_digest(value: &str) -> Result<Vec<(String, String)>, SipError> {
    let bad = SipError::BadHeader("Authorization");
    let rest = value.trim().strip_prefix("Digest").ok_or(bad.clone())?;
    let mut params = Vec::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').ok_or(bad.clone())?;
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').ok_or(bad.clone())?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_once(',').map_or((after, ""), |(v, next)| (v, next))
        };
        params.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(params)
}

fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    match text.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || text.starts_with('[') => {
            Some((host.to_owned(), Some(port.parse().ok()?)))
        }
        _ if !text.is_empty() => Some((text.to_owned(), None)),
        _ => None,
    }
}

fn parse_params<'a>(parts: impl Iterator<Item = &'a str>) -> Vec<(String, Option<String>)> {
    parts
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (n.trim().to_owned(), Some(v.trim().to_owned())),
            None => (p.to_owned(), None),
        })
        .collect()
}

fn param<'a>(params: &'a [(String, Option<String>)], name: &str) -> Option<Option<&'a str>> {
    params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
}

fn write_params(f: &mut std::fmt::Formatter<'_>, params: &[(String, Option<String>)]) -> std::fmt::Result {
    for (name, value) in params {
        match value {
            Some(value) => write!(f, ";{name}={value}")?,
            None => write!(f, ";{name}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_keeps_rport_and_branch() {
        let via = Via::parse("SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1371463273").unwrap();
        assert_eq!(
            (via.transport.as_str(), via.host.as_str(), via.port),
            ("UDP", "192.168.1.64", Some(5060))
        );
        assert_eq!(via.branch(), Some("z9hG4bK1371463273"));
        assert_eq!(via.param("rport"), Some(None));
        assert_eq!(via.to_string(), "SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1371463273");
        assert!(Via::parse("nonsense").is_err());
    }

    #[test]
    fn name_addrs_give_user_host_and_tag() {
        let from = NameAddr::parse("<sip:34020000001320000001@3402000000>;tag=2043466181").unwrap();
        assert_eq!(from.user(), Some("34020000001320000001"));
        assert_eq!(from.host(), Some("3402000000"));
        assert_eq!(from.tag(), Some("2043466181"));
        let bare = NameAddr::parse("sip:abc@10.0.0.1:5060;tag=x").unwrap();
        assert_eq!((bare.user(), bare.host(), bare.tag()), (Some("abc"), Some("10.0.0.1:5060"), Some("x")));
        assert_eq!(NameAddr::new("sip:a@b".into()).with_tag("t1").to_string(), "<sip:a@b>;tag=t1");
        assert!(NameAddr::parse("<http://x>").is_err());
    }

    #[test]
    fn cseq_and_digest_parameters() {
        assert_eq!(parse_cseq("20 INVITE").unwrap(), (20, "INVITE".to_owned()));
        assert!(parse_cseq("x INVITE").is_err());
        let params = parse_digest(r#"Digest username="3402", realm="3402000000", nonce="abc,d", uri="sip:x", response="ff", algorithm=MD5"#).unwrap();
        assert!(params.contains(&("nonce".into(), "abc,d".into())));
        assert!(params.contains(&("algorithm".into(), "MD5".into())));
        assert!(parse_digest("Basic xyz").is_err());
    }
}
