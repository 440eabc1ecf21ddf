//! Live streams served on the raw connection, past hyper: a route that takes a request this way
//! (`HttpRoute::takes_raw`) gets the plain TCP socket itself, so the stream's hub can write
//! batches to it directly (`graph::hub::DirectSink`), as RTMP players are served.
//!
//! The request head is peeked (not consumed) and parsed, peeked again while it is incomplete (a
//! client may write its request line and its headers apart); when no route takes it, or it is
//! still incomplete after `PARTIAL_WAIT`, the connection goes to hyper untouched.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::Request;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::http::{RawFuture, RouteTable};

/// Largest request head looked at (a player's GET is far smaller).
const MAX_HEAD: usize = 8 * 1024;
/// Most header lines parsed.
const MAX_HEADERS: usize = 48;
/// How long a connection may stay silent before it is handed to hyper anyway.
const PEEK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the rest of a request head that came in part is waited for. The socket stays readable
/// while peeked bytes wait, so the wait is a few short sleeps (rare: players send one segment).
const PARTIAL_WAIT: Duration = Duration::from_secs(1);
const PARTIAL_POLL: Duration = Duration::from_millis(5);

/// The connection served by a route that takes it raw, or given back for hyper.
pub async fn take_raw(
    mut stream: TcpStream,
    table: &RouteTable,
    peer: SocketAddr,
    id: u64,
) -> Result<RawFuture, TcpStream> {
    let mut buffer = vec![0u8; MAX_HEAD];
    let mut peeked = match tokio::time::timeout(PEEK_TIMEOUT, stream.peek(&mut buffer)).await {
        Ok(Ok(n)) => n,
        _ => return Err(stream),
    };
    let partial_since = tokio::time::Instant::now();
    let (request, head_len) = loop {
        match parse_head_so_far(&buffer[..peeked]) {
            Ok(Some(head)) => break head,
            Ok(None) if peeked < MAX_HEAD && partial_since.elapsed() < PARTIAL_WAIT => {
                tokio::time::sleep(PARTIAL_POLL).await;
                peeked = match stream.peek(&mut buffer).await {
                    Ok(n) if n > 0 => n,
                    _ => return Err(stream),
                };
            }
            _ => return Err(stream),
        }
    };
    let routes = table.snapshot();
    let Some(route) = routes.iter().find(|route| route.takes_raw(&request)) else { return Err(stream) };
    if stream.read_exact(&mut buffer[..head_len]).await.is_err() {
        return Err(stream);
    }
    Ok(route.serve_raw(request, stream, peer, id))
}

/// A complete request head: the request (without body) and its length in bytes. Public for the
/// `http_head` fuzz target (`fuzz/targets/mod.rs`).
pub fn parse_head(bytes: &[u8]) -> Option<(Request<()>, usize)> {
    parse_head_so_far(bytes).ok().flatten()
}

/// What the bytes so far hold of a request head: the request and its length once complete,
/// `None` while valid but incomplete, an error when it is no HTTP request head.
fn parse_head_so_far(bytes: &[u8]) -> Result<Option<(Request<()>, usize)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(bytes).map_err(|_| ())? {
        httparse::Status::Complete(head_len) => head_len,
        httparse::Status::Partial => return Ok(None),
    };
    let (Some(method), Some(path)) = (parsed.method, parsed.path) else { return Err(()) };
    let mut request = Request::builder().method(method).uri(path);
    for header in parsed.headers.iter() {
        request = request.header(header.name, header.value);
    }
    Ok(Some((request.body(()).map_err(|_| ())?, head_len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_whole_or_not_at_all() {
        let head =
            b"GET /live/a.flv?token=1 HTTP/1.1\r\nHost: example.com:8080\r\nReferer: http://x/\r\n\r\n";
        let (request, len) = parse_head(head).unwrap();
        assert_eq!(len, head.len());
        assert_eq!(request.method(), hyper::Method::GET);
        assert_eq!(request.uri().path(), "/live/a.flv");
        assert_eq!(request.uri().query(), Some("token=1"));
        assert_eq!(request.headers()["host"], "example.com:8080");
        assert!(parse_head(&head[..head.len() - 2]).is_none(), "a partial head is no request yet");
        assert!(matches!(parse_head_so_far(&head[..20]), Ok(None)), "the rest is waited for");
        assert!(parse_head(b"\x16\x03\x01 not http\r\n\r\n").is_none());
        assert!(parse_head_so_far(b"\x16\x03\x01 not http").is_err(), "goes to hyper at once");
    }
}
