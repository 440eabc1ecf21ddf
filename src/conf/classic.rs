//! Rust twins of the classic records (`nodes/classic/*.dhall`): srs.conf's shape, SRS's names
//! and defaults. `Default` equals the Dhall `default` of each record (tested), so the printer can
//! leave out every field equal to its default.

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::stream_key::DEFAULT_VHOST;
use crate::nodes::jitter::TimeJitter;

/// A whole srs.conf: global settings and vhosts (`classic/Config.dhall`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    pub listen: String,
    pub chunk_size: u64,
    pub max_connections: u64,
    /// `server_id`: the id the API and hooks report; a random `vid-` id when unset (as SRS).
    pub server_id: Option<String>,
    /// `utc_time`: date variables of HLS and DVR file names in UTC rather than local time.
    pub utc_time: bool,
    pub http_server: Option<HttpServer>,
    /// `http_api { }`: present only when enabled.
    pub http_api: Option<crate::nodes::http_api::Config>,
    /// `http_api { https { } }`: the same API over HTTPS on its own port, when enabled.
    pub http_api_https: Option<Https>,
    /// `srt_server { }` (`classic/SrtServer.dhall`); present only when enabled.
    pub srt_server: Option<SrtServer>,
    /// `rtc_server { }` (`classic/RtcServer.dhall`); present only when enabled.
    pub rtc_server: Option<RtcServer>,
    /// `stream_caster { }` blocks (`classic/StreamCaster.dhall`).
    pub stream_casters: Vec<StreamCaster>,
    pub vhosts: Vec<Vhost>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: "1935".into(),
            chunk_size: 60_000,
            max_connections: 1000,
            server_id: None,
            utc_time: false,
            http_server: None,
            http_api: None,
            http_api_https: None,
            srt_server: None,
            rtc_server: None,
            stream_casters: Vec::new(),
            vhosts: vec![Vhost::default()],
        }
    }
}

/// `http_server { }` (`classic/HttpServer.dhall`); present only when enabled.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct HttpServer {
    pub listen: String,
    pub dir: String,
    pub crossdomain: bool,
    /// `https { }`: everything the server serves, also over HTTPS on its own port, when enabled.
    pub https: Option<Https>,
}

impl Default for HttpServer {
    fn default() -> HttpServer {
        HttpServer { listen: "8080".into(), dir: "./objs/nginx/html".into(), crossdomain: true, https: None }
    }
}

/// SRS's `https { listen; key; cert; }` of `http_server` and `http_api` (`classic/Https.dhall`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Https {
    pub listen: String,
    pub key: String,
    pub cert: String,
}

impl Https {
    /// SRS's defaults: port 8088 for the server, 1990 for the API, `./conf/server.{key,crt}`.
    pub fn with_listen(listen: &str) -> Https {
        Https { listen: listen.into(), key: "./conf/server.key".into(), cert: "./conf/server.crt".into() }
    }
}

/// `srt_server { }`: the listener settings of the `SrtIn`/`SrtOut` pair.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct SrtServer {
    pub enabled: bool,
    pub listen: String,
    pub latency: u64,
    pub passphrase: String,
    pub pbkeylen: u64,
    pub default_app: String,
}

impl Default for SrtServer {
    fn default() -> SrtServer {
        SrtServer {
            enabled: true,
            listen: "10080".into(),
            latency: 120,
            passphrase: String::new(),
            pbkeylen: 0,
            default_app: "live".into(),
        }
    }
}

/// `rtc_server { }`: the WebRTC socket and candidate of the `RtcIn`/`RtcOut` pair.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct RtcServer {
    pub enabled: bool,
    pub listen: String,
    pub candidate: String,
    /// `tcp { enabled on; }`: ICE over TCP on `listen`'s port number.
    pub tcp: bool,
    /// `protocol`: the candidates answers carry, `udp`, `tcp` or `all`.
    pub protocol: String,
}

impl Default for RtcServer {
    fn default() -> RtcServer {
        RtcServer {
            enabled: true,
            listen: "8000".into(),
            candidate: "*".into(),
            tcp: false,
            protocol: "udp".into(),
        }
    }
}

/// `stream_caster { }`: `caster` and `listen` are required (no `Default`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct StreamCaster {
    pub enabled: bool,
    pub caster: Caster,
    pub listen: String,
    /// The stream MPEG-TS over UDP publishes (SRS's `output`, as `app/stream`).
    pub stream: String,
    /// GB28181: the app of `output` (devices publish `<app>/<device id>`).
    pub app: String,
    /// GB28181's `sip { }`.
    pub sip: CasterSip,
}

/// The stream_caster kinds that exist as nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum Caster {
    MpegtsOverUdp,
    Flv,
    Gb28181,
}

/// `stream_caster { caster gb28181; sip { } }` (`classic/StreamCaster.dhall`'s `Sip`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct CasterSip {
    pub enabled: bool,
    pub listen: String,
    pub timeout: u64,
    pub reinvite: u64,
    pub candidate: String,
}

