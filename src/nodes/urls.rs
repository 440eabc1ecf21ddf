//! The URLs a user publishes to or plays from, derived from the graph's nodes (their listen
//! addresses, mounts and file paths) and logged when the server starts, one line each:
//! `publish: rtmp://127.0.0.1:1935/live/livestream`. Streams are named by example
//! (`live/livestream`): the server takes any app and stream.

use std::net::SocketAddr;

use super::GraphFile;
use crate::graph::{Catalogue, Listen};

/// The app and stream the URLs name.
pub const EXAMPLE_APP: &str = "live";
pub const EXAMPLE_STREAM: &str = "livestream";
/// What `[vhost]` stands for in file paths.
const DEFAULT_VHOST: &str = "__defaultVhost__";

/// One URL and what a user does with it ("publish", "play", "api", ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedUrl {
    pub action: &'static str,
    pub url: String,
}

/// Every node's URLs, with the node's name, in the graph's order.
pub fn graph_urls(file: &GraphFile) -> Vec<(String, ServedUrl)> {
    let mut all = Vec::new();
    for node in &file.nodes {
        let listens = node.node.listens().unwrap_or_default();
        let (_, kind) = node.node.kind();
        for url in kind.served_urls(&listens, file) {
            all.push((node.name.clone(), url));
        }
    }
    all
}

/// `scheme://host:port<rest>` for each listen address; `http` becomes `https` on a TLS listener.
pub fn on_listens(listens: &[Listen], action: &'static str, scheme: &str, rest: &str) -> Vec<ServedUrl> {
    listens
        .iter()
        .map(|listen| {
            let scheme = if listen.tls.is_some() && scheme == "http" { "https" } else { scheme };
            ServedUrl { action, url: format!("{scheme}://{}{rest}", authority(listen.addr)) }
        })
        .collect()
}

/// `host:port` a local user reaches: the loopback address for a listener on every address.
pub fn authority(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => format!("127.0.0.1:{}", v4.port()),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => format!("[::1]:{}", v6.port()),
        other => other.to_string(),
    }
}

/// A mount (`[vhost]/[app]/[stream].flv`) filled for the example stream of the default vhost,
/// as an absolute URL path: `/live/livestream.flv` (a leading `[vhost]` routes by Host header).
pub fn example_path(mount: &str) -> String {
    fill(mount.strip_prefix("[vhost]").unwrap_or(mount))
}

/// A template filled for the example stream of the default vhost, with a leading `/`.
fn fill(template: &str) -> String {
    let filled = template
        .replace("[vhost]", DEFAULT_VHOST)
        .replace("[app]", EXAMPLE_APP)
        .replace("[stream]", EXAMPLE_STREAM);
    format!("/{}", filled.trim_start_matches('/'))
}

/// Where the file `root`/`template` (filled for the example stream) is below `dir`, as a URL
/// path (`/live/livestream.m3u8`); `None` when it is not below `dir`. Paths compare as written
/// (`./objs/x` and `objs/x` are the same; no link is followed).
pub fn below(dir: &str, root: &str, template: &str) -> Option<String> {
    let file = format!("{}{}", root.trim_end_matches('/'), fill(template));
    let (dir_absolute, dir_parts) = components(dir);
    let (file_absolute, file_parts) = components(&file);
    if dir_absolute != file_absolute || !file_parts.starts_with(&dir_parts) {
        return None;
    }
    Some(format!("/{}", file_parts[dir_parts.len()..].join("/")))
}

fn components(path: &str) -> (bool, Vec<&str>) {
    (path.starts_with('/'), path.split('/').filter(|part| !part.is_empty() && *part != ".").collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Transport;

    fn listen(addr: &str, tls: bool) -> Listen {
        let tls = tls.then(|| crate::graph::TlsFiles { cert: "c".into(), key: "k".into() });
        Listen {
            addr: crate::graph::listen::parse_listen(addr).unwrap(),
            transport: Transport::Tcp,
            protocol: "http",
            exclusive_role: None,
            tls,
        }
    }

    #[test]
    fn urls_name_a_reachable_host_and_the_scheme_of_the_listener() {
        let urls = on_listens(
            &[listen("8080", false), listen("10.1.2.3:8088", true), listen("[::]:8080", false)],
            "play",
            "http",
            "/live/livestream.flv",
        );
        let urls: Vec<&str> = urls.iter().map(|u| u.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://127.0.0.1:8080/live/livestream.flv",
                "https://10.1.2.3:8088/live/livestream.flv",
                "http://[::1]:8080/live/livestream.flv"
            ]
        );
    }

    #[test]
    fn templates_are_filled_for_the_default_vhost() {
        assert_eq!(example_path("[vhost]/[app]/[stream].flv"), "/live/livestream.flv");
        assert_eq!(example_path("/[app]/[stream].ts"), "/live/livestream.ts");
        assert_eq!(fill("[vhost]/[app]/[stream].m3u8"), "/__defaultVhost__/live/livestream.m3u8");
    }

    #[test]
    fn files_below_a_served_directory_have_a_url_path() {
        let m3u8 = "[app]/[stream].m3u8";
        assert_eq!(
            below("./objs/nginx/html", "./objs/nginx/html", m3u8).as_deref(),
            Some("/live/livestream.m3u8")
        );
        assert_eq!(
            below("objs/nginx/html/", "./objs/nginx/html/hls", m3u8).as_deref(),
            Some("/hls/live/livestream.m3u8")
        );
        assert_eq!(below("./objs/nginx/html", "/var/hls", m3u8), None);
        assert_eq!(below("./objs/nginx/html/other", "./objs/nginx/html", m3u8), None);
    }
}
