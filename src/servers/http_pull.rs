//! An HTTP GET whose body is read as it arrives (a live HTTP-FLV or MPEG-TS stream): one fresh
//! plain-TCP connection through hyper's HTTP/1.1 client, so chunked and close-delimited bodies
//! both work; redirects are followed; `get_all` reads a small body whole (a playlist). Used by `Ingest`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::codec::hls::resolve_uri;

#[derive(Debug, thiserror::Error)]
pub enum HttpPullError {
    #[error("not an http:// URL: `{0}`")]
    BadUrl(String),
    #[error("connect {address}: {source}")]
    Connect { address: String, source: std::io::Error },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("the server answered {0}")]
    Status(hyper::StatusCode),
    #[error("more than {MAX_REDIRECTS} redirects, the last to `{0}`")]
    TooManyRedirects(String),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
}

/// A response body being read.
pub struct HttpBody {
    body: Incoming,
    /// Where it came from, after redirects.
    url: String,
}

impl HttpBody {
    /// The URL answered, after redirects (what relative URIs in the body are relative to).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next piece of the body; `None` at its end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, HttpPullError> {
        loop {
            match self.body.frame().await {
                None => return Ok(None),
                Some(frame) => {
                    if let Ok(data) = frame?.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }
}

/// Redirects followed at most (an HLS server answers a playlist with a session's URL).
const MAX_REDIRECTS: usize = 5;

/// GETs `url` (`http://host[:port]/path`), following redirects; `Ok` once a 200 answer's head
/// arrived within `limit`.
pub async fn get(url: &str, limit: Duration) -> Result<HttpBody, HttpPullError> {
    let follow = async {
        let mut url = url.to_owned();
        for _ in 0..MAX_REDIRECTS {
            match get_once(&url).await? {
                Answer::Body(body) => return Ok(HttpBody { body, url }),
                Answer::Redirect(location) => url = resolve_uri(&url, &location),
            }
        }
        Err(HttpPullError::TooManyRedirects(url))
    };
    tokio::time::timeout(limit, follow).await.map_err(|_| HttpPullError::Timeout(limit))?
}

enum Answer {
    Body(Incoming),
    Redirect(String),
}

async fn get_once(url: &str) -> Result<Answer, HttpPullError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| HttpPullError::BadUrl(url.to_owned()))?;
    let (authority, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    if authority.is_empty() {
        return Err(HttpPullError::BadUrl(url.to_owned()));
    }
    let address = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let socket = TcpStream::connect(&address)
        .await
        .map_err(|source| HttpPullError::Connect { address: address.clone(), source })?;
    let _ = socket.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(socket)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, "srs-ingest")
        .body(Empty::<Bytes>::new())
        .map_err(|_| HttpPullError::BadUrl(url.to_owned()))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(hyper::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or(HttpPullError::Status(status))?;
        return Ok(Answer::Redirect(location.to_owned()));
    }
    if status != hyper::StatusCode::OK {
        return Err(HttpPullError::Status(status));
    }
    Ok(Answer::Body(response.into_body()))
}

/// GETs `url` and reads its whole body, at most `max_bytes` (a playlist), within `limit`; the
/// body and the URL that answered.
pub async fn get_all(url: &str, limit: Duration, max_bytes: usize) -> Result<(Bytes, String), HttpPullError> {
    let read = async {
        let mut body = get(url, limit).await?;
        let mut whole = bytes::BytesMut::new();
        while let Some(piece) = body.next().await? {
            if whole.len() + piece.len() > max_bytes {
                return Err(HttpPullError::TooLarge(max_bytes));
            }
            whole.extend_from_slice(&piece);
        }
        Ok((whole.freeze(), body.url))
    };
    tokio::time::timeout(limit, read).await.map_err(|_| HttpPullError::Timeout(limit))?
}
