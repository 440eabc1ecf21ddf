//! `OriginCoworkers`: SRS 4's origin cluster, `cluster { origin_cluster on; coworkers a b; }`.
//! The origins know each other's HTTP API (`coworkers`, this one may be among them). An origin
//! asked to play a stream it does not have asks each coworker in turn
//! `GET /api/v1/clusters?vhost=&ip=&app=&stream=&coworker=`; the one that has the stream answers
//! its RTMP address (`data.origin.ip`/`port`), the others `data.origin = null`. The RTMP player
//! is then redirected there with SRS's RTMP 302 (`onStatus` level `error`, code
//! `NetConnection.Connect.Rejected`, `ex.code = 302`, `ex.redirect` the tcUrl and `ex.redirect2`
//! the whole URL), which SRS edges and our `EdgePull` follow; ffmpeg does not. No coworker has
//! it: the play is refused ("no origin"), as SRS does. With `redirect = False` (beyond SRS), and
//! always for HTTP-FLV players (SRS's origin cluster is RTMP only), the origin pulls the stream
//! from the owner instead and serves it as an edge would (`edge_pull`'s machinery).
//!
//! Our `HttpApi` answers `/api/v1/clusters` for the streams published on this server (streams it
//! pulled are not its to give, so no redirect loops).
//!
//! ```dhall
//! srs.node "cluster" (srs.Node.OriginCoworkers srs.OriginCoworkers::{ coworkers = [ "127.0.0.1:9091", "127.0.0.1:9092" ] })
//! ```

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use serde_json::{json, Value};

use super::edge_pull::{serves, EdgePulls};
use super::{Engine, NodeKind, NodeSpec};
use crate::codec::percent;
use crate::control::http_client;
use crate::graph::{Catalogue, Ports, StreamKey};

/// How long one coworker has to answer.
const COWORKER_TIMEOUT: Duration = Duration::from_secs(2);
/// Most bytes read from a coworker's answer.
const MAX_ANSWER: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SRS's `coworkers`: the HTTP API `host:port` of each origin of the cluster, asked in order.
    pub coworkers: Vec<String>,
    /// The vhost whose players it serves (None: every vhost).
    pub vhost: Option<String>,
    /// RTMP players of a stream another origin has get SRS's RTMP 302 to it; `False` pulls the
    /// stream here instead (HTTP-FLV players are always pulled for).
    pub redirect: bool,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: super::rtmp_in::rtmp_caps() }
    }

    fn validate(&self) -> Result<(), String> {
        super::edge_pull::validate_origins(&self.coworkers).map_err(|e| e.replace("`origin`", "`coworkers`"))
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("coworkers", self.coworkers.join(" "))]
    }
}

/// The coworkers node serving `key`'s vhost, if any.
pub fn config_for(engine: &Engine, key: &StreamKey) -> Option<Config> {
    engine.graph().file.nodes.iter().find_map(|named| match &named.node {
        NodeSpec::OriginCoworkers(config) if serves(&config.vhost, key) => Some(config.clone()),
        _ => None,
    })
}

/// Whether `key` is published on this server itself (not pulled from another origin).
fn published_here(engine: &Engine, key: &StreamKey) -> bool {
    engine.live_streams().contains(key) && !engine.shared::<EdgePulls>().pulled().contains(key)
}

/// What an RTMP player of `key` on a coworkers origin gets.
#[derive(Debug, PartialEq)]
pub enum RtmpDecision {
    /// Played here: not an origin cluster's vhost, the stream is here, or it is pulled here.
    Local,
    /// RTMP 302 to `url`, whose application part is `tc_url`.
    Redirect { tc_url: String, url: String },
    /// No origin has the stream.
    NoOrigin,
}

/// Where an RTMP player of `key` (which asked for host `host`, with `param`) goes.
pub async fn rtmp_decision(engine: &Engine, key: &StreamKey, host: &str, param: &str) -> RtmpDecision {
    let Some(config) = config_for(engine, key) else { return RtmpDecision::Local };
    if !config.redirect || engine.live_streams().contains(key) {
        return RtmpDecision::Local;
    }
    match discover(&config.coworkers, key, host).await {
        Some(origin) => {
            let url = super::forward::destination_url(&origin, key, param);
            let stream_part = format!("/{}{param}", key.stream);
            let tc_url = url.strip_suffix(&stream_part).unwrap_or(&url).to_owned();
            tracing::info!(stream = %key, %origin, %url, "origin cluster: rtmp 302 to the origin that has the stream");
            RtmpDecision::Redirect { tc_url, url }
        }
        None => RtmpDecision::NoOrigin,
    }
}

/// Asks each coworker in order for the origin that has `key`: its RTMP `ip:port`.
pub async fn discover(coworkers: &[String], key: &StreamKey, host: &str) -> Option<String> {
    for coworker in coworkers {
        let url = format!(
            "http://{coworker}/api/v1/clusters?vhost={}&ip={}&app={}&stream={}&coworker={}",
            escape(&key.vhost),
            escape(host),
            escape(&key.app),
            escape(&key.stream),
            escape(coworker)
        );
        match http_client::get(&url, COWORKER_TIMEOUT, None, MAX_ANSWER).await {
            Ok((status, body)) if status.is_success() => match origin_of(&body) {
                Ok(Some(origin)) => return Some(origin),
                Ok(None) => {}
                Err(why) => {
                    tracing::warn!(stream = %key, %coworker, "origin cluster: bad coworker answer: {why}")
                }
            },
            Ok((status, _)) => {
                tracing::warn!(stream = %key, %coworker, %status, "origin cluster: coworker refused")
            }
            Err(e) => tracing::warn!(stream = %key, %coworker, "origin cluster: coworker unreachable: {e}"),
        }
    }
    None
}

