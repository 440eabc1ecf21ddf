//! HTTP digest authentication with MD5 (RFC 2617 without qop), as GB28181 devices answer a
//! REGISTER challenge: response = MD5(MD5(user:realm:password):nonce:MD5(method:uri)).

use md5::{Digest, Md5};

fn hex_md5(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `response` a client with `password` must send.
pub fn response(user: &str, realm: &str, password: &str, method: &str, uri: &str, nonce: &str) -> String {
    let ha1 = hex_md5(&format!("{user}:{realm}:{password}"));
    let ha2 = hex_md5(&format!("{method}:{uri}"));
    hex_md5(&format!("{ha1}:{nonce}:{ha2}"))
}

/// The `WWW-Authenticate` value of a challenge.
pub fn challenge(realm: &str, nonce: &str) -> String {
    format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm=MD5")
}

/// The `Authorization` value answering a challenge.
pub fn authorization(
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
) -> String {
    let response = response(user, realm, password, method, uri, nonce);
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2069_example() {
        // RFC 2069's example (its errata's corrected response).
        let r = response(
            "Mufasa",
            "testrealm@host.com",
            "CircleOfLife",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        );
        assert_eq!(r, "1949323746fe6a43ef61f9606e7febea");
        assert_eq!(hex_md5(""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
