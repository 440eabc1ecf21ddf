//! SRS's HTTP callbacks (`http_hooks`): JSON POSTs on connect, close, publish, unpublish, play,
//! stop, DVR file closed and HLS segment committed, with SRS's bodies and allow/deny rule.
//!
//! Blocking events (`on_connect`, `on_publish`, `on_play`) call every URL in order and the first
//! failure denies; a URL allows when it answers 200/201 with `0` or `{"code":0}` (SRS's
//! `do_post`). The others are fired in the background and only logged.
//!
//! For sinks that finish files (DVR, HLS): call [`notify_async`] with the vhost's hooks,
//! [`HookEvent::Dvr`] or [`HookEvent::Hls`] and the stream's key; it posts `on_dvr` / `on_hls`
//! without waiting.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use serde_json::{json, Map, Value};

use super::http_client::post_json;
use super::registry::Registry;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::StreamKey;

/// srs.conf `vhost { http_hooks { ... } }`, plus the timeout and the unreachable policy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub struct HttpHooks {
    pub enabled: bool,
    pub on_connect: Vec<String>,
    pub on_close: Vec<String>,
    pub on_publish: Vec<String>,
    pub on_unpublish: Vec<String>,
    pub on_play: Vec<String>,
    pub on_stop: Vec<String>,
    pub on_dvr: Vec<String>,
    pub on_hls: Vec<String>,
    /// `on_hls_notify`: URL templates fetched (GET) for each new HLS segment, e.g. to warm a CDN:
    /// `[server_id] [service_id] [app] [stream] [ts_url] [param]` are filled in.
    pub on_hls_notify: Vec<String>,
    /// Milliseconds to wait for each answer (SRS waits 30 s; we default to 5 s).
    pub timeout_ms: u64,
    /// Allow when a hook server cannot be reached or times out (SRS denies).
    pub allow_on_error: bool,
    /// PEM certificates trusted for `https://` hooks besides the system's roots (beyond SRS).
    pub ca_file: Option<String>,
}

/// What happened, with the fields only that event carries.
#[derive(Debug, Clone, PartialEq)]
pub enum HookEvent {
    Connect,
    Close {
        send_bytes: u64,
        recv_bytes: u64,
    },
    Publish,
    Unpublish,
    Play,
    Stop,
    Dvr {
        cwd: String,
        file: String,
    },
    Hls {
        duration: f64,
        cwd: String,
        file: String,
        url: String,
        m3u8: String,
        m3u8_url: String,
        seq_no: u64,
    },
    /// A forward `backend` is asked for the stream's destinations.
    Forward,
}

impl HookEvent {
    pub fn action(&self) -> &'static str {
        match self {
            HookEvent::Connect => "on_connect",
            HookEvent::Close { .. } => "on_close",
            HookEvent::Publish => "on_publish",
            HookEvent::Unpublish => "on_unpublish",
            HookEvent::Play => "on_play",
            HookEvent::Stop => "on_stop",
            HookEvent::Dvr { .. } => "on_dvr",
            HookEvent::Hls { .. } => "on_hls",
            HookEvent::Forward => "on_forward",
        }
    }

    fn urls<'a>(&self, hooks: &'a HttpHooks) -> &'a [String] {
        match self {
            HookEvent::Connect => &hooks.on_connect,
            HookEvent::Close { .. } => &hooks.on_close,
            HookEvent::Publish => &hooks.on_publish,
            HookEvent::Unpublish => &hooks.on_unpublish,
            HookEvent::Play => &hooks.on_play,
            HookEvent::Stop => &hooks.on_stop,
            HookEvent::Dvr { .. } => &hooks.on_dvr,
            HookEvent::Hls { .. } => &hooks.on_hls,
            // Its URL is the forward block's `backend`, not a list of the vhost's hooks.
            HookEvent::Forward => &[],
        }
    }
}

