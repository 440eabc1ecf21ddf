//! SRS 5's external-SIP mode: with `sip_enabled = False` another SIP server invites the devices
//! and announces each one with `POST /gb/v1/publish/` `{"id": "<device id>", "ssrc": "<decimal>"}`
//! on the HTTP API's address; the answer names the media port:
//! `{"code": 0, "port": <media port>, "is_tcp": true}` (a taken id or SSRC: SRS's stream-busy code).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::caster::Caster;
use crate::servers::http::{self, Body, HttpRoute, ResponseFuture};

/// SRS's `ERROR_SYSTEM_STREAM_BUSY`.
const SRS_STREAM_BUSY: u32 = 1028;
/// SRS's `ERROR_HTTP_DATA_INVALID` for a body that is not `{id, ssrc}`.
const SRS_DATA_INVALID: u32 = 4004;
const MAX_BODY: usize = 4096;

#[derive(Clone)]
pub struct PublishRoute {
    pub caster: Arc<Caster>,
}

impl std::fmt::Debug for PublishRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("gb28181 publish route")
    }
}

impl HttpRoute for PublishRoute {
    fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>> {
        if request.method() != Method::POST || request.uri().path().trim_end_matches('/') != "/gb/v1/publish"
        {
            return Err(request);
        }
        let caster = Arc::clone(&self.caster);
        Ok(Box::pin(async move {
            let body = match http_body_util::Limited::new(request.into_body(), MAX_BODY).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return http::text_response(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n"),
            };
            json_response(publish(&caster, &body, peer))
        }))
    }
}

fn publish(caster: &Caster, body: &[u8], peer: SocketAddr) -> Value {
    let parsed: Option<(String, u32)> = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let id = v["id"].as_str()?.to_owned();
        let ssrc = match &v["ssrc"] {
            Value::String(text) => text.parse().ok()?,
            Value::Number(n) => u32::try_from(n.as_u64()?).ok()?,
            _ => return None,
        };
        let valid = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then_some((id, ssrc))
    });
    let Some((id, ssrc)) = parsed else { return json!({ "code": SRS_DATA_INVALID }) };
    match caster.registrar().expect_media(&id, ssrc, Instant::now()) {
        Ok(()) => {
            tracing::info!(%peer, device = %id, ssrc, "gb28181 device announced by an external sip server");
            let port =
                crate::graph::listen::parse_listen(&caster.config.media_listen).map_or(0, |a| a.port());
            json!({ "code": 0, "port": port, "is_tcp": true })
        }
        Err(why) => {
            tracing::warn!(%peer, device = %id, ssrc, "gb28181 publish refused: {why}");
            json!({ "code": SRS_STREAM_BUSY })
        }
    }
}

fn json_response(value: Value) -> Response<Body> {
    let mut response = Response::new(http::full_body(value.to_string()));
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}