impl Default for CasterSip {
    fn default() -> CasterSip {
        CasterSip { enabled: true, listen: "5060".into(), timeout: 60, reinvite: 5, candidate: "*".into() }
    }
}

/// The Dhall default of `StreamCaster.app`.
pub const DEFAULT_CASTER_APP: &str = "live";

/// The Dhall default of `StreamCaster.stream`.
pub const DEFAULT_CASTER_STREAM: &str = "live/livestream";

/// `vhost NAME { }` (`classic/Vhost.dhall`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Vhost {
    pub name: String,
    /// `enabled off`: the vhost refuses its clients.
    pub enabled: bool,
    pub min_latency: bool,
    pub tcp_nodelay: bool,
    /// The global `chunk_size` when unset.
    pub chunk_size: Option<u64>,
    pub play: Play,
    pub publish: Publish,
    /// Present only when `http_remux { enabled on; }`.
    pub http_remux: Option<HttpRemux>,
    /// Present only when `http_static { enabled on; }`.
    pub http_static: Option<HttpStatic>,
    pub http_hooks: Option<crate::control::hooks::HttpHooks>,
    pub security: Option<crate::control::security::Security>,
    pub refer: Option<crate::control::security::Refer>,
    /// Present only when `dvr { enabled on; }`; the `Dvr` node's own settings.
    pub dvr: Option<crate::nodes::dvr::Config>,
    /// Present only when `hls { enabled on; }`; the `HlsOut` node's own settings.
    pub hls: Option<crate::nodes::hls_out::Config>,
    /// Present only when `dash { enabled on; }`; the `DashOut` node's own settings.
    pub dash: Option<crate::nodes::dash_out::Config>,
    /// Present only when `forward { enabled on; }`; the `Forward` node's own settings.
    pub forward: Option<crate::nodes::forward::Config>,
    /// Present only when `cluster { mode remote; }` (this vhost is an edge of `origin`) or
    /// `cluster { origin_cluster on; }` (an origin of SRS 4's origin cluster).
    pub cluster: Option<Cluster>,
    /// Present only when `exec { enabled on; publish ...; }`.
    pub exec: Option<crate::nodes::exec::Config>,
    /// Each enabled `transcode [scope] { }`, by node id (`transcode` or `transcode/<scope>`).
    pub transcode: Vec<NamedTranscode>,
    /// Each enabled `ingest ID { }`, by node id (`ingest/<ID>`).
    pub ingest: Vec<NamedIngest>,
    /// Present only when `rtc { enabled on; }`: the bridges between WebRTC and RTMP.
    pub rtc: Option<VhostRtc>,
}

/// `vhost { rtc { } }` (`classic/Rtc.dhall`): which bridges the vhost's streams take.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct VhostRtc {
    /// RTMP (and SRT, ...) streams to WebRTC players: AAC becomes Opus (`AacToOpus`).
    pub rtmp_to_rtc: bool,
    /// WebRTC publishers to RTMP, HTTP-FLV, HLS and DVR: Opus becomes AAC (`OpusToAac`).
    pub rtc_to_rtmp: bool,
    /// Off: B-frames are not sent to WebRTC players.
    pub keep_bframe: bool,
    /// Off: SEI NAL units are not sent to WebRTC players.
    pub keep_avc_nalu_sei: bool,
    /// Milliseconds between keyframe requests to a WebRTC publisher (SRS's seconds).
    pub pli_interval: u64,
    pub opus_bitrate: u64,
    pub aac_bitrate: u64,
}

impl Default for VhostRtc {
    fn default() -> VhostRtc {
        VhostRtc {
            rtmp_to_rtc: false,
            rtc_to_rtmp: false,
            keep_bframe: false,
            keep_avc_nalu_sei: true,
            pli_interval: 6000,
            opus_bitrate: 48_000,
            aac_bitrate: 48_000,
        }
    }
}

/// `vhost { cluster { mode remote; origin ...; token_traverse ...; } }` (`classic/Cluster.dhall`):
/// becomes the vhost's `EdgePull` and `EdgePush` nodes; `cluster { origin_cluster on; coworkers
/// ...; }` in `mode local` its `OriginCoworkers` node.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Cluster {
    /// `mode remote`: an edge.
    pub remote: bool,
    pub origin: Vec<String>,
    pub token_traverse: bool,
    /// SRS 4's `origin_cluster` (only in `mode local`, as SRS).
    pub origin_cluster: bool,
    /// SRS 4's `coworkers`: the HTTP API `host:port` of the cluster's origins.
    pub coworkers: Vec<String>,
}

/// A `transcode` block and the id its node is named by (`<vhost>/<id>`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct NamedTranscode {
    pub id: String,
    pub transcode: crate::nodes::transcode::Config,
}