/// Who and which stream a callback is about.
#[derive(Debug, Clone, Default)]
pub struct HookSubject {
    pub client_id: u64,
    pub ip: Option<IpAddr>,
    pub vhost: String,
    pub app: String,
    pub stream: String,
    pub param: String,
    pub tc_url: String,
    pub page_url: String,
    /// The API's stream id, when the stream is known.
    pub stream_id: Option<u64>,
}

impl HookSubject {
    pub fn for_stream(key: &StreamKey) -> HookSubject {
        HookSubject {
            vhost: key.vhost.clone(),
            app: key.app.clone(),
            stream: key.stream.clone(),
            ..HookSubject::default()
        }
    }
}

/// SRS's JSON body for `event` about `subject`.
pub fn body(registry: &Registry, event: &HookEvent, subject: &HookSubject) -> Value {
    let mut body = Map::new();
    let mut put = |name: &str, value: Value| {
        body.insert(name.to_owned(), value);
    };
    put("server_id", json!(registry.identity.server_id));
    put("service_id", json!(registry.identity.service_id));
    put("action", json!(event.action()));
    put("client_id", json!(subject.client_id.to_string()));
    put("ip", json!(subject.ip.map(|ip| ip.to_string()).unwrap_or_default()));
    put("vhost", json!(subject.vhost));
    put("app", json!(subject.app));
    let stream_fields = |put: &mut dyn FnMut(&str, Value)| {
        put("stream", json!(subject.stream));
        put("param", json!(subject.param));
        let url = if subject.vhost == DEFAULT_VHOST || subject.vhost.is_empty() {
            format!("/{}/{}", subject.app, subject.stream)
        } else {
            format!("{}/{}/{}", subject.vhost, subject.app, subject.stream)
        };
        put("stream_url", json!(url));
        if let Some(id) = subject.stream_id {
            put("stream_id", json!(format!("vid-{id}")));
        }
    };
    match event {
        HookEvent::Connect => {
            put("stream", json!(subject.stream));
            put("param", json!(subject.param));
            put("tcUrl", json!(subject.tc_url));
            put("pageUrl", json!(subject.page_url));
        }
        HookEvent::Close { send_bytes, recv_bytes } => {
            put("send_bytes", json!(send_bytes));
            put("recv_bytes", json!(recv_bytes));
        }
        HookEvent::Publish | HookEvent::Unpublish | HookEvent::Stop | HookEvent::Forward => {
            put("tcUrl", json!(subject.tc_url));
            stream_fields(&mut put);
        }
        HookEvent::Play => {
            put("tcUrl", json!(subject.tc_url));
            put("pageUrl", json!(subject.page_url));
            stream_fields(&mut put);
        }
        HookEvent::Dvr { cwd, file } => {
            put("tcUrl", json!(subject.tc_url));
            put("cwd", json!(cwd));
            put("file", json!(file));
            stream_fields(&mut put);
        }
        HookEvent::Hls { duration, cwd, file, url, m3u8, m3u8_url, seq_no } => {
            put("tcUrl", json!(subject.tc_url));
            put("duration", json!(duration));
            put("cwd", json!(cwd));
            put("file", json!(file));
            put("url", json!(url));
            put("m3u8", json!(m3u8));
            put("m3u8_url", json!(m3u8_url));
            put("seq_no", json!(seq_no));
            stream_fields(&mut put);
        }
    }
    Value::Object(body)
}

/// Asks a forward `backend` where to forward the stream of `subject` (SRS's `on_forward`): the
/// non-empty `data.urls` of an allowing answer.
pub async fn forward_destinations(
    registry: &Registry,
    backend: &str,
    subject: &HookSubject,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let text = body(registry, &HookEvent::Forward, subject).to_string();
    let (status, answer) =
        post_json(backend, text, timeout, None).await.map_err(|e| format!("{backend}: {e}"))?;
    answer_allows(status.as_u16(), &answer).map_err(|e| format!("{backend}: {e}"))?;
    let json: Value = serde_json::from_slice(&answer).map_err(|e| format!("{backend}: {e}"))?;
    let urls =
        json["data"]["urls"].as_array().ok_or_else(|| format!("{backend}: no `data.urls` in the answer"))?;
    Ok(urls.iter().filter_map(Value::as_str).filter(|url| !url.is_empty()).map(str::to_owned).collect())
}

