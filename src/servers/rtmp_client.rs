//! The async side of our sans-IO RTMP client (`codec::rtmp::ClientSession`) for pulling a stream:
//! connect, play, then one media message at a time. Used by `Ingest`; timeouts are the caller's
//! (`play` takes one for the whole start).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::codec::rtmp::{ClientConfig, ClientEvent, ClientIntent, ClientSession, MediaMessage};

#[derive(Debug, thiserror::Error)]
pub enum RtmpClientError {
    #[error("not an rtmp:// URL with host, app and stream: `{0}`")]
    BadUrl(String),
    #[error("connect {address}: {source}")]
    Connect { address: String, source: std::io::Error },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the server refused: {code}: {description}")]
    Rejected { code: String, description: String },
    #[error("the server redirected the play to {0} (rtmp 302)")]
    Redirected(String),
    #[error("the server closed the connection")]
    Closed,
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("rtmp: {0}")]
    Protocol(#[from] crate::codec::rtmp::RtmpError),
}

/// `host:port` of an `rtmp://` URL (port 1935 when none).
pub fn rtmp_address(url: &str) -> Result<String, RtmpClientError> {
    let bad = || RtmpClientError::BadUrl(url.to_owned());
    let rest = url.strip_prefix("rtmp://").ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || !rest.contains('/') {
        return Err(bad());
    }
    Ok(if authority.contains(':') { authority.to_owned() } else { format!("{authority}:1935") })
}

/// Connects to `url` (handshake and `connect` with its tcUrl) and hangs up once the server
/// answered: `Ok` when it accepted the connect. An edge's token traverse (SRS's `connect_app`
/// to the origin) asks the origin's `on_connect` this way.
pub async fn connect_only(url: &str, limit: Duration) -> Result<(), RtmpClientError> {
    let address = rtmp_address(url)?;
    let start = async {
        let socket = TcpStream::connect(&address)
            .await
            .map_err(|source| RtmpClientError::Connect { address: address.clone(), source })?;
        let _ = socket.set_nodelay(true);
        let session = ClientSession::new(ClientConfig::from_url(url, ClientIntent::Play));
        let mut client = RtmpPlayer { socket, session, buffer: vec![0; 16 * 1024] };
        loop {
            client.read_some().await?;
            while let Some(event) = client.session.poll_event() {
                match event {
                    ClientEvent::Connected => return Ok(()),
                    ClientEvent::Rejected { code, description } => {
                        return Err(RtmpClientError::Rejected { code, description })
                    }
                    _ => {}
                }
            }
        }
    };
    tokio::time::timeout(limit, start).await.map_err(|_| RtmpClientError::Timeout(limit))?
}

/// A stream being played.
pub struct RtmpPlayer {
    socket: TcpStream,
    session: ClientSession,
    buffer: Vec<u8>,
}

impl RtmpPlayer {
    /// Connects to `url` and plays it, following one RTMP 302 as SRS's edge does; `Ok` once the
    /// server said Play.Start.
    pub async fn play_following(url: &str, limit: Duration) -> Result<RtmpPlayer, RtmpClientError> {
        match RtmpPlayer::play(url, limit).await {
            Err(RtmpClientError::Redirected(to)) => {
                tracing::info!(from = %url, %to, "rtmp 302: playing where the server redirected");
                RtmpPlayer::play(&to, limit).await
            }
            other => other,
        }
    }

    /// Connects to `url` and plays it; `Ok` once the server said Play.Start.
    pub async fn play(url: &str, limit: Duration) -> Result<RtmpPlayer, RtmpClientError> {
        let address = rtmp_address(url)?;
        let start = async {
            let socket = TcpStream::connect(&address)
                .await
                .map_err(|source| RtmpClientError::Connect { address: address.clone(), source })?;
            let _ = socket.set_nodelay(true);
            let session = ClientSession::new(ClientConfig::from_url(url, ClientIntent::Play));
            let mut player = RtmpPlayer { socket, session, buffer: vec![0; 64 * 1024] };
            loop {
                player.read_some().await?;
                while let Some(event) = player.session.poll_event() {
                    match event {
                        ClientEvent::Playing => return Ok(player),
                        ClientEvent::Rejected { code, description } => {
                            return Err(RtmpClientError::Rejected { code, description })
                        }
                        ClientEvent::Redirected { url } => return Err(RtmpClientError::Redirected(url)),
                        _ => {}
                    }
                }
            }
        };
        tokio::time::timeout(limit, start).await.map_err(|_| RtmpClientError::Timeout(limit))?
    }

    /// The next media message; `None` at the end of the stream (StreamEOF or the server closed).
    pub async fn next(&mut self) -> Result<Option<MediaMessage>, RtmpClientError> {
        loop {
            while let Some(event) = self.session.poll_event() {
                match event {
                    ClientEvent::Media(media) => return Ok(Some(media)),
                    ClientEvent::StreamEof => return Ok(None),
                    ClientEvent::Rejected { code, description } => {
                        return Err(RtmpClientError::Rejected { code, description })
                    }
                    ClientEvent::Redirected { url } => return Err(RtmpClientError::Redirected(url)),
                    _ => {}
                }
            }
            match self.read_some().await {
                Ok(()) => {}
                Err(RtmpClientError::Closed) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes what the session has queued, then feeds it one read.
    async fn read_some(&mut self) -> Result<(), RtmpClientError> {
        while let Some(bytes) = self.session.poll_output() {
            self.socket.write_all(&bytes).await?;
        }
        let n = self.socket.read(&mut self.buffer).await?;
        if n == 0 {
            return Err(RtmpClientError::Closed);
        }
        self.session.handle_input(&self.buffer[..n])?;
        Ok(())
    }
}
