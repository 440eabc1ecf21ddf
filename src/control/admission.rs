//! Admitting a client to a stream, in SRS's order: security rules, refer, then the blocking
//! callback (`on_publish` / `on_play`); and the non-blocking callbacks when it leaves.
//!
//! Shared by every protocol that publishes or plays (RTMP, HTTP-FLV, ...), so the order and the
//! hook bodies are the same everywhere.

use std::sync::Arc;

use super::hooks::HttpHooks;
use super::hooks::{self, HookEvent, HookSubject};
use super::registry::{Client, Registry};
use super::security::RuleMethod;
use super::security::{Refer, Security};
use crate::graph::StreamKey;

/// What admission reads of the settings of a client's vhost.
#[derive(Debug, Clone, Copy)]
pub struct VhostRules<'a> {
    pub vhost: &'a str,
    pub security: Option<&'a Security>,
    pub refer: Option<&'a Refer>,
    pub http_hooks: Option<&'a HttpHooks>,
}

/// The hook subject for `client` on `key` (or on no stream yet).
pub fn subject(registry: &Registry, client: &Client, key: Option<&StreamKey>) -> HookSubject {
    let info = client.info();
    let mut subject = key.map(HookSubject::for_stream).unwrap_or_default();
    if key.is_none() {
        if let Some(stream) = &info.stream {
            subject = HookSubject::for_stream(stream);
        }
    }
    subject.stream_id = key.or(info.stream.as_ref()).map(|k| registry.stream_id(k));
    HookSubject {
        client_id: client.id,
        ip: Some(client.ip),
        param: info.param,
        tc_url: info.tc_url,
        page_url: info.page_url,
        ..subject
    }
}

/// Security, refer, then the blocking hook for publishing or playing `key`; `Err` says who denied.
pub async fn admit(
    registry: &Registry,
    client: &Client,
    settings: &VhostRules<'_>,
    method: RuleMethod,
    key: &StreamKey,
) -> Result<(), String> {
    if let Some(security) = settings.security {
        security.check(method, client.ip)?;
    }
    if let Some(refer) = settings.refer {
        refer.check(Some(method), &client.info().page_url)?;
    }
    let Some(http_hooks) = settings.http_hooks else { return Ok(()) };
    let event = match method {
        RuleMethod::Publish => HookEvent::Publish,
        RuleMethod::Play => HookEvent::Play,
    };
    hooks::call(registry, http_hooks, event, &subject(registry, client, Some(key))).await
}

/// Refer (`all`) and `on_connect` for a client that connected to vhost `settings`.
pub async fn admit_connection(
    registry: &Registry,
    client: &Client,
    settings: &VhostRules<'_>,
    app: &str,
) -> Result<(), String> {
    if let Some(refer) = settings.refer {
        refer.check(None, &client.info().page_url)?;
    }
    let Some(http_hooks) = settings.http_hooks else { return Ok(()) };
    let mut subject = subject(registry, client, None);
    subject.vhost = settings.vhost.to_owned();
    subject.app = app.to_owned();
    hooks::call(registry, http_hooks, HookEvent::Connect, &subject).await
}

/// Fires a non-blocking callback (`on_unpublish`, `on_stop`, `on_close`) in the background.
pub fn notify(
    registry: &Arc<Registry>,
    client: &Client,
    settings: &VhostRules<'_>,
    event: HookEvent,
    key: Option<&StreamKey>,
) {
    if let Some(http_hooks) = settings.http_hooks {
        let mut subject = subject(registry, client, key);
        if subject.vhost.is_empty() {
            subject.vhost = settings.vhost.to_owned();
        }
        hooks::fire(Arc::clone(registry), http_hooks, event, subject);
    }
}
