//! `FlvPostIn`: SRS's `flv` stream caster: `POST /<app>/<stream>.flv` with an FLV body (chunked
//! or with a length) publishes `app/stream`, tags relayed as they arrive.
//!
//! The vhost comes from the Host header. A stream already published is refused with 409 (SRS's
//! stream-busy error); a truncated or garbage body ends that publish with a log line naming the
//! peer and the cause, and a 400 answer if the client still reads one. Tags are limited by the
//! FLV size field (16 MiB). Produces what FLV carries. Shares the HTTP server of its address.
//!
//! ```dhall
//! srs.node "flv_post" (srs.Node.FlvPostIn srs.FlvPostIn::{ listen = "8936" })
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use super::flv_frames::FlvToFrames;
use super::vhost;
use crate::codec::flv::FlvReader;
use crate::graph::engine::PublishError;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{listens_on, Listen, Ports, StreamKey, Transport};
use crate::media::TimestampUnwrapper;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;
use crate::nodes::{Engine, Publication};
use crate::servers::http::{self, Body, HttpRoute, ResponseFuture};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// HTTP listen address: `8936` or `ip:port`.
    pub listen: String,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: super::rtmp_in::rtmp_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "http", Some("flv post"), None)
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        let path = format!("/{}/{}.flv", super::urls::EXAMPLE_APP, super::urls::EXAMPLE_STREAM);
        super::urls::on_listens(listens, "publish (HTTP POST of FLV)", "http", &path)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            plan.http_route(listen.addr, Arc::new(Route::new(node.engine.clone(), node.index)));
        }
        Ok(())
    }
}

/// SRS's `ERROR_SYSTEM_STREAM_BUSY`, quoted in the 409 answer.
const SRS_STREAM_BUSY: u32 = 1028;

/// The HTTP side: takes POSTs of `.flv` paths and publishes their bodies.
#[derive(Debug)]
pub struct Route {
    engine: Engine,
    node: NodeIndex,
}

impl Route {
    pub fn new(engine: Engine, node: NodeIndex) -> Route {
        Route { engine, node }
    }
}

impl HttpRoute for Route {
    fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>> {
        if request.method() != Method::POST {
            return Err(request);
        }
        let Some((app, stream)) = app_and_stream(request.uri().path()) else { return Err(request) };
        let host =
            request.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or(DEFAULT_VHOST);
        let host = host.rsplit_once(':').map_or(host, |(name, _)| name).to_owned();
        let (engine, node) = (self.engine.clone(), self.node);
        Ok(Box::pin(async move {
            let Some(vhost) = vhost::resolve(&engine, &host) else {
                tracing::warn!(%peer, %host, "flv post refused: no vhost serves this host");
                return http::text_response(StatusCode::NOT_FOUND, "no vhost serves this host\n");
            };
            receive(engine, node, StreamKey::new(vhost, app, stream), request, peer).await
        }))
    }
}

/// `/live/livestream.flv` → (`live`, `livestream`): the app is the directory without the leading
/// `/`, the stream the last segment without `.flv` (SRS's rule).
pub fn app_and_stream(path: &str) -> Option<(String, String)> {
    let path = path.trim_start_matches('/');
    let path = path.strip_suffix(".flv").unwrap_or(path);
    let (app, stream) = path.rsplit_once('/')?;
    let valid = |s: &str| !s.is_empty() && !s.split('/').any(|part| part.is_empty() || part == "..");
    (valid(app) && valid(stream)).then(|| (app.to_owned(), stream.to_owned()))
}

/// Publishes the body of one POST until it ends, fails or the server shuts down.
async fn receive(
    engine: Engine,
    node: NodeIndex,
    key: StreamKey,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let id = engine.next_id();
    let mut publication = match engine.publish(node, key.clone()) {
        Ok(publication) => publication,
        Err(e @ PublishError::Busy(_)) => {
            tracing::warn!(conn = id, %peer, "flv post refused: {e}");
            let text = format!("{e} (srs code {SRS_STREAM_BUSY})\n");
            return http::text_response(StatusCode::CONFLICT, &text);
        }
        Err(e) => {
            tracing::warn!(conn = id, %peer, "flv post refused: {e}");
            return http::text_response(StatusCode::SERVICE_UNAVAILABLE, &format!("{e}\n"));
        }
    };
    tracing::info!(conn = id, %peer, stream = %key, "flv post publishing");
    let shutdown = engine.shutdown_signal();
    let mut body = request.into_body();
    let result = tokio::select! {
        result = relay_body(&mut body, &mut publication, id) => result,
        _ = shutdown => Ok(()),
    };
    publication.end().await;
    match result {
        Ok(()) => {
            tracing::info!(conn = id, %peer, stream = %key, "flv post ended");
            http::text_response(StatusCode::OK, "")
        }
        Err(cause) => {
            tracing::warn!(conn = id, %peer, stream = %key, "flv post ended the publish: {cause}");
            discard_rest(&mut body).await;
            http::text_response(StatusCode::BAD_REQUEST, &format!("{cause}\n"))
        }
    }
}

/// Most of a refused body read and dropped so the client gets the answer; closing a socket with
/// unread bytes makes the kernel reset the connection, and the answer is lost.
const MAX_DISCARD_BYTES: usize = 1 << 20;
const DISCARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

async fn discard_rest(body: &mut Incoming) {
    let discard = async {
        let mut n_bytes = 0;
        while n_bytes < MAX_DISCARD_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => n_bytes += frame.data_ref().map_or(0, |data| data.len()),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIMEOUT, discard).await;
}

/// Reads the body, sending the tags' events as they complete; `Err` names what broke.
async fn relay_body(body: &mut Incoming, publication: &mut Publication, id: u64) -> Result<(), String> {
    let mut reader = FlvReader::default();
    let mut frames = FlvToFrames::default();
    let mut unwrapper = TimestampUnwrapper::default();
    loop {
        let ended = match body.frame().await {
            None => {
                reader.finish();
                true
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    reader.push(&data);
                }
                false
            }
            Some(Err(e)) => return Err(format!("body cut short: {e}")),
        };
        while let Some(tag) = reader.next_tag() {
            let tag = tag.map_err(|e| format!("bad flv: {e}"))?;
            let ts = unwrapper.unwrap(tag.timestamp_ms);
            match frames.push(tag.tag_type, ts, tag.body) {
                Ok(events) => {
                    for event in events {
                        publication.send(event).await;
                    }
                }
                Err(e) => tracing::warn!(conn = id, offset = tag.offset, "skipping a bad tag: {e}"),
            }
        }
        if ended {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_app_and_stream_as_srs() {
        let split = |path: &str| app_and_stream(path);
        assert_eq!(split("/live/livestream.flv"), Some(("live".into(), "livestream".into())));
        assert_eq!(split("/live/livestream"), Some(("live".into(), "livestream".into())));
        assert_eq!(split("/a/b/s.flv"), Some(("a/b".into(), "s".into())));
        assert_eq!(split("/livestream.flv"), None);
        assert_eq!(split("/live/.flv"), None);
        assert_eq!(split("/../x/s.flv"), None);
        assert_eq!(split("//s.flv"), None);
    }
}
