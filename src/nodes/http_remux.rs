//! `HttpRemux`: SRS's `http_remux`: live HTTP-FLV, HTTP-TS, HTTP-AAC or HTTP-MP3 by mount extension.
//!
//! `.flv` accepts everything FLV carries; `.ts` video {H264, H265} and audio {AAC, MP3}; `.aac`
//! audio {AAC}; `.mp3` audio {MP3}. Each frame is serialized once per stream and shared by every
//! player; players start with the gop cache. Several `HttpRemux` nodes share one HTTP server per address.
//!
//! ```dhall
//! srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" })
//! ```

use std::net::SocketAddr;

use bytes::Bytes;
use futures::future::BoxFuture;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::remux_serializer::RemuxSerializer;
use super::serve::{self, HubBody, PlayerLease};
use super::vhost;
use crate::codec::flv::FlvHeader;
use crate::control::admission;
use crate::control::hooks::HookEvent;
use crate::control::registry::{ClientGuard, ClientKind, Registry};
use crate::control::security::RuleMethod;
use crate::graph::engine::Outputs;
use crate::graph::hub::Tracks;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{listens_on, Caps, Listen, Ports, StreamKey, Transport};
use crate::media::{Codec, MediaEvent};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;
use crate::nodes::{Engine, StreamCtx};
use crate::servers::http::{self, HttpRoute, RawFuture, ResponseFuture};
use crate::servers::tcp::write_all_vectored;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// HTTP listen address: `8080` or `ip:port`.
    pub listen: String,
    /// URL template; `[vhost]` at the start routes by Host header; the extension picks the format.
    pub mount: String,
    /// Answer with CORS headers (SRS `http_server.crossdomain`).
    pub crossdomain: bool,
    /// Serve HTTPS on `listen` with these PEM files (every node on the address must agree).
    pub tls: Option<crate::graph::TlsFiles>,
}

/// The container a mount serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemuxFormat {
    Flv,
    Ts,
    Aac,
    Mp3,
}

impl Config {
    pub fn format(&self) -> Result<RemuxFormat, String> {
        let extension = self.mount.rsplit_once('.').map(|(_, ext)| ext).unwrap_or_default();
        match extension {
            "flv" => Ok(RemuxFormat::Flv),
            "ts" => Ok(RemuxFormat::Ts),
            "aac" => Ok(RemuxFormat::Aac),
            "mp3" => Ok(RemuxFormat::Mp3),
            other => Err(format!(
                "field `mount` ends in `.{other}`: use .flv, .ts, .aac or .mp3 (the extension picks the format)"
            )),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.format()?;
        if !self.mount.contains("[stream]") {
            return Err(format!(
                "field `mount` `{}` has no [stream]: every stream would share one URL",
                self.mount
            ));
        }
        Ok(())
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        let accepts = match self.format() {
            Ok(RemuxFormat::Flv) | Err(_) => super::rtmp_in::rtmp_caps(),
            Ok(RemuxFormat::Ts) => Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]),
            Ok(RemuxFormat::Aac) => Caps::new(&[], &[Codec::Aac]),
            Ok(RemuxFormat::Mp3) => Caps::new(&[], &[Codec::Mp3]),
        };
        Ports::Sink { accepts }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "http", None, self.tls.clone())
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        super::urls::on_listens(listens, "play", "http", &super::urls::example_path(&self.mount))
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone()), ("mount", self.mount.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            let route = Route::new(node.engine.clone(), node.index, self.clone());
            plan.http_route(listen.addr, std::sync::Arc::new(route));
        }
        Ok(())
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

/// Runs the serializer of one stream: frames in, packets into the stream's hub.
async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    let Ok(format) = config.format() else { return };
    let hub = serve::hub_for(&ctx.engine, ctx.node, &ctx.key);
    hub.start_publish();
    let mut serializer = RemuxSerializer::new(format);
    while let Some(event) = serve::next_event(&hub, &mut input).await {
        if event == MediaEvent::End {
            break;
        }
        for packet in serializer.push(&event) {
            hub.push(packet);
        }
    }
    hub.stop_publish();
}

