//! `HttpStatic`: SRS's `http_server.dir` / vhost `http_static`: files under `dir` served over HTTP
//! on the shared server at `listen`, below the URL prefix `mount`. This is how HLS (and DASH)
//! output reaches players.
//!
//! GET, HEAD and OPTIONS; MIME types by extension; `Cache-Control: no-cache` for manifests (a
//! cache in front passes every playlist reload through) and a long max-age for segments
//! (`immutable` for `.ts`/`.m4s`, whose names are never reused); CORS when `crossdomain`. Files are streamed from disk in 64 KiB
//! reads; one `Range` (`bytes=a-b`, `a-`, `-n`) is answered with 206, an unsatisfiable one with
//! 416, and several ranges with the whole file (200), which RFC 9110 allows. Paths are
//! percent-decoded and must stay under `dir` (`..`, encoded dots, backslashes and NULs are refused). For LL-HLS playlists that
//! an `HlsOut` registered, `_HLS_msn`/`_HLS_part` hold the request until that part exists (at
//! most three target durations), and a preload-hinted part is awaited likewise.
//! Other routes on the same address go first: this one answers everything under its mount.
//! With `vhost` (SRS's vhost `http_static`) the node answers only requests whose Host names that
//! vhost, and nodes without one leave those requests to it. A live playlist of an `HlsOut` with
//! `hls_ctx` is served through SRS's HLS play sessions (`nodes::hls_sessions`).
//!
//! ```dhall
//! srs.node "http_server" (srs.Node.HttpStatic srs.HttpStatic::{ listen = "8080", dir = "./objs/nginx/html" })
//! srs.node "a.com/http_static" (srs.Node.HttpStatic srs.HttpStatic::{ listen = "8080", dir = "./a", vhost = Some "a.com" })
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::hls_sessions::{self, HlsSessions, Player, SessionError};
use super::live_playlists::{LivePlaylist, LivePlaylists};
use crate::codec::percent;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{listens_on, Listen, Ports, Transport};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::Engine;
use crate::nodes::{NodeKind, NodeSpec};
use crate::servers::http::{self, Batch, Body, HttpRoute, ResponseFuture};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// HTTP listen address: `8080` or `ip:port`.
    pub listen: String,
    /// The directory served.
    pub dir: String,
    /// URL prefix the directory appears under (`/` for the root).
    pub mount: String,
    /// Answer with CORS headers (SRS `http_server.crossdomain`).
    pub crossdomain: bool,
    /// Serve HTTPS on `listen` with these PEM files (every node on the address must agree).
    pub tls: Option<crate::graph::TlsFiles>,
    /// SRS's vhost `http_static`: serve only requests whose `Host` names this vhost (other
    /// hosts go to the address's nodes without one). `__defaultVhost__` serves every host, as
    /// in SRS. A leading `[vhost]` in `mount` (SRS's spelling) stands for this host.
    pub vhost: Option<String>,
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        let vhost_prefixed = self.mount.starts_with(VHOST_PREFIX);
        if !(self.url_mount().starts_with('/') || self.url_mount().is_empty() && vhost_prefixed) {
            return Err(format!("field `mount` `{}` must start with `/` or `[vhost]/`", self.mount));
        }
        if vhost_prefixed && self.vhost.is_none() {
            return Err(format!("field `mount` `{}` names [vhost]: set field `vhost`", self.mount));
        }
        if self.vhost.as_deref().is_some_and(|v| v.is_empty() || v.contains(['/', ':', ' '])) {
            return Err(format!("field `vhost` {:?} is not a host name", self.vhost));
        }
        Ok(())
    }

    /// The only host this node serves: its vhost, unless that is the default vhost.
    pub fn routed_host(&self) -> Option<&str> {
        self.vhost.as_deref().filter(|vhost| *vhost != DEFAULT_VHOST)
    }

    /// The URL prefix: `mount` without a leading `[vhost]`.
    pub fn url_mount(&self) -> &str {
        self.mount.strip_prefix(VHOST_PREFIX).unwrap_or(&self.mount)
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Service
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "http", None, self.tls.clone())
    }

    /// The HLS playlists and DASH MPDs other nodes write below `dir`.
    fn served_urls(&self, listens: &[Listen], graph: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        if self.vhost.is_some() {
            return Vec::new();
        }
        let prefix = self.url_mount().trim_end_matches('/');
        let mut urls = Vec::new();
        for node in &graph.nodes {
            let (root, template, action) = match &node.node {
                super::NodeSpec::HlsOut(hls) => (&hls.hls_path, &hls.hls_m3u8_file, "play HLS"),
                super::NodeSpec::DashOut(dash) => (&dash.dash_path, &dash.dash_mpd_file, "play DASH"),
                _ => continue,
            };
            if let Some(path) = super::urls::below(&self.dir, root, template) {
                urls.extend(super::urls::on_listens(listens, action, "http", &format!("{prefix}{path}")));
            }
        }
        urls
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        let mut summary = vec![("listen", self.listen.clone()), ("dir", self.dir.clone())];
        summary.extend(self.vhost.clone().map(|vhost| ("vhost", vhost)));
        summary
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            let claimed = match self.routed_host() {
                Some(_) => Vec::new(),
                None => claimed_hosts(node.engine, listen.addr),
            };
            let route = Route { engine: node.engine.clone(), config: self.clone(), claimed };
            plan.http_fallback_route(listen.addr, Arc::new(route));
        }
        Ok(())
    }
}

