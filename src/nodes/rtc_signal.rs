//! WebRTC signalling over HTTP, SRS's shapes: WHIP (`POST /rtc/v1/whip/?app=&stream=`, SDP offer
//! in, `201` with the answer and a `Location` to DELETE), WHEP (`/rtc/v1/whep/`, `/rtc/v1/whip-play/`
//! or WHIP with `action=play`), and SRS's JSON API (`/rtc/v1/publish/`, `/rtc/v1/play/`:
//! `{sdp, streamurl}` in, `{code, sdp, sessionid, server, service, pid}` out). Each `RtcIn` or
//! `RtcOut` node adds one route on its `api` address, taking its own direction.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, LOCATION};
use hyper::{Method, Request, Response, StatusCode};
use petgraph::graph::NodeIndex;
use serde_json::json;

use super::rtc_shared::RtcSessions;
use super::vhost;
use crate::codec::rtp::sdp::MAX_SDP;
use crate::control::registry::Registry;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::StreamKey;
use crate::nodes::Engine;
use crate::servers::http::{self, Body, HttpRoute, ResponseFuture};
use crate::servers::rtc_peer::Direction;

/// What a signalling request asks, once parsed.
#[derive(Debug, Clone)]
pub struct Offer {
    pub key: StreamKey,
    pub sdp: String,
    /// The query other than the keys signalling uses (SRS's `param`, for hooks).
    pub param: String,
    pub eip: Option<String>,
    pub host: Option<String>,
    pub peer: SocketAddr,
}

/// A refused offer: the status and why.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Refusal {
        Refusal { status, reason: reason.into() }
    }
}

/// An accepted offer.
#[derive(Debug)]
pub struct Answer {
    pub sdp: String,
    pub session: u64,
    pub token: String,
    /// `<our ufrag>:<their ufrag>`, SRS's session id.
    pub session_name: String,
}

type Negotiate =
    Arc<dyn Fn(Offer) -> futures::future::BoxFuture<'static, Result<Answer, Refusal>> + Send + Sync>;

/// The signalling route of one node.
pub struct Route {
    engine: Engine,
    direction: Direction,
    negotiate: Negotiate,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("rtc_signal::Route").field("direction", &self.direction).finish()
    }
}

impl Route {
    pub fn new(engine: Engine, _node: NodeIndex, direction: Direction, negotiate: Negotiate) -> Route {
        Route { engine, direction, negotiate }
    }
}

/// The API's three styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Whip,
    Json,
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Which direction and style a request's path and query ask for, or `None` if not signalling.
fn classify(path: &str, pairs: &[(String, String)]) -> Option<(Direction, Style)> {
    let path = path.trim_end_matches('/');
    match path {
        "/rtc/v1/whip" if get(pairs, "action") == Some("play") => Some((Direction::Play, Style::Whip)),
        "/rtc/v1/whip" => Some((Direction::Publish, Style::Whip)),
        "/rtc/v1/whep" | "/rtc/v1/whip-play" => Some((Direction::Play, Style::Whip)),
        "/rtc/v1/publish" => Some((Direction::Publish, Style::Json)),
        "/rtc/v1/play" => Some((Direction::Play, Style::Json)),
        _ => None,
    }
}

const SIGNAL_KEYS: [&str; 8] = ["app", "stream", "action", "eip", "candidate", "session", "token", "vhost"];

impl HttpRoute for Route {
    fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>> {
        let path = request.uri().path().to_owned();
        if !path.starts_with("/rtc/v1/") {
            return Err(request);
        }
        let pairs = query_pairs(request.uri().query().unwrap_or_default());
        if request.method() == Method::OPTIONS {
            return Ok(Box::pin(async { with_cors(http::text_response(StatusCode::OK, "")) }));
        }
        if request.method() == Method::DELETE {
            let sessions = self.engine.shared::<RtcSessions>();
            let session = get(&pairs, "session").and_then(session_number);
            let Some((id, entry)) = session.and_then(|id| sessions.get(id).map(|e| (id, e))) else {
                return Err(request);
            };
            let token_ok = get(&pairs, "token") == Some(entry.token.as_str());
            return Ok(Box::pin(async move {
                if !token_ok {
                    return with_cors(http::text_response(
                        StatusCode::FORBIDDEN,
                        "token does not match the session\n",
                    ));
                }
                tracing::info!(session = id, %peer, "webrtc session deleted by its client");
                entry.udp.remove(id);
                sessions.remove(id);
                with_cors(http::text_response(StatusCode::OK, ""))
            }));
        }
        if request.method() != Method::POST {
            return Err(request);
        }
        let Some((direction, style)) = classify(&path, &pairs) else { return Err(request) };
        if direction != self.direction {
            return Err(request);
        }
        let host = request.headers().get(HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
        let (engine, negotiate) = (self.engine.clone(), Arc::clone(&self.negotiate));
        Ok(Box::pin(async move {
            let registry = engine.shared::<Registry>();
            let result = async {
                let body = read_body(request.into_body()).await?;
                let offer = parse_offer(&engine, style, &pairs, body, host, peer)?;
                let key = offer.key.clone();
                negotiate(offer).await.map(|answer| (answer, key))
            }
            .await;
            match (style, result) {
                (Style::Whip, Ok((answer, key))) => {
                    let location = format!(
                        "/rtc/v1/whip/?action=delete&token={}&app={}&stream={}&session={}",
                        answer.token, key.app, key.stream, answer.session
                    );
                    let mut response = http::text_response(StatusCode::CREATED, &answer.sdp);
                    let headers = response.headers_mut();
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/sdp"));
                    if let Ok(value) = HeaderValue::from_str(&location) {
                        headers.insert(LOCATION, value);
                    }
                    with_cors(response)
                }
                (Style::Json, Ok((answer, _))) => {
                    let body = crate::control::api::envelope(
                        &registry,
                        0,
                        json!({"sdp": answer.sdp, "sessionid": answer.session_name}),
                    );
                    with_cors(json_response(StatusCode::OK, &body))
                }
                (Style::Whip, Err(refusal)) => {
                    tracing::warn!(%peer, "webrtc offer refused: {}", refusal.reason);
                    with_cors(http::text_response(refusal.status, &format!("{}\n", refusal.reason)))
                }
                (Style::Json, Err(refusal)) => {
                    tracing::warn!(%peer, "webrtc offer refused: {}", refusal.reason);
                    let body = json!({"code": refusal.status.as_u16(), "reason": refusal.reason});
                    with_cors(json_response(refusal.status, &body))
                }
            }
        }))
    }
}

/// A session id as DELETE carries it.
fn session_number(text: &str) -> Option<u64> {
    text.parse().ok()
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let mut response = http::text_response(status, &body.to_string());
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn with_cors(mut response: Response<Body>) -> Response<Body> {
    http::add_cors(&mut response);
    response
}

async fn read_body(mut body: Incoming) -> Result<Vec<u8>, Refusal> {
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("body cut short: {e}")))?;
        if let Ok(chunk) = frame.into_data() {
            if data.len() + chunk.len() > MAX_SDP {
                return Err(Refusal::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("offer over {MAX_SDP} bytes"),
                ));
            }
            data.extend_from_slice(&chunk);
        }
    }
    Ok(data)
}

