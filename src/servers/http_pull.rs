//! An HTTP GET whose body is read as it arrives (a live HTTP-FLV or MPEG-TS stream), through
//! hyper's HTTP/1.1 client over plain TCP, so chunked and close-delimited bodies both work;
//! redirects are followed; `get_all` reads a small body whole (a playlist). Used by `Ingest`.
//!
//! `get` opens a fresh connection. An `HttpClient` keeps its last connection open for the next
//! request to the same server: an HLS pull asks for a playlist every second and a segment every
//! few, and a TCP connect, an HTTP handshake and a connection task per request were most of
//! what such a pull cost beyond the demuxing.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
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
    /// The answer's `Content-Length`: a file's size; a live stream has none (chunked, or until
    /// the connection closes).
    length: Option<u64>,
    /// Where it came from, after redirects.
    url: String,
}

impl HttpBody {
    /// The URL answered, after redirects (what relative URIs in the body are relative to).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body's announced length: `Some` for a file, `None` for a live stream.
    pub fn content_length(&self) -> Option<u64> {
        self.length
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

/// GETs `url` (`http://host[:port]/path`) on a fresh connection, following redirects; `Ok` once
/// a 200 answer's head arrived within `limit`.
pub async fn get(url: &str, limit: Duration) -> Result<HttpBody, HttpPullError> {
    HttpClient::default().get(url, limit).await
}

/// GETs `url` on a fresh connection and reads its whole body, at most `max_bytes`, within `limit`.
pub async fn get_all(url: &str, limit: Duration, max_bytes: usize) -> Result<(Bytes, String), HttpPullError> {
    HttpClient::default().get_all(url, limit, max_bytes).await
}

/// How long a kept connection may take to be free again (its last body read through) before a
/// fresh one is opened instead.
const REUSE_WAIT: Duration = Duration::from_millis(200);

/// Requests in series, on one kept-alive connection while they go to the same server. A request
/// made before the previous body was read through opens a fresh connection (the old one closes
/// when that body is dropped).
#[derive(Default)]
pub struct HttpClient {
    kept: Option<Kept>,
}

/// A connection left open after its last answer.
struct Kept {
    authority: String,
    sender: SendRequest<Empty<Bytes>>,
}

/// Where a URL points.
struct Target {
    authority: String,
    address: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, HttpPullError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| HttpPullError::BadUrl(url.to_owned()))?;
        let (authority, path) =
            rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
        if authority.is_empty() {
            return Err(HttpPullError::BadUrl(url.to_owned()));
        }
        let address = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
        Ok(Target { authority: authority.to_owned(), address, path })
    }
}

impl HttpClient {
    /// GETs `url`, following redirects; `Ok` once a 200 answer's head arrived within `limit`.
    pub async fn get(&mut self, url: &str, limit: Duration) -> Result<HttpBody, HttpPullError> {
        let follow = async {
            let mut url = url.to_owned();
            for _ in 0..MAX_REDIRECTS {
                match self.get_once(&url).await? {
                    Answer::Body(body) => {
                        let length = hyper::body::Body::size_hint(&body).exact();
                        return Ok(HttpBody { body, length, url });
                    }
                    Answer::Redirect(location) => url = resolve_uri(&url, &location),
                }
            }
            Err(HttpPullError::TooManyRedirects(url))
        };
        tokio::time::timeout(limit, follow).await.map_err(|_| HttpPullError::Timeout(limit))?
    }