impl RemuxFormat {
    fn content_type(self) -> &'static str {
        match self {
            RemuxFormat::Flv => "video/x-flv",
            RemuxFormat::Ts => "video/MP2T",
            RemuxFormat::Aac => "audio/aac",
            RemuxFormat::Mp3 => "audio/mpeg",
        }
    }
}

/// The HTTP side: matches GET requests against the mount and streams the hub to the player.
#[derive(Debug)]
pub struct Route {
    engine: Engine,
    node: NodeIndex,
    config: Config,
}

impl Route {
    pub fn new(engine: Engine, node: NodeIndex, config: Config) -> Route {
        Route { engine, node, config }
    }

    fn stream_key<B>(&self, request: &Request<B>) -> Option<StreamKey> {
        let host_routed = self.config.mount.starts_with("[vhost]");
        let pattern = self.config.mount.trim_start_matches("[vhost]");
        let (app, stream) = match_mount(pattern, request.uri().path())?;
        let host =
            request.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(name, _)| name);
        let requested = if host_routed { host } else { DEFAULT_VHOST };
        let vhost = vhost::resolve(&self.engine, requested)?;
        Some(StreamKey::new(vhost, app, stream))
    }
}

impl HttpRoute for Route {
    fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>> {
        if request.method() != Method::GET && request.method() != Method::OPTIONS {
            return Err(request);
        }
        let Some(key) = self.stream_key(&request) else { return Err(request) };
        let crossdomain = self.config.crossdomain;
        if request.method() == Method::OPTIONS {
            return Ok(Box::pin(async move {
                let mut response = http::text_response(StatusCode::OK, "");
                if crossdomain {
                    http::add_cors(&mut response);
                }
                response
            }));
        }
        let engine = self.engine.clone();
        let node = self.node;
        let mount = self.config.mount.clone();
        let format = self.config.format().unwrap_or(RemuxFormat::Flv);
        let player = PlayerInfo::of(&request, &key);
        let path = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        Ok(Box::pin(async move {
            if let Some(location) = super::origin_cluster::redirect_for(&engine, &key, &path).await {
                let mut response = http::text_response(StatusCode::FOUND, "");
                if let Ok(value) = HeaderValue::try_from(location) {
                    response.headers_mut().insert(hyper::header::LOCATION, value);
                }
                return response;
            }
            let id = engine.next_id();
            let (guard, settings) = match admit(&engine, node, &key, peer, id, player).await {
                Ok(admitted) => admitted,
                Err(()) => return http::text_response(StatusCode::FORBIDDEN, "play denied\n"),
            };
            let hub = serve::hub_for(&engine, node, &key);
            tracing::info!(conn = id, %peer, stream = %key, mount = %mount, "http play");
            let prefix = (format == RemuxFormat::Flv).then(|| flv_file_start(hub.tracks_at_join()));
            let lease = stop_on_end(&engine, guard, settings, &key);
            let body = HubBody::leased(prefix, hub.subscribe(), lease);
            let mut response = Response::new(http_body_util::BodyExt::boxed_unsync(body));
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
            // A live body ends only when the stream or the player does (or a kick): close then.
            response.headers_mut().insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
            if crossdomain {
                http::add_cors(&mut response);
            }
            response
        }))
    }

    fn takes_raw(&self, request: &Request<()>) -> bool {
        request.method() == Method::GET && self.stream_key(request).is_some()
    }