/// The (host, mount) pairs that `HttpStatic` nodes with a `vhost` serve on `addr`: a node
/// without one leaves those requests to them, whatever the order of the routes.
fn claimed_hosts(engine: &Engine, addr: SocketAddr) -> Vec<(String, String)> {
    let graph = engine.graph();
    graph
        .dag
        .node_indices()
        .filter_map(|n| match &graph.node(n).node {
            NodeSpec::HttpStatic(other) => Some(other),
            _ => None,
        })
        .filter(|other| other.listens().is_ok_and(|listens| listens.iter().any(|l| l.addr == addr)))
        .filter_map(|other| Some((other.routed_host()?.to_ascii_lowercase(), other.url_mount().to_owned())))
        .collect()
}

/// The host a request names (its `Host` header without the port), lowercase.
pub fn request_host<B>(request: &Request<B>) -> String {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let name = match host.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        Some(rest) => rest.split_once(']').map_or(host, |(address, _)| address),
        None => host.split_once(':').map_or(host, |(name, _)| name),
    };
    name.to_ascii_lowercase()
}

/// The part of `path` below `mount`, if `path` is under it.
fn under_mount<'a>(path: &'a str, mount: &str) -> Option<&'a str> {
    path.strip_prefix(mount.trim_end_matches('/')).filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// SRS's host-routed mount prefix.
const VHOST_PREFIX: &str = "[vhost]";

/// Longest a blocked LL-HLS request waits when the playlist states no target duration yet.
const DEFAULT_BLOCK: Duration = Duration::from_secs(6);

/// The file path under `dir` that a URL path (after the mount) names, or `None` if it would leave
/// `dir` or is not a clean path.
pub fn safe_relative(url_path: &str) -> Option<PathBuf> {
    let decoded = percent::decode_strict(url_path)?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut relative = PathBuf::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." {
            return None;
        }
        relative.push(segment);
    }
    Some(relative)
}

/// Content type and cache policy by extension.
pub fn content_type(path: &Path) -> (&'static str, &'static str) {
    const MANIFEST: &str = "no-cache";
    const SEGMENT: &str = "public, max-age=86400";
    // A live segment's name is never reused (sequence numbers continue across republishes), so
    // a cache in front (nginx's proxy_cache, a CDN) may keep it without revalidating.
    const MEDIA_SEGMENT: &str = "public, max-age=86400, immutable";
    const OTHER: &str = "public, max-age=60";
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "m3u8" => ("application/vnd.apple.mpegurl", MANIFEST),
        "mpd" => ("application/dash+xml", MANIFEST),
        "ts" => ("video/mp2t", MEDIA_SEGMENT),
        "m4s" => ("video/iso.segment", MEDIA_SEGMENT),
        "mp4" => ("video/mp4", SEGMENT),
        "m4a" => ("audio/mp4", SEGMENT),
        "aac" => ("audio/aac", SEGMENT),
        "mp3" => ("audio/mpeg", SEGMENT),
        "flv" => ("video/x-flv", SEGMENT),
        "key" => ("application/octet-stream", SEGMENT),
        "html" | "htm" => ("text/html; charset=utf-8", OTHER),
        "js" | "mjs" => ("text/javascript; charset=utf-8", OTHER),
        "css" => ("text/css; charset=utf-8", OTHER),
        "json" => ("application/json", OTHER),
        "txt" => ("text/plain; charset=utf-8", OTHER),
        "ico" => ("image/x-icon", OTHER),
        "png" => ("image/png", OTHER),
        "jpg" | "jpeg" => ("image/jpeg", OTHER),
        "svg" => ("image/svg+xml", OTHER),
        _ => ("application/octet-stream", OTHER),
    }
}