    /// GETs `url` and reads its whole body, at most `max_bytes` (a playlist), within `limit`; the
    /// body and the URL that answered.
    pub async fn get_all(
        &mut self,
        url: &str,
        limit: Duration,
        max_bytes: usize,
    ) -> Result<(Bytes, String), HttpPullError> {
        let read = async {
            let mut body = self.get(url, limit).await?;
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

    async fn get_once(&mut self, url: &str) -> Result<Answer, HttpPullError> {
        let target = Target::parse(url)?;
        if let Some(Kept { authority, mut sender }) = self.kept.take() {
            if authority == target.authority
                && matches!(tokio::time::timeout(REUSE_WAIT, sender.ready()).await, Ok(Ok(())))
            {
                match request(&mut sender, &target, url).await {
                    // A kept connection the server closed meanwhile fails here: a GET is safe
                    // to send again on a fresh one.
                    Err(HttpPullError::Http(_)) => {}
                    answer => {
                        self.kept = Some(Kept { authority, sender });
                        return answer;
                    }
                }
            }
        }
        let mut sender = connect(&target).await?;
        let answer = request(&mut sender, &target, url).await?;
        self.kept = Some(Kept { authority: target.authority, sender });
        Ok(answer)
    }
}

enum Answer {
    Body(Incoming),
    Redirect(String),
}

async fn connect(target: &Target) -> Result<SendRequest<Empty<Bytes>>, HttpPullError> {
    let socket = TcpStream::connect(&target.address)
        .await
        .map_err(|source| HttpPullError::Connect { address: target.address.clone(), source })?;
    let _ = socket.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(socket)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn request(
    sender: &mut SendRequest<Empty<Bytes>>,
    target: &Target,
    url: &str,
) -> Result<Answer, HttpPullError> {
    let request = Request::get(target.path.as_str())
        .header(hyper::header::HOST, target.authority.as_str())
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper::Response;
    use tokio::net::TcpListener;

    use super::*;

    /// A server answering `/redirect` with a 302 to `/body`, `/missing` with a 404, `/big` with
    /// 8 MiB and anything else with its path;
    /// counts the connections it accepted.
    async fn server(keep_alive: bool) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let service = service_fn(|request: Request<Incoming>| async move {
                    let path = request.uri().path().to_owned();
                    let body = if path == "/big" {
                        Bytes::from(vec![0; 8 << 20])
                    } else {
                        Bytes::from(path.clone())
                    };
                    let mut response = Response::new(Full::new(body));
                    if path == "/missing" {
                        *response.status_mut() = hyper::StatusCode::NOT_FOUND;
                    }
                    if path == "/redirect" {
                        *response.status_mut() = hyper::StatusCode::FOUND;
                        response.headers_mut().insert(hyper::header::LOCATION, "/body".parse().unwrap());
                    }
                    Ok::<_, std::convert::Infallible>(response)
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .keep_alive(keep_alive)
                        .serve_connection(TokioIo::new(socket), service),
                );
            }
        });
        (base, accepted)
    }

    #[tokio::test]
    async fn requests_in_series_share_one_connection() {
        let (base, accepted) = server(true).await;
        let mut client = HttpClient::default();
        for i in 0..5 {
            let (body, answered) =
                client.get_all(&format!("{base}/p{i}"), Duration::from_secs(5), 1024).await.unwrap();
            assert_eq!(body, format!("/p{i}"));
            assert_eq!(answered, format!("{base}/p{i}"));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_server_that_closes_after_each_answer_gets_a_fresh_connection_each_time() {
        let (base, accepted) = server(false).await;
        let mut client = HttpClient::default();
        for i in 0..3 {
            let (body, _) =
                client.get_all(&format!("{base}/q{i}"), Duration::from_secs(5), 1024).await.unwrap();
            assert_eq!(body, format!("/q{i}"));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_body_left_unread_costs_a_fresh_connection_not_a_wrong_answer() {
        let (base, accepted) = server(true).await;
        let mut client = HttpClient::default();
        let unread = client.get(&format!("{base}/big"), Duration::from_secs(5)).await.unwrap();
        assert_eq!(unread.content_length(), Some(8 << 20), "a file's body has its length");
        drop(unread);
        let (body, answered) =
            client.get_all(&format!("{base}/redirect"), Duration::from_secs(5), 1024).await.unwrap();
        assert_eq!(body, "/body");
        assert_eq!(answered, format!("{base}/body"));
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "the unread body's connection is not reused");
    }

    #[tokio::test]
    async fn an_error_status_on_a_kept_connection_is_the_answer_not_a_reason_to_retry() {
        let (base, accepted) = server(true).await;
        let mut client = HttpClient::default();
        assert!(client.get_all(&format!("{base}/a"), Duration::from_secs(5), 1024).await.is_ok());
        let err = client.get_all(&format!("{base}/missing"), Duration::from_secs(5), 1024).await.unwrap_err();
        assert!(matches!(err, HttpPullError::Status(hyper::StatusCode::NOT_FOUND)), "{err}");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }
}