/// The origin an `/api/v1/clusters` answer names (`ip:port`), `None` for `origin: null`.
pub fn origin_of(body: &[u8]) -> Result<Option<String>, String> {
    let answer: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if answer.get("code").and_then(Value::as_i64) != Some(0) {
        return Err(format!("code {}", answer.get("code").unwrap_or(&Value::Null)));
    }
    let origin = answer.pointer("/data/origin").unwrap_or(&Value::Null);
    if origin.is_null() {
        return Ok(None);
    }
    let ip = origin.get("ip").and_then(Value::as_str).unwrap_or_default();
    let port = origin.get("port").and_then(Value::as_u64).unwrap_or(0);
    let valid_ip =
        !ip.is_empty() && ip.len() <= 255 && !ip.contains(|c: char| c.is_whitespace() || "/?#@".contains(c));
    if !valid_ip || port == 0 || port > u64::from(u16::MAX) {
        return Err(format!("origin without a usable ip and port: {origin}"));
    }
    let host = if ip.contains(':') { format!("[{ip}]") } else { ip.to_owned() };
    Ok(Some(format!("{host}:{port}")))
}

/// The `data` of `/api/v1/clusters`: the query echoed, and this server as the origin when the
/// stream is published here (else `null`). `api_listen` is the answering API's `listen`.
pub fn clusters(engine: &Engine, query: &dyn Fn(&str) -> String, api_listen: &str) -> Value {
    let query = |name: &str| percent::decode_lossy(&query(name));
    let (vhost, app, stream) = (query("vhost"), query("app"), query("stream"));
    let (ip, coworker) = (query("ip"), query("coworker"));
    let echo = json!({"ip": ip, "vhost": vhost, "app": app, "stream": stream});
    let Some(name) = super::vhost::resolve(engine, &vhost) else {
        return json!({"query": echo, "origin": null});
    };
    let key = StreamKey::new(name, app, stream);
    if !published_here(engine, &key) {
        return json!({"query": echo, "origin": null});
    }
    let graph = engine.graph();
    let rtmp = graph
        .dag
        .node_indices()
        .filter(|&index| matches!(graph.node(index).node, NodeSpec::RtmpIn(_)))
        .find_map(|index| graph.node(index).node.listens().ok()?.first().map(|listen| listen.addr));
    let (listen_ip, port) = rtmp.map_or((None, 1935), |addr| (Some(addr.ip()), addr.port()));
    let service_ip = service_ip(listen_ip, &coworker);
    let api =
        if api_listen.contains(':') { api_listen.to_owned() } else { format!("{service_ip}:{api_listen}") };
    json!({
        "query": echo,
        "origin": {"ip": service_ip, "port": port, "vhost": key.vhost, "api": api, "routers": [api]},
    })
}

/// SRS's service address: the RTMP listen address when it is a real one, else the host the
/// coworker was asked by (the address the asking origin reached it at).
fn service_ip(listen: Option<IpAddr>, coworker: &str) -> String {
    match listen {
        Some(ip) if !ip.is_loopback() && !ip.is_unspecified() => ip.to_string(),
        _ => {
            let host = coworker.rsplit_once(':').map_or(coworker, |(host, _)| host);
            host.trim_start_matches('[').trim_end_matches(']').to_owned()
        }
    }
}

/// Percent-escapes what would end a query value.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_name_the_origin_or_none() {
        let found = br#"{"code":0,"data":{"query":{},"origin":{"ip":"10.0.0.2","port":19351,"vhost":"__defaultVhost__","api":"10.0.0.2:9092","routers":["10.0.0.2:9092"]}}}"#;
        assert_eq!(origin_of(found).unwrap().as_deref(), Some("10.0.0.2:19351"));
        assert_eq!(origin_of(br#"{"code":0,"data":{"query":{},"origin":null}}"#).unwrap(), None);
        assert!(origin_of(br#"{"code":1}"#).is_err());
        assert!(origin_of(b"garbage").is_err());
        assert!(origin_of(br#"{"code":0,"data":{"origin":{"ip":"h/x","port":1}}}"#).is_err());
        assert!(origin_of(br#"{"code":0,"data":{"origin":{"ip":"h","port":70000}}}"#).is_err());
    }

    #[test]
    fn the_service_ip_is_the_listen_address_or_the_coworker_host() {
        assert_eq!(service_ip(Some("10.1.2.3".parse().unwrap()), "127.0.0.1:9091"), "10.1.2.3");
        assert_eq!(service_ip(Some("0.0.0.0".parse().unwrap()), "192.168.1.5:9091"), "192.168.1.5");
        assert_eq!(service_ip(None, "[::1]:9091"), "::1");
        assert_eq!(escape("live/a b&c"), "live/a%20b%26c");
        assert_eq!(percent::decode_lossy("live/a%20b%26c%zz"), "live/a b&c%zz");
    }

    #[test]
    fn coworkers_are_host_port() {
        let config = Config { coworkers: vec![], vhost: None, redirect: true };
        assert!(config.validate().unwrap_err().contains("coworkers"));
        let config = Config { coworkers: vec!["127.0.0.1:9091".into()], vhost: None, redirect: true };
        assert!(config.validate().is_ok());
    }
}