/// `_HLS_msn` and `_HLS_part` from a query string.
fn blocking_request(query: &str) -> Option<(u64, Option<u32>)> {
    let mut msn = None;
    let mut part = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("_HLS_msn", value)) => msn = value.parse().ok(),
            Some(("_HLS_part", value)) => part = value.parse().ok(),
            _ => {}
        }
    }
    msn.map(|msn| (msn, part))
}

/// The HTTP side of one `HttpStatic` node.
#[derive(Debug)]
pub struct Route {
    engine: Engine,
    config: Config,
    /// For a node without `vhost`: the hosts (and mounts) other nodes on the address serve.
    claimed: Vec<(String, String)>,
}

impl HttpRoute for Route {
    fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>> {
        let method = request.method().clone();
        if ![Method::GET, Method::HEAD, Method::OPTIONS].contains(&method) {
            return Err(request);
        }
        let host = request_host(&request);
        let Some(rest) = under_mount(request.uri().path(), self.config.url_mount()) else {
            return Err(request);
        };
        let ours = match self.config.routed_host() {
            Some(vhost) => vhost.eq_ignore_ascii_case(&host),
            None => !self.claimed.iter().any(|(claimed, mount)| {
                *claimed == host && under_mount(request.uri().path(), mount).is_some()
            }),
        };
        if !ours {
            return Err(request);
        }
        let crossdomain = self.config.crossdomain;
        let finish = move |mut response: Response<Body>| {
            if crossdomain {
                http::add_cors(&mut response);
            }
            response
        };
        if method == Method::OPTIONS {
            return Ok(Box::pin(async move { finish(http::text_response(StatusCode::OK, "")) }));
        }
        let Some(relative) = safe_relative(rest) else {
            tracing::warn!(%peer, path = request.uri().path(), "refused a path leaving the served directory");
            return Ok(Box::pin(
                async move { finish(http::text_response(StatusCode::FORBIDDEN, "forbidden\n")) },
            ));
        };
        let file = Path::new(&self.config.dir).join(relative);
        let blocking = request.uri().query().and_then(blocking_request);
        let playlists = self.engine.shared::<LivePlaylists>();
        let head = method == Method::HEAD;
        let header_text =
            |name| request.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
        let range = header_text(header::RANGE);
        let path = request.uri().path().to_owned();
        let query = request.uri().query().map(str::to_owned);
        let player = Player {
            peer,
            host: header_text(header::HOST).unwrap_or_default(),
            page_url: header_text(header::REFERER).unwrap_or_default(),
            param: query.as_deref().map(|q| format!("?{q}")).unwrap_or_default(),
        };
        let engine = self.engine.clone();
        Ok(Box::pin(async move {
            let sessions = engine.shared::<HlsSessions>();
            let playlist = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("m3u8"));
            let ctx = query.as_deref().and_then(hls_sessions::ctx_of);
            let session = ctx.and_then(|ctx| Some((ctx, sessions.get(ctx)?)));
            if session.is_none() && playlist && !head {
                // A player of a live stream's playlist without a session (or with one that
                // ended): admitted, then sent to its own URL.
                if let Some(live) = hls_sessions::live_stream(&engine, &file).filter(|l| l.config.hls_ctx) {
                    return finish(match sessions.open(&engine, &live, player).await {
                        Ok(ctx) => redirect(&hls_sessions::redirect_target(&path, query.as_deref(), &ctx)),
                        Err(e @ SessionError::TooMany) => {
                            tracing::warn!(%peer, stream = %live.key, "hls play refused: {e}");
                            http::text_response(StatusCode::SERVICE_UNAVAILABLE, "too many hls sessions\n")
                        }
                        Err(e) => {
                            tracing::warn!(%peer, stream = %live.key, "hls play refused: {e}");
                            http::text_response(StatusCode::FORBIDDEN, "play denied\n")
                        }
                    });
                }
            }
            let rewrite = session.as_ref().and_then(|(ctx, s)| (playlist && s.ts_ctx).then_some(*ctx));
            let response = serve_file(&playlists, file, blocking, range.as_deref(), head, rewrite).await;
            if let Some((_, session)) = &session {
                let length = response.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
                session.touch(length.and_then(|l| l.parse().ok()).unwrap_or(0));
            }
            finish(response)
        }))
    }
}