/// SRS's response rule: 200/201, then `0` or an object whose integer `code` is 0.
pub fn answer_allows(status: u16, body: &[u8]) -> Result<(), String> {
    if status != 200 && status != 201 {
        return Err(format!("status {status}"));
    }
    let text = std::str::from_utf8(body).map_err(|_| "answer is not text".to_owned())?.trim();
    if text.is_empty() {
        return Err("empty answer".into());
    }
    let value: Value =
        serde_json::from_str(text).map_err(|_| format!("answer `{}` is not JSON", short(text)))?;
    match value {
        Value::Object(object) => match object.get("code").and_then(Value::as_i64) {
            Some(0) => Ok(()),
            Some(code) => Err(format!("answer code {code}")),
            None => Err("answer has no integer `code`".into()),
        },
        _ if text == "0" => Ok(()),
        _ => Err(format!("answer `{}` is neither 0 nor an object", short(text))),
    }
}

fn short(text: &str) -> &str {
    text.char_indices().nth(64).map_or(text, |(i, _)| &text[..i])
}

/// Calls every URL of a blocking event in order; the first failure denies (`Err` says why).
pub async fn call(
    registry: &Registry,
    hooks: &HttpHooks,
    event: HookEvent,
    subject: &HookSubject,
) -> Result<(), String> {
    if !hooks.enabled {
        return Ok(());
    }
    let urls = event.urls(hooks);
    if urls.is_empty() {
        return Ok(());
    }
    let text = body(registry, &event, subject).to_string();
    let timeout = Duration::from_millis(hooks.timeout_ms.max(1));
    for url in urls {
        let verdict = match post_json(url, text.clone(), timeout, hooks.ca_file.as_deref()).await {
            Ok((status, answer)) => answer_allows(status.as_u16(), &answer),
            Err(e) if hooks.allow_on_error => {
                tracing::warn!(conn = subject.client_id, %url, "{} unreachable, allowed by policy: {e}", event.action());
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = verdict {
            return Err(format!("{} {url}: {why}", event.action()));
        }
    }
    Ok(())
}

/// Fires an event in the background (never blocks the caller); failures are logged.
pub fn fire(registry: Arc<Registry>, hooks: &HttpHooks, event: HookEvent, subject: HookSubject) {
    if !hooks.enabled || event.urls(hooks).is_empty() {
        return;
    }
    let hooks = hooks.clone();
    tokio::spawn(async move {
        if let Err(why) = call(&registry, &hooks, event, &subject).await {
            tracing::warn!(conn = subject.client_id, "callback failed: {why}");
        }
    });
}

/// What fills an `on_hls_notify` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlsNotify {
    pub key: StreamKey,
    /// The segment's URL as the playlist names it.
    pub ts_url: String,
    pub param: String,
    /// Bytes of the answer read (SRS's `hls_nb_notify`).
    pub read_bytes: usize,
}

/// The URL an `on_hls_notify` template names for one segment; a segment URL that is itself
/// absolute (`http(s)://`) is used as it is, as SRS.
pub fn hls_notify_url(template: &str, registry: &Registry, notify: &HlsNotify) -> String {
    if notify.ts_url.starts_with("http://") || notify.ts_url.starts_with("https://") {
        return notify.ts_url.clone();
    }
    template
        .replace("[server_id]", &registry.identity.server_id)
        .replace("[service_id]", &registry.identity.service_id)
        .replace("[app]", &notify.key.app)
        .replace("[stream]", &notify.key.stream)
        .replace("[ts_url]", &notify.ts_url)
        .replace("[param]", &notify.param)
}

/// Fetches every `on_hls_notify` URL for a new segment, in the background; errors are logged
/// and ignored, as SRS (10 s timeout).
pub fn notify_hls_segment(registry: Arc<Registry>, hooks: &HttpHooks, notify: HlsNotify) {
    if !hooks.enabled || hooks.on_hls_notify.is_empty() {
        return;
    }
    let hooks = hooks.clone();
    tokio::spawn(async move {
        for template in &hooks.on_hls_notify {
            let url = hls_notify_url(template, &registry, &notify);
            let timeout = Duration::from_secs(10);
            match super::http_client::get(&url, timeout, hooks.ca_file.as_deref(), notify.read_bytes).await {
                Ok((status, body)) => {
                    tracing::debug!(%url, %status, n_bytes = body.len(), "on_hls_notify")
                }
                Err(why) => tracing::warn!(%url, stream = %notify.key, "on_hls_notify failed: {why}"),
            }
        }
    });
}

/// For sinks that finish files (DVR, HLS): posts `event` (`Dvr` or `Hls`) to `hooks` (those of
/// the vhost serving `key`), in the background. `tc_url` may be empty when unknown.
pub fn notify_async(
    registry: Arc<Registry>,
    hooks: &HttpHooks,
    key: &StreamKey,
    event: HookEvent,
    tc_url: &str,
) {
    let subject = HookSubject {
        tc_url: tc_url.to_owned(),
        stream_id: Some(registry.stream_id(key)),
        ..HookSubject::for_stream(key)
    };
    fire(registry, hooks, event, subject);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hls_notify_urls_are_filled_as_srs() {
        let registry = Registry::default();
        let notify = HlsNotify {
            key: StreamKey::new("__defaultVhost__", "live", "cam"),
            ts_url: "live/cam-7.ts".into(),
            param: "?token=x".into(),
            read_bytes: 64,
        };
        let template = "http://cdn/[server_id]/[app]/[stream]/[ts_url][param]";
        let url = hls_notify_url(template, &registry, &notify);
        let expected = format!("http://cdn/{}/live/cam/live/cam-7.ts?token=x", registry.identity.server_id);
        assert_eq!(url, expected);
        let absolute = HlsNotify { ts_url: "https://cdn.example/live/cam-7.ts".into(), ..notify };
        assert_eq!(hls_notify_url(template, &registry, &absolute), "https://cdn.example/live/cam-7.ts");
    }

    #[test]
    fn answers_decide_as_srs() {
        assert!(answer_allows(200, b"0").is_ok());
        assert!(answer_allows(201, br#"{"code":0}"#).is_ok());
        assert!(answer_allows(200, br#"{"code":1}"#).is_err());
        assert!(answer_allows(200, b"1").is_err());
        assert!(answer_allows(200, b"").is_err());
        assert!(answer_allows(200, b"ok").is_err());
        assert!(answer_allows(200, br#"{"data":0}"#).is_err());
        assert!(answer_allows(404, br#"{"code":0}"#).is_err());
    }

    #[test]
    fn bodies_carry_srs_fields() {
        let registry = Registry::default();
        let subject = HookSubject {
            client_id: 12,
            ip: Some("127.0.0.1".parse().unwrap()),
            tc_url: "rtmp://127.0.0.1/live".into(),
            stream_id: Some(3),
            ..HookSubject::for_stream(&StreamKey::new(DEFAULT_VHOST, "live", "s"))
        };
        let publish = body(&registry, &HookEvent::Publish, &subject);
        for field in
            ["server_id", "service_id", "client_id", "ip", "vhost", "app", "stream", "param", "tcUrl"]
        {
            assert!(publish.get(field).is_some(), "on_publish has {field}: {publish}");
        }
        assert_eq!(publish["action"], "on_publish");
        assert_eq!(publish["stream_url"], "/live/s");
        assert_eq!(publish["stream_id"], "vid-3");
        let connect = body(&registry, &HookEvent::Connect, &subject);
        assert!(connect.get("pageUrl").is_some() && connect.get("stream_url").is_none());
        let close = body(&registry, &HookEvent::Close { send_bytes: 5, recv_bytes: 6 }, &subject);
        assert_eq!((close["send_bytes"].as_u64(), close["recv_bytes"].as_u64()), (Some(5), Some(6)));
    }
}