    /// The stream on the raw socket: the response head, then the hub's batches, written by the
    /// hub itself while the player keeps up. The body ends with the connection (no chunked
    /// framing, so every player shares the same bytes).
    fn serve_raw(&self, request: Request<()>, stream: TcpStream, peer: SocketAddr, id: u64) -> RawFuture {
        let Some(key) = self.stream_key(&request) else { return Box::pin(async {}) };
        let (engine, node) = (self.engine.clone(), self.node);
        let mount = self.config.mount.clone();
        let format = self.config.format().unwrap_or(RemuxFormat::Flv);
        let crossdomain = self.config.crossdomain;
        let player = PlayerInfo::of(&request, &key);
        let path = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        Box::pin(async move {
            if let Some(location) = super::origin_cluster::redirect_for(&engine, &key, &path).await {
                let head = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = write_all_vectored(&stream, &mut vec![Bytes::from(head)]).await;
                tracing::info!(conn = id, %peer, stream = %key, %location, "http play redirected");
                return;
            }
            let (guard, settings) = match admit(&engine, node, &key, peer, id, player).await {
                Ok(admitted) => admitted,
                Err(()) => {
                    let _ = write_all_vectored(&stream, &mut vec![Bytes::from_static(FORBIDDEN)]).await;
                    return;
                }
            };
            let hub = serve::hub_for(&engine, node, &key);
            tracing::info!(conn = id, %peer, stream = %key, mount = %mount, "http play");
            let mut first = vec![raw_response_head(format, crossdomain)];
            first.extend((format == RemuxFormat::Flv).then(|| flv_file_start(hub.tracks_at_join())));
            let lease = stop_on_end(&engine, guard, settings, &key);
            let end = serve::play_raw(&engine, stream, hub.subscribe(), lease, first).await;
            tracing::info!(conn = id, %peer, stream = %key, "http play ended: {end}");
        })
    }
}

/// What the registry and hooks know of an HTTP player, read from its request.
struct PlayerInfo {
    page_url: String,
    tc_url: String,
    param: String,
}

impl PlayerInfo {
    fn of<B>(request: &Request<B>, key: &StreamKey) -> PlayerInfo {
        let header = |name| {
            request.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).unwrap_or_default()
        };
        let host = header(hyper::header::HOST);
        PlayerInfo {
            page_url: header(hyper::header::REFERER).to_owned(),
            tc_url: format!("http://{host}/{}", key.app),
            param: request.uri().query().map(|q| format!("?{q}")).unwrap_or_default(),
        }
    }
}

/// Registers the player and runs SRS's admission (security, refer, `on_play`); a refusal is logged.
async fn admit(
    engine: &Engine,
    node: NodeIndex,
    key: &StreamKey,
    peer: SocketAddr,
    id: u64,
    player: PlayerInfo,
) -> Result<(ClientGuard, vhost::Config), ()> {
    let settings = vhost::settings_for(engine, node, key);
    let registry = engine.shared::<Registry>();
    let guard = registry.register(id, peer.ip());
    guard.client().update(|info| {
        info.kind = ClientKind::FlvPlay;
        info.stream = Some(key.clone());
        info.tc_url = player.tc_url;
        info.page_url = player.page_url;
        info.param = player.param;
    });
    let admitted =
        admission::admit(&registry, guard.client(), &settings.rules(), RuleMethod::Play, key).await;
    let param = guard.client().info().param;
    let admitted = match admitted {
        Ok(()) => super::edge_traverse::authorize(engine, key, &param, false).await,
        Err(why) => Err(why),
    };
    match admitted {
        Ok(()) => Ok((guard, settings)),
        Err(why) => {
            tracing::warn!(conn = id, %peer, stream = %key, "http play refused: {why}");
            Err(())
        }
    }
}

/// A lease on the player's registry entry that fires `on_stop` when the play ends.
/// On an edge without the stream, the player is counted on the edge's pull until then.
fn stop_on_end(engine: &Engine, guard: ClientGuard, settings: vhost::Config, key: &StreamKey) -> PlayerLease {
    let key = key.clone();
    let edge = super::edge_pull::player_joined(engine, &key, &guard.client().info().param);
    PlayerLease::new(guard, move |guard| {
        drop(edge);
        admission::notify(guard.registry(), guard.client(), &settings.rules(), HookEvent::Stop, Some(&key));
    })
}

