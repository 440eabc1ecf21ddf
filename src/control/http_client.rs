//! A small HTTP/1.1 client for callbacks: POST a JSON body, read a bounded answer, with a timeout.
//!
//! hyper's client (hyper-util `client-legacy`), one per process, without keep-alive. Plain `http://` only:
//! there is no TLS in the server yet, so an `https://` hook fails like an unreachable one.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Most bytes read from a callback's answer (SRS's answers are a few bytes of JSON).
const MAX_ANSWER: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("bad url `{0}`")]
    BadUrl(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("answer body: {0}")]
    Body(String),
}

fn client() -> &'static Client<HttpConnector, Full<Bytes>> {
    static CLIENT: OnceLock<Client<HttpConnector, Full<Bytes>>> = OnceLock::new();
    // A fresh connection per callback, as SRS: a hook server that closes idle connections
    // would otherwise race with the reuse of a pooled one.
    CLIENT.get_or_init(|| Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http())
}

/// POSTs `json` to `url`; the status and (bounded) body of the answer.
pub async fn post_json(
    url: &str,
    json: String,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), HttpClientError> {
    let uri: hyper::Uri = url.parse().map_err(|_| HttpClientError::BadUrl(url.to_owned()))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(HttpClientError::BadUrl(url.to_owned()));
    }
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(json)))
        .map_err(|e| HttpClientError::Request(e.to_string()))?;
    let exchange = async {
        let response =
            client().request(request).await.map_err(|e| HttpClientError::Request(e.to_string()))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| HttpClientError::Body(e.to_string()))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| HttpClientError::Timeout(timeout))?
}
