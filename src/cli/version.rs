//! `srs -V` / `srs --version`: the version and what this build serves. Every feature is always
//! built in (there are no cargo features), so the lists are this binary's.

macro_rules! protocols {
    () => {
        "RTMP (with Enhanced RTMP), HTTP-FLV, HTTP-TS, HTTP-AAC, HTTP-MP3, HLS (TS, fMP4, LL-HLS), \
         MPEG-DASH, SRT, MPEG-TS over UDP, FLV over HTTP POST, GB28181 (SIP, PS over RTP), \
         WebRTC (WHIP, WHEP, SRS's /rtc/v1 API; H.264, Opus)"
    };
}

macro_rules! features {
    () => {
        "TLS (HTTPS serving, HTTPS hooks), DVR (FLV, MP4), HTTP API (SRS's /api/v1, /metrics), \
         HTTP hooks, security and refer rules, reload, srs.conf and SRS_* variables, Dhall graphs, \
         console and players (home page, live graph, mpegts.js, hls.js, dash.js, WHEP/WHIP pages)"
    };
}

macro_rules! codecs {
    () => {
        "video H.264, H.265, AV1; audio AAC, MP3, Opus"
    };
}

/// What clap prints after `srs ` for `-V` and `--version`.
pub const TEXT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\nprotocols: ",
    protocols!(),
    "\nfeatures:  ",
    features!(),
    "\ncodecs:    ",
    codecs!(),
);

/// The version line logged when the server starts.
pub fn log_start() {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        protocols = protocols!(),
        features = features!(),
        "srs starting"
    );
}
