//! An HTTP GET whose body is read as it arrives (a live HTTP-FLV or MPEG-TS stream): one fresh
//! plain-TCP connection through hyper's HTTP/1.1 client, so chunked and close-delimited bodies
//! both work. Used by `Ingest`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

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
}

/// A response body being read.
pub struct HttpBody(Incoming);

impl HttpBody {
    /// The next piece of the body; `None` at its end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, HttpPullError> {
        loop {
            match self.0.frame().await {
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

/// GETs `url` (`http://host[:port]/path`); `Ok` once a 200 answer's head arrived within `limit`.
pub async fn get(url: &str, limit: Duration) -> Result<HttpBody, HttpPullError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| HttpPullError::BadUrl(url.to_owned()))?;
    let (authority, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    if authority.is_empty() {
        return Err(HttpPullError::BadUrl(url.to_owned()));
    }
    let address = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let start = async {
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
        if response.status() != hyper::StatusCode::OK {
            return Err(HttpPullError::Status(response.status()));
        }
        Ok(HttpBody(response.into_body()))
    };
    tokio::time::timeout(limit, start).await.map_err(|_| HttpPullError::Timeout(limit))?
}