/// A `302 Found` to `location`.
fn redirect(location: &str) -> Response<Body> {
    let mut response = http::text_response(StatusCode::FOUND, "");
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, header_value(location.to_owned()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Largest playlist rewritten with a session's ctx (a live playlist is a few kB).
const MAX_REWRITTEN: u64 = 1 << 20;

async fn serve_file(
    playlists: &LivePlaylists,
    mut path: PathBuf,
    blocking: Option<(u64, Option<u32>)>,
    range: Option<&str>,
    head: bool,
    ctx: Option<&str>,
) -> Response<Body> {
    match (blocking, playlists.get(&path)) {
        (Some((msn, part)), Some(live)) => {
            if let Err(status) = wait_for_part(&live, msn, part).await {
                return http::text_response(status, "the requested part is not available\n");
            }
        }
        (None, Some(live)) => wait_for_fresh_part(&live).await,
        _ => {}
    }
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path.push("index.html");
    }
    let mut opened = open(&path).await;
    if opened.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        if let Some(live) = playlists.hinting(&path) {
            // A preload-hinted part: answer once it is written.
            let limit = block_limit(&live.progress().target_duration);
            let hinted = crate::nodes::live_playlists::normalize(&path);
            if live.wait_until(limit, |p| p.hint.as_deref() != Some(hinted.as_path())).await {
                opened = open(&path).await;
            }
        }
    }
    let (mut file, length) = match opened {
        Ok(opened) => opened,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return http::text_response(StatusCode::NOT_FOUND, "not found\n")
        }
        Err(e) => {
            tracing::warn!(file = %path.display(), "cannot read: {e}");
            return http::text_response(StatusCode::FORBIDDEN, "forbidden\n");
        }
    };
    let (mime, cache) = content_type(&path);
    if let Some(ctx) = ctx.filter(|_| length <= MAX_REWRITTEN) {
        // A session's playlist: its segment URIs carry the ctx (read whole: it is small).
        let mut text = String::new();
        if let Err(e) = file.read_to_string(&mut text).await {
            tracing::warn!(file = %path.display(), "cannot read: {e}");
            return http::text_response(StatusCode::FORBIDDEN, "forbidden\n");
        }
        let text = hls_sessions::with_ctx(&text, ctx);
        let n_bytes = text.len() as u64;
        let body = http::full_body(if head { String::new() } else { text });
        return file_response(StatusCode::OK, mime, cache, n_bytes, body);
    }
    let (status, first, n_bytes) = match byte_range(range, length) {
        ByteRange::Whole => (StatusCode::OK, 0, length),
        ByteRange::Part { first, last } => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        ByteRange::Unsatisfiable => {
            let mut response =
                http::text_response(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable\n");
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_RANGE, header_value(format!("bytes */{length}")));
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return response;
        }
    };
    let body = if head {
        http::full_body(Vec::new())
    } else {
        if first > 0 {
            if let Err(e) = file.seek(std::io::SeekFrom::Start(first)).await {
                tracing::warn!(file = %path.display(), "cannot seek: {e}");
                return http::text_response(StatusCode::INTERNAL_SERVER_ERROR, "cannot read\n");
            }
        }
        file_body(file.take(n_bytes), path)
    };
    let mut response = file_response(status, mime, cache, n_bytes, body);
    if status == StatusCode::PARTIAL_CONTENT {
        let last = first + n_bytes - 1;
        let range = header_value(format!("bytes {first}-{last}/{length}"));
        response.headers_mut().insert(header::CONTENT_RANGE, range);
    }
    response
}

