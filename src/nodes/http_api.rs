//! `HttpApi`: SRS's HTTP API (`/api/v1/versions|summaries|vhosts|streams|clients|raw`), plus
//! `/api/v1/graph` (the running graph with its counters) and `/metrics` (Prometheus).
//!
//! A service node: no media ports, no edges; it serves routes on the shared HTTP server of its
//! address (SRS's `reuse_api_over_server` when it equals an `HttpRemux` listen). SRS's envelope,
//! error codes, JSONP (`callback=`), CORS, paging and Basic auth; optionally a bearer token.
//! The JSON itself is built in `control::api`.
//!
//! ```dhall
//! srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "1985" })
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use serde_json::{json, Value};

use crate::control::api::{self, codes, Snapshot};
use crate::control::process_table::ProcessTable;
use crate::control::registry::Registry;
use crate::control::{metrics, reload};
use crate::graph::{listens_on, Listen, Ports, Transport};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::Engine;
use crate::nodes::NodeKind;
use crate::servers::http::{self, Body, HttpRoute, ResponseFuture};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// HTTP listen address: `1985` or `ip:port` (the same as an `HttpRemux` shares its server).
    pub listen: String,
    /// Answer with CORS headers and OPTIONS 200 (SRS `crossdomain`).
    pub crossdomain: bool,
    /// Serve HTTPS on `listen` with these PEM files (every node on the address must agree).
    pub tls: Option<crate::graph::TlsFiles>,
    /// HTTP Basic auth for `/api/` paths (SRS `auth`).
    pub auth: ApiAuth,
    /// Also accept `Authorization: Bearer <token>` (beyond SRS).
    pub bearer_token: Option<String>,
    /// SRS `raw_api`: `/api/v1/raw?rpc=reload`.
    pub raw_api: RawApi,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct ApiAuth {
    pub enabled: bool,
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct RawApi {
    pub enabled: bool,
    pub allow_reload: bool,
}

/// Largest request body taken (the API reads none; bigger requests get 413).
const MAX_BODY: u64 = 64 * 1024;

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Service
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "http", Some("http api"), self.tls.clone())
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        super::urls::on_listens(listens, "api", "http", "/api/v1/versions")
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            plan.http_route(listen.addr, Arc::new(Route::new(node.engine.clone(), self.clone())));
        }
        // The 30 s rates the API reports need counters sampled while it runs.
        plan.source(&format!("{}/kbps", node.name), Box::pin(api::sample_rates(node.engine.clone())));
        Ok(())
    }
}

/// The API's routes on its HTTP server.
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
        _peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>> {
        let path = request.uri().path();
        if !(path == "/api" || path.starts_with("/api/") || path == "/metrics") {
            return Err(request);
        }
        let engine = self.engine.current();
        let config = self.config.clone();
        Ok(Box::pin(async move {
            let mut response = answer(&engine, &config, &request).await;
            if config.crossdomain {
                http::add_cors(&mut response);
                // `*` does not cover `Authorization` (Fetch standard): name it, so pages on
                // another origin (the console) can send the credentials the API asks for.
                response
                    .headers_mut()
                    .insert("access-control-allow-headers", HeaderValue::from_static("*, Authorization"));
            }
            response
        }))
    }
}

