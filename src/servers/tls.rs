//! TLS for HTTP servers (HTTPS): the acceptor built once from a listener's PEM files.
//!
//! rustls with the `ring` provider, TLS 1.2 and 1.3, ALPN `http/1.1` only (no HTTP/2).

use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::graph::TlsFiles;

/// Longest a peer may take to finish its TLS handshake before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads the certificate chain and key of `files` and builds the acceptor. Errors name the
/// field (`tls.cert` / `tls.key`) and the file.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| format!("field `tls.cert`: cannot read certificates from `{}`: {e}", files.cert))?;
    if certs.is_empty() {
        return Err(format!("field `tls.cert`: no PEM certificate in `{}`", files.cert));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("field `tls.key`: cannot read a private key from `{}`: {e}", files.key))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "fields `tls.cert` `{}` and `tls.key` `{}` do not make a key pair: {e}",
                files.cert, files.key
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named_with_its_field() {
        let files =
            TlsFiles { cert: "/nonexistent/server.crt".into(), key: "/nonexistent/server.key".into() };
        let error = acceptor(&files).err().expect("no such file");
        assert!(error.contains("tls.cert") && error.contains("/nonexistent/server.crt"), "{error}");
    }
}