const FORBIDDEN: &[u8] =
    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nplay denied\n";

/// The FLV header for a player joining now, flags as SRS's `guess_has_av` (on by default): a
/// stream that has shown video and no audio is announced as video only, and the other way round,
/// so a player does not wait for a track that never comes (FFmpeg reads 5 MB looking for it: 37 s
/// of a 1 Mbit/s stream without audio). Before anything is known, both.
fn flv_file_start(shown: Tracks) -> Bytes {
    let (audio, video) = if shown.audio != shown.video { (shown.audio, shown.video) } else { (true, true) };
    FlvHeader::new(audio, video).file_start()
}

/// The response head of a raw stream: no length and no chunked framing, the body ends with the
/// connection (HTTP/1.1 allows it; players read to the end either way).
fn raw_response_head(format: RemuxFormat, crossdomain: bool) -> Bytes {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nConnection: close\r\nCache-Control: no-cache\r\n",
        format.content_type()
    );
    if crossdomain {
        http::CORS_HEADERS.iter().for_each(|name| head.push_str(&format!("{name}: *\r\n")));
    }
    head.push_str("\r\n");
    Bytes::from(head)
}

/// Matches a URL path against a mount pattern with `[app]` and `[stream]`; `[app]` may span
/// several path segments, `[stream]` one.
pub fn match_mount(pattern: &str, path: &str) -> Option<(String, String)> {
    let pattern = format!("/{}", pattern.trim_start_matches('/'));
    let (before_stream, after_stream) = pattern.split_once("[stream]")?;
    let rest = path.strip_suffix(after_stream)?;
    let (app, stream) = match before_stream.split_once("[app]") {
        Some((prefix, between)) => {
            let rest = rest.strip_prefix(prefix)?;
            let (app, stream) = rest.rsplit_once(between)?;
            (app.to_owned(), stream.to_owned())
        }
        None => {
            let stream = rest.strip_prefix(before_stream)?;
            (String::from("live"), stream.to_owned())
        }
    };
    let valid = |s: &str| !s.is_empty() && !s.contains("..");
    (valid(&app) && valid(&stream) && !stream.contains('/')).then_some((app, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_match_as_srs_templates() {
        let m = |pattern: &str, path: &str| match_mount(pattern, path);
        assert_eq!(
            m("/[app]/[stream].flv", "/live/livestream.flv"),
            Some(("live".into(), "livestream".into()))
        );
        assert_eq!(m("[app]/[stream].flv", "/a/b/s.flv"), Some(("a/b".into(), "s".into())));
        assert_eq!(m("/[app]/[stream].flv", "/live/livestream.ts"), None);
        assert_eq!(m("/[app]/[stream].flv", "/livestream.flv"), None);
        assert_eq!(m("/hls/[app]/[stream].ts", "/hls/live/x.ts"), Some(("live".into(), "x".into())));
        assert_eq!(m("/[app]/[stream].flv", "/../etc/passwd.flv"), None);
    }

    #[test]
    fn the_flv_header_announces_a_lone_track_alone() {
        let flags = |audio, video| flv_file_start(Tracks { audio, video })[4];
        assert_eq!(flags(false, true), 0x01, "video only");
        assert_eq!(flags(true, false), 0x04, "audio only");
        assert_eq!(flags(true, true), 0x05);
        assert_eq!(flags(false, false), 0x05, "nothing known yet: both");
    }

    #[test]
    fn format_follows_the_extension() {
        let config =
            |mount: &str| Config { listen: "8080".into(), mount: mount.into(), crossdomain: true, tls: None };
        assert_eq!(config("[vhost]/[app]/[stream].flv").format(), Ok(RemuxFormat::Flv));
        assert_eq!(config("[app]/[stream].mp3").format(), Ok(RemuxFormat::Mp3));
        assert!(config("[app]/[stream].mp4").validate().is_err());
        assert!(config("[app]/live.flv").validate().is_err());
    }
}
