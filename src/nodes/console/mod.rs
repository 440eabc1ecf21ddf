//! `Console`: what a person sees in a browser. The home page (`/`: version, the URLs to publish
//! to and play from, with ffmpeg lines to copy), the console (`/console/`: a single page over the
//! `HttpApi` node's JSON, with the live graph drawn from `/api/v1/graph`) and the players
//! (`/players/`: HTTP-FLV with mpegts.js, HLS with hls.js, DASH with dash.js, WebRTC with WHEP,
//! and a WHIP publisher page).
//!
//! A service node on an HTTP address it shares (usually the `HttpStatic` one, 8080): it answers
//! only `/`, `/console/...` and `/players/...` (SRS's player URLs, `srs_player.html`,
//! `rtc_player.html`, `rtc_publisher.html`, are aliases) and leaves every other path to the
//! address's other routes. Its pages are built into the binary (`assets.rs`); the one generated
//! answer is `/console/config.json`: the version, the graph's URLs and where the API is.
//! Leave the node out of a graph to serve `/` from files instead.
//!
//! ```dhall
//! srs.node "console" (srs.Node.Console srs.Console::{ listen = "8080" })
//! ```

mod assets;

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use serde_json::{json, Value};

use crate::graph::{listens_on, Listen, Ports, Transport};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::{Engine, NodeKind, NodeSpec};
use crate::servers::http::{self, Body, HttpRoute, ResponseFuture};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// HTTP listen address: `8080` or `ip:port` (shared with the other HTTP nodes there).
    pub listen: String,
    /// Where the pages find the API (`http://host:1985`); by default the host the browser used
    /// and the port of the graph's first `HttpApi` node.
    pub api: Option<String>,
    /// Serve HTTPS on `listen` with these PEM files (every node on the address must agree).
    pub tls: Option<crate::graph::TlsFiles>,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Service
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "http", Some("console"), self.tls.clone())
    }

    fn validate(&self) -> Result<(), String> {
        match &self.api {
            Some(api) if !(api.starts_with("http://") || api.starts_with("https://")) => {
                Err(format!("api `{api}` must be an http:// or https:// URL"))
            }
            _ => Ok(()),
        }
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        let mut urls = super::urls::on_listens(listens, "console", "http", "/console/");
        urls.extend(super::urls::on_listens(listens, "players", "http", "/players/"));
        urls
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            let route = Route { engine: node.engine.clone(), api: self.api.clone() };
            plan.http_route(listen.addr, Arc::new(route));
        }
        Ok(())
    }
}

/// The console's routes on its HTTP server.
#[derive(Debug)]
struct Route {
    engine: Engine,
    api: Option<String>,
}

impl HttpRoute for Route {
    fn handle(
        &self,
        request: Request<Incoming>,
        _peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>> {
        let path = request.uri().path();
        let ours = path == "/" || path.starts_with("/console") || path.starts_with("/players");
        if !ours || !(request.method() == Method::GET || request.method() == Method::HEAD) {
            return Err(request);
        }
        let response = if path == "/console/config.json" {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
            json_response(&config_json(&self.engine.current(), self.api.as_deref(), host))
        } else {
            asset_response(path)
        };
        Ok(Box::pin(async move { response }))
    }
}

fn asset_response(path: &str) -> Response<Body> {
    // `/console` and `/players` without the slash: relative links in the page need it.
    if path == "/console" || path == "/players" {
        return redirect(&format!("{path}/"));
    }
    let Some(asset) = assets::find(path) else {
        return http::text_response(StatusCode::NOT_FOUND, "not found\n");
    };
    let mut response = Response::new(http::full_body(asset.bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    // Pages are small and change with the binary: revalidate; vendored players are pinned.
    let cache = if asset.vendored { "public, max-age=86400" } else { "no-cache" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = http::text_response(StatusCode::MOVED_PERMANENTLY, "");
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn json_response(value: &Value) -> Response<Body> {
    let mut response = Response::new(http::full_body(value.to_string()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// What the pages need to know about this server: its version, the URLs its graph serves
/// (with the host the browser used in place of the loopback address), and the API's base URL.
fn config_json(engine: &Engine, api: Option<&str>, host_header: &str) -> Value {
    let file = &engine.graph().file;
    let host = browser_host(host_header);
    let urls: Vec<Value> = super::urls::graph_urls(file)
        .into_iter()
        .map(|(node, url)| {
            let text = match &host {
                Some(host) => swap_loopback(&url.url, host),
                None => url.url,
            };
            json!({"node": node, "action": url.action, "url": text})
        })
        .collect();
    let api = api.map(str::to_owned).or_else(|| api_base(file, host.as_deref().unwrap_or("127.0.0.1")));
    json!({
        "server": "srs",
        "version": env!("CARGO_PKG_VERSION"),
        "api": api,
        "urls": urls,
    })
}

/// The host part of a `Host` header (`a.com:8080` → `a.com`, `[::1]:8080` → `[::1]`), if it is
/// a plausible host name; `None` for an empty or odd one, so nothing a client sends is echoed.
fn browser_host(header: &str) -> Option<String> {
    let host = if header.starts_with('[') {
        header.split_inclusive(']').next().unwrap_or("")
    } else {
        header.split(':').next().unwrap_or("")
    };
    let plausible = !host.is_empty()
        && host.len() <= 253
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b));
    plausible.then(|| host.to_owned())
}

/// A served URL with its loopback authority host replaced by the host the browser used.
fn swap_loopback(url: &str, host: &str) -> String {
    for loopback in ["127.0.0.1", "[::1]"] {
        if let Some((scheme, rest)) = url.split_once("://") {
            if let Some(after) = rest.strip_prefix(loopback) {
                return format!("{scheme}://{host}{after}");
            }
        }
    }
    url.to_owned()
}

/// `http(s)://host:port` of the graph's first `HttpApi` node.
fn api_base(file: &super::GraphFile, host: &str) -> Option<String> {
    file.nodes.iter().find_map(|named| match &named.node {
        NodeSpec::HttpApi(api) => {
            let listen = api.listens().ok()?.into_iter().next()?;
            let scheme = if listen.tls.is_some() { "https" } else { "http" };
            Some(format!("{scheme}://{host}:{}", listen.addr.port()))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_host_takes_the_name_and_refuses_odd_ones() {
        assert_eq!(browser_host("a.com:8080").as_deref(), Some("a.com"));
        assert_eq!(browser_host("[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(browser_host("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(browser_host(""), None);
        assert_eq!(browser_host("<script>"), None);
        assert_eq!(browser_host("a\"b"), None);
    }

    #[test]
    fn loopback_urls_take_the_browser_host() {
        assert_eq!(swap_loopback("rtmp://127.0.0.1:1935/live/x", "a.com"), "rtmp://a.com:1935/live/x");
        assert_eq!(swap_loopback("http://[::1]:8080/x.flv", "b"), "http://b:8080/x.flv");
        assert_eq!(swap_loopback("http://10.0.0.1:8080/x.flv", "b"), "http://10.0.0.1:8080/x.flv");
    }
}
