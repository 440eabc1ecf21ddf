//! Listeners a node needs: graph-scoped sockets shared by every node that names the same address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Tcp,
    Udp,
}

/// One listening socket a node needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub addr: SocketAddr,
    pub transport: Transport,
    /// The server behind the socket ("rtmp", "http"): nodes of the same protocol share it.
    pub protocol: &'static str,
    /// A role only one node may hold on one address (e.g. "rtmp publish"), if any.
    pub exclusive_role: Option<&'static str>,
    /// TLS on this address (HTTPS): every node sharing the server must name the same files.
    pub tls: Option<TlsFiles>,
}

/// The PEM files of a TLS listener: `tls = Some { cert = "./conf/server.crt", key = "./conf/server.key" }`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize, serde_dhall::StaticType,
)]
pub struct TlsFiles {
    /// The certificate chain (PEM), leaf first.
    pub cert: String,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: String,
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        let secure = if self.tls.is_some() { "s" } else { "" };
        write!(f, "{}{secure} {}/{}", self.protocol, self.addr, transport)
    }
}

/// The sockets a node's `listen` field names: one or more SRS-style addresses separated by
/// spaces (`1935`, `1935 19350`, `127.0.0.1:1935 [::]:1935`), as SRS's `listen 1935 19350;`.
pub fn listens_on(
    field: &str,
    transport: Transport,
    protocol: &'static str,
    exclusive_role: Option<&'static str>,
    tls: Option<TlsFiles>,
) -> Result<Vec<Listen>, String> {
    let mut listens = Vec::new();
    for text in field.split_whitespace() {
        let addr = parse_listen(text).map_err(|e| format!("field `listen`: {e}"))?;
        if listens.iter().all(|listen: &Listen| listen.addr != addr) {
            listens.push(Listen { addr, transport, protocol, exclusive_role, tls: tls.clone() });
        }
    }
    if listens.is_empty() {
        return Err("field `listen`: no address (write a port like `1935` or `ip:port`)".into());
    }
    Ok(listens)
}

/// Parses an SRS-style listen address: `1935`, `127.0.0.1:1935` or `[::1]:1935`.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    text.parse::<SocketAddr>()
        .map_err(|_| format!("`{text}` is not a listen address (write a port like `1935` or `ip:port`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_srs_listen_forms() {
        assert_eq!(parse_listen("1935").unwrap().to_string(), "0.0.0.0:1935");
        assert_eq!(parse_listen("127.0.0.1:8080").unwrap().port(), 8080);
        assert_eq!(parse_listen("[::1]:80").unwrap().port(), 80);
        assert!(parse_listen("localhost").unwrap_err().contains("localhost"));
    }

    #[test]
    fn a_listen_field_names_one_or_more_addresses() {
        let listens =
            listens_on(" 1935  127.0.0.1:19350 [::]:1936 1935", Transport::Tcp, "rtmp", None, None).unwrap();
        let addrs: Vec<String> = listens.iter().map(|l| l.addr.to_string()).collect();
        assert_eq!(addrs, ["0.0.0.0:1935", "127.0.0.1:19350", "[::]:1936"]);
        assert!(listens.iter().all(|l| l.protocol == "rtmp" && l.transport == Transport::Tcp));
        assert!(listens_on("", Transport::Tcp, "rtmp", None, None).unwrap_err().contains("no address"));
        assert!(listens_on("1935 x", Transport::Tcp, "rtmp", None, None).unwrap_err().contains("`x`"));
    }
}
