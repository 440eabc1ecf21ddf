//! An SRT caller for pulling a stream (`srt://host:port?streamid=...`), used by `Ingest`: the
//! stream id is sent as written (percent-escapes decoded), so `#!::r=live/cam,m=request` plays
//! `live/cam` from an SRS-style server.

use std::net::SocketAddr;
use std::time::Duration;

use crate::codec::percent;
use srt_tokio::SrtSocket;

#[derive(Debug, thiserror::Error)]
pub enum SrtPullError {
    #[error("not an srt://host:port URL: `{0}`")]
    BadUrl(String),
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("srt: {0}")]
    Io(#[from] std::io::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// The address and stream id an `srt://` URL names.
pub fn parse(url: &str) -> Result<(String, Option<String>), SrtPullError> {
    let rest = url.strip_prefix("srt://").ok_or_else(|| SrtPullError::BadUrl(url.to_owned()))?;
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.trim_end_matches('/');
    if authority.is_empty() || !authority.contains(':') {
        return Err(SrtPullError::BadUrl(url.to_owned()));
    }
    let stream_id =
        query.split('&').find_map(|pair| pair.strip_prefix("streamid=")).map(percent::decode_lossy);
    Ok((authority.to_owned(), stream_id))
}

/// Calls `url`; `Ok` once the handshake is done within `limit`.
pub async fn call(url: &str, limit: Duration) -> Result<SrtSocket, SrtPullError> {
    let (authority, stream_id) = parse(url)?;
    let start = async {
        let address: SocketAddr = tokio::net::lookup_host(&authority)
            .await
            .ok()
            .and_then(|mut found| found.next())
            .ok_or_else(|| SrtPullError::Resolve(authority.clone()))?;
        Ok::<_, SrtPullError>(SrtSocket::builder().call(address, stream_id.as_deref()).await?)
    };
    tokio::time::timeout(limit, start).await.map_err(|_| SrtPullError::Timeout(limit))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_address_and_stream_id() {
        let (address, id) = parse("srt://127.0.0.1:10080?streamid=#!::r=live/cam,m=request").unwrap();
        assert_eq!((address.as_str(), id.as_deref()), ("127.0.0.1:10080", Some("#!::r=live/cam,m=request")));
        let (_, id) = parse("srt://h:1/?latency=20&streamid=%23!%3A%3Ar%3Dlive%2Fcam").unwrap();
        assert_eq!(id.as_deref(), Some("#!::r=live/cam"));
        assert!(parse("srt://h").is_err() && parse("rtmp://h:1/a/b").is_err());
    }
}
