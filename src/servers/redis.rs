//! A tiny Redis client over `codec::resp`: one connection per batch of commands (pipelined),
//! each batch bounded by a timeout. Enough for a stream directory (SET with EX, GET, DEL); no
//! pooling, as a directory sees a few commands per second.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::codec::resp::{self, Reply, RespError};

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("redis `{0}` is not `redis://host:port` or `host:port`")]
    BadAddress(String),
    #[error("redis {address}: {source}")]
    Io { address: String, source: std::io::Error },
    #[error("redis {0}: no answer within {1:?}")]
    Timeout(String, Duration),
    #[error("redis {0}: closed the connection")]
    Closed(String),
    #[error("redis {0}: {1}")]
    Protocol(String, RespError),
}

/// Where the directory lives.
#[derive(Debug, Clone)]
pub struct Redis {
    address: String,
    timeout: Duration,
}

impl Redis {
    /// `redis://host:port` (or `host:port`; port 6379 when none).
    pub fn new(url: &str, timeout: Duration) -> Result<Redis, RedisError> {
        let rest = url.strip_prefix("redis://").unwrap_or(url).trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') || rest.contains('@') {
            return Err(RedisError::BadAddress(url.to_owned()));
        }
        let address = if rest.contains(':') { rest.to_owned() } else { format!("{rest}:6379") };
        Ok(Redis { address, timeout })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Sends `commands` on one connection and reads one reply each.
    pub async fn run(&self, commands: &[Vec<String>]) -> Result<Vec<Reply>, RedisError> {
        let work = async {
            let io = |source| RedisError::Io { address: self.address.clone(), source };
            let mut socket = TcpStream::connect(&self.address).await.map_err(io)?;
            let mut request = Vec::new();
            for command in commands {
                let args: Vec<&str> = command.iter().map(String::as_str).collect();
                request.extend(resp::encode(&args));
            }
            socket.write_all(&request).await.map_err(io)?;
            let mut replies = Vec::with_capacity(commands.len());
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 4096];
            while replies.len() < commands.len() {
                match resp::parse(&buffer).map_err(|e| RedisError::Protocol(self.address.clone(), e))? {
                    Some((reply, used)) => {
                        buffer.drain(..used);
                        replies.push(reply);
                    }
                    None => {
                        let n = socket.read(&mut chunk).await.map_err(io)?;
                        if n == 0 {
                            return Err(RedisError::Closed(self.address.clone()));
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                }
            }
            Ok(replies)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| RedisError::Timeout(self.address.clone(), self.timeout))?
    }

    /// The value of `key`, `None` when missing.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, RedisError> {
        let replies = self.run(&[vec!["GET".into(), key.into()]]).await?;
        Ok(match replies.into_iter().next() {
            Some(Reply::Bulk(value)) => Some(value),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_the_url_or_host_port_form() {
        let t = Duration::from_secs(1);
        assert_eq!(Redis::new("redis://10.0.0.1:6380", t).unwrap().address(), "10.0.0.1:6380");
        assert_eq!(Redis::new("h", t).unwrap().address(), "h:6379");
        assert!(Redis::new("redis://user@h/0", t).is_err());
    }
}
