//! A small HTTP/1.1 client for callbacks: POST a JSON body, read a bounded answer, with a timeout.
//!
//! One fresh connection per call, as SRS (a hook server that closes idle connections would race
//! with the reuse of a pooled one), over TLS for `https://` URLs: rustls with the system's roots,
//! plus the PEM certificates of a CA file when one is configured (a private CA, a self-signed
//! hook server).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// Most bytes read from a callback's answer (SRS's answers are a few bytes of JSON).
const MAX_ANSWER: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("bad url `{0}`")]
    BadUrl(String),
    #[error("request failed: {0}")]
    Request(String),
    #[error("tls: {0}")]
    Tls(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("answer body: {0}")]
    Body(String),
}

/// POSTs `json` to `url` (`http://` or `https://`; `ca_file` adds trusted roots for the latter);
/// the status and (bounded) body of the answer.
pub async fn post_json(
    url: &str,
    json: String,
    timeout: Duration,
    ca_file: Option<&str>,
) -> Result<(StatusCode, Bytes), HttpClientError> {
    // Boxed: the TLS and HTTP state is large, and every connection's future that may call a
    // hook would otherwise carry it inline (about 4 KB per RTMP or HTTP-FLV player).
    Box::pin(request(Method::POST, url, Some(json), timeout, ca_file, MAX_ANSWER)).await
}

/// GETs `url`, reading at most `max_answer` bytes of the answer (the rest is not waited for).
pub async fn get(
    url: &str,
    timeout: Duration,
    ca_file: Option<&str>,
    max_answer: usize,
) -> Result<(StatusCode, Bytes), HttpClientError> {
    Box::pin(request(Method::GET, url, None, timeout, ca_file, max_answer)).await
}

async fn request(
    method: Method,
    url: &str,
    json: Option<String>,
    timeout: Duration,
    ca_file: Option<&str>,
    max_answer: usize,
) -> Result<(StatusCode, Bytes), HttpClientError> {
    let uri: hyper::Uri = url.parse().map_err(|_| HttpClientError::BadUrl(url.to_owned()))?;
    let secure = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(HttpClientError::BadUrl(url.to_owned())),
    };
    let host = uri.host().ok_or_else(|| HttpClientError::BadUrl(url.to_owned()))?;
    // `[::1]` in a URL is the address `::1`.
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let authority = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_else(|| host.clone());
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut request = Request::builder().method(method).uri(path).header(hyper::header::HOST, authority);
    if json.is_some() {
        request = request.header(hyper::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(json.map(Bytes::from).unwrap_or_default()))
        .map_err(|e| HttpClientError::Request(e.to_string()))?;
    let exchange = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| HttpClientError::Request(format!("connect {host}:{port}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        if !secure {
            return exchange(tcp, request, max_answer).await;
        }
        let name = ServerName::try_from(host.clone()).map_err(|_| HttpClientError::BadUrl(url.to_owned()))?;
        let connector = TlsConnector::from(tls_config(ca_file)?);
        let tls = connector.connect(name, tcp).await.map_err(|e| HttpClientError::Tls(e.to_string()))?;
        exchange(tls, request, max_answer).await
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| HttpClientError::Timeout(timeout))?
}

/// One request on a fresh connection, the answer read up to `max_answer` bytes.
async fn exchange<S>(
    stream: S,
    request: Request<Full<Bytes>>,
    max_answer: usize,
) -> Result<(StatusCode, Bytes), HttpClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpClientError::Request(e.to_string()))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender.send_request(request).await.map_err(|e| HttpClientError::Request(e.to_string()))?;
    let status = response.status();
    if max_answer < MAX_ANSWER {
        // A prefix is all the caller wants (on_hls_notify reads a few bytes, as SRS).
        let mut body = response.into_body();
        let mut read = Vec::new();
        while read.len() < max_answer {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        read.extend_from_slice(&data[..data.len().min(max_answer - read.len())]);
                    }
                }
                Some(Err(e)) => return Err(HttpClientError::Body(e.to_string())),
                None => break,
            }
        }
        return Ok((status, Bytes::from(read)));
    }
    let body = Limited::new(response.into_body(), max_answer)
        .collect()
        .await
        .map_err(|e| HttpClientError::Body(e.to_string()))?
        .to_bytes();
    Ok((status, body))
}

/// The client TLS settings for `ca_file` (the system's roots plus its certificates), made once
/// per file.
fn tls_config(ca_file: Option<&str>) -> Result<Arc<ClientConfig>, HttpClientError> {
    static CONFIGS: OnceLock<Mutex<HashMap<Option<String>, Arc<ClientConfig>>>> = OnceLock::new();
    let configs = CONFIGS.get_or_init(Mutex::default);
    let key = ca_file.map(str::to_owned);
    if let Some(config) = configs.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(Arc::clone(config));
    }
    let mut roots = RootCertStore::empty();
    for cert in system_roots() {
        // A system root rustls cannot use is skipped, as browsers do.
        let _ = roots.add(cert.clone());
    }
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| HttpClientError::Tls(format!("cannot read CA certificates from `{path}`: {e}")))?;
        if certs.is_empty() {
            return Err(HttpClientError::Tls(format!("no PEM certificate in CA file `{path}`")));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| HttpClientError::Tls(format!("CA file `{path}`: {e}")))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let config = Arc::new(config);
    configs.lock().unwrap_or_else(|p| p.into_inner()).insert(key, Arc::clone(&config));
    Ok(config)
}

/// The system's trusted roots, read once (`/etc/ssl/certs` and friends; `SSL_CERT_FILE` wins).
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!("system root certificates: {error}");
        }
        found.certs
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_other_than_http_and_https_are_refused() {
        for url in ["ftp://127.0.0.1/x", "127.0.0.1:80/x", "https:///x"] {
            let error = post_json(url, "{}".into(), Duration::from_secs(1), None).await.unwrap_err();
            assert!(matches!(error, HttpClientError::BadUrl(_)), "{url}: {error}");
        }
    }

    #[tokio::test]
    async fn a_missing_ca_file_is_named() {
        let error = tls_config(Some("/nonexistent/ca.pem")).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }
}