/// A file's answer: its type, cache policy, length, and that ranges are accepted.
fn file_response(
    status: StatusCode,
    mime: &'static str,
    cache: &'static str,
    n_bytes: u64,
    body: Body,
) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n_bytes));
    response
}

/// Opens a regular file and reads its length.
async fn open(path: &Path) -> std::io::Result<(tokio::fs::File, u64)> {
    let file = tokio::fs::File::open(path).await?;
    let metadata = file.metadata().await?;
    if !metadata.is_file() {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "not a regular file"));
    }
    Ok((file, metadata.len()))
}

fn header_value(text: String) -> HeaderValue {
    // Only digits, spaces, `-`, `*` and `/` are formatted in: always a valid value.
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Bytes read from disk per body frame.
const READ_CHUNK: usize = 64 * 1024;

/// The bytes `file` still allows, read as the body is sent (a file is never held whole in
/// memory). A file that shrinks or fails to read ends the body early; hyper then closes the
/// connection, the body being shorter than its `Content-Length`.
fn file_body(file: tokio::io::Take<tokio::fs::File>, path: PathBuf) -> Body {
    let chunks = futures::stream::unfold((file, path), |(mut file, path)| async move {
        if file.limit() == 0 {
            return None;
        }
        let mut buffer = BytesMut::with_capacity(READ_CHUNK);
        match file.read_buf(&mut buffer).await {
            Ok(0) => {
                tracing::warn!(file = %path.display(), "the file shrank while being served");
                None
            }
            Ok(_) => Some((Ok::<_, Infallible>(Frame::data(Batch::from(buffer.freeze()))), (file, path))),
            Err(e) => {
                tracing::warn!(file = %path.display(), "read failed while serving: {e}");
                None
            }
        }
    });
    StreamBody::new(chunks).boxed_unsync()
}

/// What a `Range` header asks of a file of some length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No range, or one answered with the whole file: several ranges, another unit, or a header
    /// that does not parse (RFC 9110 lets a server ignore those).
    Whole,
    /// The bytes `first..=last`, both within the file.
    Part { first: u64, last: u64 },
    /// No byte of the range is in the file: 416.
    Unsatisfiable,
}

/// Reads a `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against a file of `length` bytes.
pub fn byte_range(header: Option<&str>, length: u64) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return ByteRange::Whole };
    let number = |text: &str| -> Option<Option<u64>> {
        let text = text.trim();
        if text.is_empty() {
            Some(None)
        } else if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok().map(Some)
        } else {
            None
        }
    };
    let (Some(first), Some(last)) = (number(first), number(last)) else { return ByteRange::Whole };
    match (first, last) {
        (None, None) => ByteRange::Whole,
        // The last `n` bytes.
        (None, Some(0)) => ByteRange::Unsatisfiable,
        (None, Some(_)) if length == 0 => ByteRange::Unsatisfiable,
        (None, Some(n)) => ByteRange::Part { first: length.saturating_sub(n), last: length - 1 },
        (Some(first), last) => {
            if last.is_some_and(|last| last < first) {
                return ByteRange::Whole;
            }
            if first >= length {
                return ByteRange::Unsatisfiable;
            }
            ByteRange::Part { first, last: last.map_or(length - 1, |last| last.min(length - 1)) }
        }
    }
}

fn block_limit(target_duration: &Duration) -> Duration {
    if target_duration.is_zero() {
        DEFAULT_BLOCK
    } else {
        *target_duration * 3
    }
}