/// An `ingest` block and the id its node is named by (`<vhost>/<id>`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct NamedIngest {
    pub id: String,
    pub ingest: crate::nodes::ingest::Config,
}

impl Default for Vhost {
    fn default() -> Vhost {
        Vhost {
            name: DEFAULT_VHOST.into(),
            enabled: true,
            min_latency: false,
            tcp_nodelay: false,
            chunk_size: None,
            play: Play::default(),
            publish: Publish::default(),
            http_remux: None,
            http_static: None,
            http_hooks: None,
            security: None,
            refer: None,
            dvr: None,
            hls: None,
            dash: None,
            forward: None,
            cluster: None,
            exec: None,
            transcode: Vec::new(),
            ingest: Vec::new(),
            rtc: None,
        }
    }
}

/// `vhost { play { } }` (`classic/Play.dhall`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Play {
    pub gop_cache: bool,
    pub gop_cache_max_frames: u64,
    /// Seconds.
    pub queue_length: u64,
    pub time_jitter: TimeJitter,
    pub mix_correct: bool,
    pub atc: bool,
    /// Milliseconds.
    pub mw_latency: u64,
    pub mw_msgs: u64,
}

impl Default for Play {
    fn default() -> Play {
        Play {
            gop_cache: true,
            gop_cache_max_frames: 2500,
            queue_length: 30,
            time_jitter: TimeJitter::Full,
            mix_correct: false,
            atc: false,
            mw_latency: 350,
            mw_msgs: 8,
        }
    }
}

/// `vhost { publish { } }` (`classic/Publish.dhall`), milliseconds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Publish {
    pub firstpkt_timeout: u64,
    pub normal_timeout: u64,
}

impl Default for Publish {
    fn default() -> Publish {
        Publish { firstpkt_timeout: 20_000, normal_timeout: 5_000 }
    }
}

/// `vhost { http_remux { } }` (`classic/HttpRemux.dhall`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct HttpRemux {
    pub mount: String,
}

impl Default for HttpRemux {
    fn default() -> HttpRemux {
        HttpRemux { mount: "[vhost]/[app]/[stream].flv".into() }
    }
}

/// `vhost { http_static { } }` (`classic/HttpStatic.dhall`): an `HttpStatic` node for the vhost.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct HttpStatic {
    pub mount: String,
    pub dir: String,
}

impl Default for HttpStatic {
    fn default() -> HttpStatic {
        HttpStatic { mount: "[vhost]/".into(), dir: "./objs/nginx/html".into() }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Evaluates `expression` (with `srs` bound to the catalogue) as a `T`.
    fn dhall<T: serde::de::DeserializeOwned + StaticType>(expression: &str) -> T {
        let catalogue = Path::new(env!("CARGO_MANIFEST_DIR")).join("nodes/package.dhall");
        let classic = catalogue.parent().unwrap().join("classic/package.dhall");
        let text = format!(
            "let srs = {}\nlet classic = {}\nin  {expression}",
            crate::conf::print::import_path(&catalogue),
            crate::conf::print::import_path(&classic)
        );
        serde_dhall::from_str(&text).imports(true).static_type_annotation().parse::<T>().expect("evaluates")
    }

    #[test]
    fn rust_defaults_equal_the_dhall_defaults() {
        assert_eq!(dhall::<Config>("classic.Config::{=}"), Config::default());
        assert_eq!(dhall::<Vhost>("classic.Vhost::{=}"), Vhost::default());
        assert_eq!(dhall::<Play>("classic.Play::{=}"), Play::default());
        assert_eq!(dhall::<Publish>("classic.Publish::{=}"), Publish::default());
        assert_eq!(dhall::<HttpServer>("classic.HttpServer::{=}"), HttpServer::default());
        assert_eq!(dhall::<HttpRemux>("classic.HttpRemux::{=}"), HttpRemux::default());
        assert_eq!(dhall::<HttpStatic>("classic.HttpStatic::{=}"), HttpStatic::default());
        assert_eq!(dhall::<SrtServer>("classic.SrtServer::{=}"), SrtServer::default());
        let caster = dhall::<StreamCaster>(
            "classic.StreamCaster::{ caster = classic.StreamCaster.Caster.Flv, listen = \"8936\" }",
        );
        assert_eq!((caster.enabled, caster.stream.as_str()), (true, DEFAULT_CASTER_STREAM));
        let dvr = crate::nodes::dvr::Config::default();
        assert_eq!(dhall::<crate::nodes::dvr::Config>("classic.Dvr::{=}"), dvr);
        let hls = crate::nodes::hls_out::Config::default();
        assert_eq!(dhall::<crate::nodes::hls_out::Config>("classic.Hls::{=}"), hls);
        let dash = crate::nodes::dash_out::Config::default();
        assert_eq!(dhall::<crate::nodes::dash_out::Config>("classic.Dash::{=}"), dash);
    }
}