/// The stream, offer and options of a request.
fn parse_offer(
    engine: &Engine,
    style: Style,
    pairs: &[(String, String)],
    body: Vec<u8>,
    host: Option<String>,
    peer: SocketAddr,
) -> Result<Offer, Refusal> {
    let bad = |why: String| Refusal::new(StatusCode::BAD_REQUEST, why);
    let (vhost_name, app, stream, sdp, mut param) = match style {
        Style::Whip => {
            let sdp = String::from_utf8(body).map_err(|_| bad("the offer is not utf-8 text".into()))?;
            let app = get(pairs, "app").filter(|a| !a.is_empty()).unwrap_or("live").to_owned();
            let stream = get(pairs, "stream").filter(|s| !s.is_empty()).unwrap_or("livestream").to_owned();
            let vhost = host
                .as_deref()
                .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
                .unwrap_or(DEFAULT_VHOST);
            (vhost.to_owned(), app, stream, sdp, String::new())
        }
        Style::Json => {
            let value: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| bad(format!("the body is not json: {e}")))?;
            let sdp = value["sdp"].as_str().ok_or_else(|| bad("the body has no `sdp`".into()))?.to_owned();
            let url = value["streamurl"].as_str().ok_or_else(|| bad("the body has no `streamurl`".into()))?;
            let (vhost, app, stream, param) = parse_stream_url(url)
                .ok_or_else(|| bad(format!("streamurl `{url}` is not webrtc://host/app/stream")))?;
            (vhost, app, stream, sdp, param)
        }
    };
    let extra: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !SIGNAL_KEYS.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if param.is_empty() && !extra.is_empty() {
        param = format!("?{}", extra.join("&"));
    }
    let vhost = vhost::resolve_enabled(engine, &vhost_name)
        .map_err(|why| Refusal::new(StatusCode::NOT_FOUND, why))?;
    let eip = get(pairs, "eip").or_else(|| get(pairs, "candidate")).map(str::to_owned);
    Ok(Offer { key: StreamKey::new(vhost, app, stream), sdp, param, eip, host, peer })
}

/// `webrtc://host[:port]/app/stream[?query]` → (host, app, stream, `?query`).
fn parse_stream_url(url: &str) -> Option<(String, String, String, String)> {
    let rest = url.strip_prefix("webrtc://")?;
    let (rest, query) = rest.split_once('?').map_or((rest, ""), |(r, q)| (r, q));
    let (host, path) = rest.split_once('/')?;
    let (app, stream) = path.rsplit_once('/')?;
    if app.is_empty() || stream.is_empty() {
        return None;
    }
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let param = if query.is_empty() { String::new() } else { format!("?{query}") };
    Some((host.to_owned(), app.to_owned(), stream.to_owned(), param))
}

/// Random text for tokens.
pub fn token() -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_pick_direction_and_style() {
        let play = query_pairs("app=live&stream=s&action=play");
        assert_eq!(classify("/rtc/v1/whip/", &play), Some((Direction::Play, Style::Whip)));
        assert_eq!(classify("/rtc/v1/whip/", &[]), Some((Direction::Publish, Style::Whip)));
        assert_eq!(classify("/rtc/v1/whep/", &[]), Some((Direction::Play, Style::Whip)));
        assert_eq!(classify("/rtc/v1/play/", &[]), Some((Direction::Play, Style::Json)));
        assert_eq!(classify("/rtc/v1/nack/", &[]), None);
    }

    #[test]
    fn stream_urls_and_queries() {
        assert_eq!(
            parse_stream_url("webrtc://127.0.0.1:1985/live/s?token=1"),
            Some(("127.0.0.1".into(), "live".into(), "s".into(), "?token=1".into()))
        );
        assert_eq!(parse_stream_url("rtmp://h/live/s"), None);
        assert_eq!(decode("a%20b+c%zz"), "a b c%zz");
    }
}
