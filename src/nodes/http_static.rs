//! `HttpStatic`: SRS's `http_server.dir` / vhost `http_static`: files under `dir` served over HTTP
//! on the shared server at `listen`, below the URL prefix `mount`. This is how HLS (and DASH)
//! output reaches players.
//!
//! GET, HEAD and OPTIONS; MIME types by extension; `Cache-Control: no-cache` for manifests and a
//! long max-age for segments; CORS when `crossdomain`. Paths are percent-decoded and must stay
//! under `dir` (`..`, encoded dots, backslashes and NULs are refused). For LL-HLS playlists that
//! an `HlsOut` registered, `_HLS_msn`/`_HLS_part` hold the request until that part exists (at
//! most three target durations), and a preload-hinted part is awaited likewise.
//! Other routes on the same address go first: this one answers everything under its mount.
//!
//! ```dhall
//! srs.node "http_server" (srs.Node.HttpStatic srs.HttpStatic::{ listen = "8080", dir = "./objs/nginx/html" })
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use super::live_playlists::{LivePlaylist, LivePlaylists};
use crate::graph::{listens_on, Listen, Ports, Transport};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::Engine;
use crate::nodes::NodeKind;
use crate::servers::http::{self, Body, HttpRoute, ResponseFuture};

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
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        if !self.mount.starts_with('/') {
            return Err(format!("field `mount` `{}` must start with `/`", self.mount));
        }
        Ok(())
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Service
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "http", None, self.tls.clone())
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone()), ("dir", self.dir.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            plan.http_fallback_route(listen.addr, Arc::new(Route::new(node.engine.clone(), self.clone())));
        }
        Ok(())
    }
}

/// Longest a blocked LL-HLS request waits when the playlist states no target duration yet.
const DEFAULT_BLOCK: Duration = Duration::from_secs(6);

/// The file path under `dir` that a URL path (after the mount) names, or `None` if it would leave
/// `dir` or is not a clean path.
pub fn safe_relative(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
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

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Content type and cache policy by extension.
pub fn content_type(path: &Path) -> (&'static str, &'static str) {
    const MANIFEST: &str = "no-cache";
    const SEGMENT: &str = "public, max-age=86400";
    const OTHER: &str = "public, max-age=60";
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    match extension.as_str() {
        "m3u8" => ("application/vnd.apple.mpegurl", MANIFEST),
        "mpd" => ("application/dash+xml", MANIFEST),
        "ts" => ("video/mp2t", SEGMENT),
        "m4s" => ("video/iso.segment", SEGMENT),
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
}

impl Route {
    pub fn new(engine: Engine, config: Config) -> Route {
        Route { engine, config }
    }
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
        let mount = self.config.mount.trim_end_matches('/');
        let Some(rest) =
            request.uri().path().strip_prefix(mount).filter(|r| r.is_empty() || r.starts_with('/'))
        else {
            return Err(request);
        };
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
        Ok(Box::pin(async move { finish(serve_file(&playlists, file, blocking, head).await) }))
    }
}

async fn serve_file(
    playlists: &LivePlaylists,
    mut file: PathBuf,
    blocking: Option<(u64, Option<u32>)>,
    head: bool,
) -> Response<Body> {
    if let (Some((msn, part)), Some(live)) = (blocking, playlists.get(&file)) {
        if let Err(status) = wait_for_part(&live, msn, part).await {
            return http::text_response(status, "the requested part is not available\n");
        }
    }
    if tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_dir()) {
        file.push("index.html");
    }
    let mut bytes = tokio::fs::read(&file).await;
    if bytes.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        if let Some(live) = playlists.hinting(&file) {
            // A preload-hinted part: answer once it is written.
            let limit = block_limit(&live.progress().target_duration);
            let hinted = file.clone();
            if live
                .wait_until(limit, |p| {
                    p.hint.as_deref() != Some(crate::nodes::live_playlists::normalize(&hinted).as_path())
                })
                .await
            {
                bytes = tokio::fs::read(&file).await;
            }
        }
    }
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return http::text_response(StatusCode::NOT_FOUND, "not found\n")
        }
        Err(e) => {
            tracing::warn!(file = %file.display(), "cannot read: {e}");
            return http::text_response(StatusCode::FORBIDDEN, "forbidden\n");
        }
    };
    let (mime, cache) = content_type(&file);
    let length = bytes.len();
    let mut response = Response::new(http::full_body(if head { Vec::new() } else { bytes }));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn block_limit(target_duration: &Duration) -> Duration {
    if target_duration.is_zero() {
        DEFAULT_BLOCK
    } else {
        *target_duration * 3
    }
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
        assert_eq!(content_type(Path::new("s-1.ts")), ("video/mp2t", "public, max-age=86400"));
        assert_eq!(content_type(Path::new("s-1.m4s")).0, "video/iso.segment");
        assert_eq!(content_type(Path::new("index.html")).0, "text/html; charset=utf-8");
    }

    #[test]
    fn blocking_queries_parse() {
        assert_eq!(blocking_request("_HLS_msn=12&_HLS_part=3"), Some((12, Some(3))));
        assert_eq!(blocking_request("x=1&_HLS_msn=4"), Some((4, None)));
        assert_eq!(blocking_request("_HLS_part=3"), None);
    }
}
