//! SRS's `token_traverse` on an edge: before a publisher or player is admitted here, the edge
//! makes an RTMP connect to an origin with the client's tcUrl and parameters and hangs up; the
//! origin's own admission (`on_connect` hook, security, refer) decides. A refusal rejects the
//! client (an `_error`, or the origin closing the connection as SRS and we do on a denied
//! connect); an origin that does not answer is skipped for the next, and none answering rejects.

use std::time::Duration;

use super::{edge_pull, Engine, NodeSpec};
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::StreamKey;
use crate::servers::rtmp_client::{connect_only, RtmpClientError};

/// How long one origin has to answer the connect.
const TRAVERSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The origins to ask before admitting a publisher (`publish`) or player of `key`; empty when no
/// cluster node of the graph traverses tokens for its vhost.
fn origins(engine: &Engine, key: &StreamKey, publish: bool) -> Vec<String> {
    engine
        .graph()
        .file
        .nodes
        .iter()
        .find_map(|named| match &named.node {
            NodeSpec::EdgePush(c) if publish && c.token_traverse => Some(c.origin.clone()),
            NodeSpec::EdgePull(c) if !publish && c.token_traverse && edge_pull::serves(&c.vhost, key) => {
                Some(c.origin.clone())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// The URL whose tcUrl carries the client's parameters (and the vhost), as the origin's
/// `on_connect` sees them: `rtmp://origin/app?vhost=v&token=t/stream`.
fn connect_url(origin: &str, key: &StreamKey, param: &str) -> String {
    let mut query: Vec<String> = Vec::new();
    if key.vhost != DEFAULT_VHOST {
        query.push(format!("vhost={}", key.vhost));
    }
    let param = param.trim_start_matches('?');
    query.extend(param.split('&').filter(|p| !p.is_empty() && !p.starts_with("vhost=")).map(String::from));
    let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
    format!("rtmp://{origin}/{}{query}/{}", key.app, key.stream)
}

/// Asks the origins whether the client with `param` may publish or play `key`.
pub async fn authorize(engine: &Engine, key: &StreamKey, param: &str, publish: bool) -> Result<(), String> {
    let origins = origins(engine, key, publish);
    if origins.is_empty() {
        return Ok(());
    }
    for origin in &origins {
        let url = connect_url(origin, key, param);
        match connect_only(&url, TRAVERSE_TIMEOUT).await {
            Ok(()) => return Ok(()),
            Err(RtmpClientError::Rejected { code, description }) => {
                return Err(format!("origin {origin} refused (token traverse): {code}: {description}"))
            }
            // An origin (ours, SRS) that denies a connect closes the connection without a word.
            Err(RtmpClientError::Closed) => {
                return Err(format!("origin {origin} refused (token traverse): it closed the connection"))
            }
            Err(e) => tracing::warn!(%origin, stream = %key, "token traverse: origin did not answer: {e}"),
        }
    }
    Err(format!("token traverse: no origin answered ({})", origins.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_url_carries_vhost_and_parameters_in_the_tc_url() {
        let key = StreamKey::new(DEFAULT_VHOST, "live", "s");
        assert_eq!(connect_url("o:1935", &key, "?token=x"), "rtmp://o:1935/live?token=x/s");
        assert_eq!(connect_url("o:1935", &key, ""), "rtmp://o:1935/live/s");
        let other = StreamKey::new("a.com", "live", "s");
        assert_eq!(connect_url("o", &other, "?vhost=a.com&t=1"), "rtmp://o/live?vhost=a.com&t=1/s");
    }
}