/// A low-latency playlist asked for without `_HLS_msn` (a player's first load) is answered when
/// its next part completes, at most one part target later. A player places its start
/// PART-HOLD-BACK behind the newest part it sees and stays that far behind: answered at once,
/// the newest part could be up to a part target old, which the player would keep as latency for
/// the whole session; answered fresh, it costs the first load that wait once.
async fn wait_for_fresh_part(live: &Arc<LivePlaylist>) {
    let now = live.progress();
    let limit = now.part_target.min(DEFAULT_BLOCK);
    live.wait_until(limit, |p| p.advanced_since(&now)).await;
}

/// LL-HLS blocking reload: waits until the playlist holds segment `msn` (or its part `part`).
async fn wait_for_part(live: &Arc<LivePlaylist>, msn: u64, part: Option<u32>) -> Result<(), StatusCode> {
    let progress = live.progress();
    // The spec: a request more than two segments ahead of the newest is a client error.
    if progress.newest().is_some_and(|newest| msn > newest + 2) {
        return Err(StatusCode::BAD_REQUEST);
    }
    let limit = block_limit(&progress.target_duration);
    if live.wait_until(limit, |p| p.has(msn, part)).await {
        Ok(())
    } else {
        Err(StatusCode::SERVICE_UNAVAILABLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_directory() {
        assert_eq!(safe_relative("/live/s.m3u8"), Some(PathBuf::from("live/s.m3u8")));
        assert_eq!(safe_relative("//etc/passwd"), Some(PathBuf::from("etc/passwd")));
        assert_eq!(safe_relative("/"), Some(PathBuf::new()));
        assert_eq!(safe_relative("/live/%73.ts"), Some(PathBuf::from("live/s.ts")));
        for hostile in [
            "/../etc/passwd",
            "/live/../../x",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2fetc",
            "/live/..%2f..%2fx",
            "/a\\..\\b",
            "/a%5c..%5cb",
            "/a%00b",
            "/a%zz",
            "/./a",
        ] {
            assert_eq!(safe_relative(hostile), None, "{hostile}");
        }
    }

    #[test]
    fn manifests_are_not_cached_and_segments_are() {
        assert_eq!(content_type(Path::new("a/s.m3u8")), ("application/vnd.apple.mpegurl", "no-cache"));
        assert_eq!(content_type(Path::new("a/s.MPD")).0, "application/dash+xml");
        assert_eq!(content_type(Path::new("s-1.ts")), ("video/mp2t", "public, max-age=86400, immutable"));
        assert_eq!(content_type(Path::new("s-1.m4s")).0, "video/iso.segment");
        assert_eq!(content_type(Path::new("index.html")).0, "text/html; charset=utf-8");
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        use ByteRange::*;
        let r = |header: &str, length| byte_range(Some(header), length);
        assert_eq!(byte_range(None, 10), Whole);
        assert_eq!(r("bytes=0-3", 10), Part { first: 0, last: 3 });
        assert_eq!(r("bytes=4-", 10), Part { first: 4, last: 9 });
        assert_eq!(r("bytes=5-100", 10), Part { first: 5, last: 9 });
        assert_eq!(r("bytes=-3", 10), Part { first: 7, last: 9 });
        assert_eq!(r("bytes=-30", 10), Part { first: 0, last: 9 });
        assert_eq!(r("bytes=9-9", 10), Part { first: 9, last: 9 });
        assert_eq!(r("bytes=10-", 10), Unsatisfiable);
        assert_eq!(r("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(r("bytes=-0", 10), Unsatisfiable);
        assert_eq!(r("bytes=-5", 0), Unsatisfiable);
        assert_eq!(r("bytes=0-", 0), Unsatisfiable);
        for ignored in
            ["bytes=0-1,4-5", "items=0-1", "bytes=5-2", "bytes=a-b", "bytes=-", "bytes=+1-2", "bytes=1"]
        {
            assert_eq!(r(ignored, 10), Whole, "{ignored}");
        }
        assert_eq!(r("bytes=0-18446744073709551616", 10), Whole, "an overflowing number is ignored");
    }

    #[test]
    fn blocking_queries_parse() {
        assert_eq!(blocking_request("_HLS_msn=12&_HLS_part=3"), Some((12, Some(3))));
        assert_eq!(blocking_request("x=1&_HLS_msn=4"), Some((4, None)));
        assert_eq!(blocking_request("_HLS_part=3"), None);
    }
}