async fn answer(engine: &Engine, config: &Config, request: &Request<Incoming>) -> Response<Body> {
    let method = request.method().clone();
    if method == Method::OPTIONS {
        let status = if config.crossdomain { StatusCode::OK } else { StatusCode::METHOD_NOT_ALLOWED };
        return http::text_response(status, "");
    }
    let declared = request.headers().get(hyper::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    match declared.map(str::parse::<u64>) {
        Some(Ok(length)) if length > MAX_BODY => {
            return http::text_response(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n")
        }
        Some(Err(_)) => return http::text_response(StatusCode::BAD_REQUEST, "bad content-length\n"),
        _ => {}
    }
    if request.headers().contains_key(hyper::header::TRANSFER_ENCODING) {
        return http::text_response(StatusCode::PAYLOAD_TOO_LARGE, "the API takes no request body\n");
    }
    let path = request.uri().path().trim_end_matches('/').to_owned();
    if path.contains("/api") && !authorized(config, request) {
        let mut response = http::text_response(StatusCode::UNAUTHORIZED, "unauthorized\n");
        response
            .headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"srs\""));
        return response;
    }
    let query = Query::parse(request.uri().query().unwrap_or_default());
    if method != Method::GET && !(method == Method::DELETE && path.starts_with("/api/v1/clients/")) {
        return http::text_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if path == "/metrics" {
        let mut response = http::text_response(StatusCode::OK, &metrics::render(engine));
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
        return response;
    }
    let registry = engine.shared::<Registry>();
    let reply = match route(engine, config, &registry, &method, &path, &query).await {
        Some(reply) => reply,
        None => return http::text_response(StatusCode::NOT_FOUND, "not found\n"),
    };
    json_response(reply, query.get("callback"))
}

/// The JSON answer for an API path, `None` when no endpoint has that path.
async fn route(
    engine: &Engine,
    config: &Config,
    registry: &Registry,
    method: &Method,
    path: &str,
    query: &Query,
) -> Option<Value> {
    let ok = |payload: Value| api::envelope(registry, 0, payload);
    let error = |code: i64| json!({ "code": code });
    let (collection, id) = match path.strip_prefix("/api/v1/") {
        Some(rest) => rest.split_once('/').map_or((rest, None), |(c, id)| (c, Some(id))),
        None if path == "/api" => return Some(ok(json!({"urls": {"v1": "the api version 1.0"}}))),
        None if path == "/api/v1" => return Some(ok(json!({"urls": urls()}))),
        None => return None,
    };
    let reply = match (collection, id) {
        ("versions", None) => {
            let mut parts = env!("CARGO_PKG_VERSION").split('.').map(|p| p.parse::<u64>().unwrap_or(0));
            let (major, minor, revision) = (parts.next(), parts.next(), parts.next());
            ok(
                json!({"data": {"major": major, "minor": minor, "revision": revision, "version": env!("CARGO_PKG_VERSION")}}),
            )
        }
        ("summaries", None) => ok(api::summaries(engine, registry)),
        ("graph", None) => ok(api::graph(engine)),
        ("vhosts", None) => ok(json!({"vhosts": Snapshot::take(engine).vhosts(engine)})),
        ("vhosts", Some(id)) => match Snapshot::take(engine).vhost_by_id(engine, id) {
            Some(vhost) => ok(json!({ "vhost": vhost })),
            None => error(codes::VHOST_NOT_FOUND),
        },
        ("streams", None) => {
            let snapshot = Snapshot::take(engine);
            let page =
                api::page(snapshot.streams.iter().collect(), query.number("start"), query.number("count"));
            let streams: Vec<Value> = page.into_iter().map(|(id, key)| snapshot.stream(*id, key)).collect();
            ok(json!({ "streams": streams }))
        }
        ("streams", Some(id)) => {
            let snapshot = Snapshot::take(engine);
            let wanted = parse_id(id);
            match snapshot.streams.iter().find(|(sid, _)| Some(*sid) == wanted) {
                Some((sid, key)) => ok(json!({"stream": snapshot.stream(*sid, key)})),
                None => error(codes::STREAM_NOT_FOUND),
            }
        }
        ("clients", None) => {
            let snapshot = Snapshot::take(engine);
            let page =
                api::page(snapshot.clients.iter().collect(), query.number("start"), query.number("count"));
            let clients: Vec<Value> = page.into_iter().map(|(c, info)| snapshot.client(c, info)).collect();
            ok(json!({ "clients": clients }))
        }
        ("clients", Some(id)) => match parse_id(id).and_then(|id| registry.client(id)) {
            None => error(codes::CLIENT_NOT_FOUND),
            Some(client) if *method == Method::DELETE => {
                tracing::info!(conn = client.id, "client kicked through the api");
                client.kick();
                ok(json!({}))
            }
            Some(client) => ok(json!({"client": Snapshot::take(engine).client(&client, &client.info())})),
        },
        ("raw", None) => raw(engine, config, registry, query).await,
        ("processes", None) => ok(engine.shared::<ProcessTable>().to_json()),
        ("clusters", None) => {
            let get = |name: &str| query.get(name).unwrap_or_default().to_owned();
            ok(json!({"data": super::origin_coworkers::clusters(engine, &get, &config.listen)}))
        }
        _ => return None,
    };
    Some(reply)
}

async fn raw(engine: &Engine, config: &Config, registry: &Registry, query: &Query) -> Value {
    let raw = &config.raw_api;
    match query.get("rpc").unwrap_or_default() {
        "raw" => api::envelope(
            registry,
            0,
            json!({"data": {"enabled": raw.enabled, "allow_reload": raw.allow_reload, "allow_query": false, "allow_update": false}}),
        ),
        _ if !raw.enabled => json!({"code": codes::RAW_DISABLED}),
        "reload" if !raw.allow_reload => json!({"code": codes::RAW_NOT_ALLOWED}),
        "reload" => match reload::reload(engine).await {
            Ok(summary) => api::envelope(registry, 0, json!({"msg": summary})),
            Err(why) => json!({"code": codes::RELOAD_FAILED, "msg": why}),
        },
        "reload-fetch" => {
            let last = engine.shared::<reload::ReloadState<crate::nodes::NodeSpec>>().last();
            api::envelope(registry, 0, json!({"data": last.to_json()}))
        }
        _ => json!({"code": codes::RAW_PARAMS}),
    }
}

fn urls() -> Value {
    json!({
        "versions": "the version of SRS",
        "summaries": "the summary(pid, argv, pwd, cpu, mem) of SRS",
        "vhosts": "manage all vhosts or specified vhost",
        "streams": "manage all streams or specified stream",
        "clients": "manage all clients or specified client, default query top 10 clients",
        "raw": "raw api for srs, support CUID srs for instance the config",
        "graph": "the running graph with per-node and per-edge counters",
        "processes": "the supervised child processes (ingest, transcode, exec) with their command lines",
        "clusters": "origin cluster server API",
    })
}

/// Ids as the API prints them: `vid-12` for streams, `12` for clients; both parse.
fn parse_id(text: &str) -> Option<u64> {
    text.strip_prefix("vid-").unwrap_or(text).parse().ok()
}

fn json_response(value: Value, callback: Option<&str>) -> Response<Body> {
    let text = value.to_string();
    let (body, content_type) = match callback {
        Some(name) if is_callback_name(name) => (format!("{name}({text})"), "text/javascript"),
        Some(_) => return http::text_response(StatusCode::BAD_REQUEST, "bad callback name\n"),
        None => (text, "application/json"),
    };
    let mut response = Response::new(http::full_body(body));
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn is_callback_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$')
}

fn authorized(config: &Config, request: &Request<Incoming>) -> bool {
    let needs_basic = config.auth.enabled;
    if !needs_basic && config.bearer_token.is_none() {
        return true;
    }
    let Some(header) = request.headers().get(hyper::header::AUTHORIZATION).and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    if let (Some(token), Some(given)) = (&config.bearer_token, header.strip_prefix("Bearer ")) {
        return given.trim() == token;
    }
    if let Some(given) = header.strip_prefix("Basic ") {
        let expected = base64(format!("{}:{}", config.auth.username, config.auth.password).as_bytes());
        return needs_basic && given.trim() == expected;
    }
    false
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let bytes = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A query string's `name=value` pairs (values used here need no percent-decoding).
#[derive(Debug, Default)]
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(text: &str) -> Query {
        Query(
            text.split('&')
                .filter(|p| !p.is_empty())
                .take(64)
                .map(|pair| pair.split_once('=').map_or((pair, ""), |(k, v)| (k, v)))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn number(&self, name: &str) -> Option<usize> {
        self.get(name).and_then(|v| v.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"admin:admin"), "YWRtaW46YWRtaW4=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn queries_and_ids_parse() {
        let query = Query::parse("start=5&count=2&callback=cb");
        assert_eq!(
            (query.number("start"), query.number("count"), query.get("callback")),
            (Some(5), Some(2), Some("cb"))
        );
        assert_eq!(parse_id("vid-12"), Some(12));
        assert_eq!(parse_id("7"), Some(7));
        assert_eq!(parse_id("x"), None);
        assert!(!is_callback_name("alert(1)//"));
    }
}
