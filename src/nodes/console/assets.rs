//! The console's files, built into the binary: our pages (plain HTML, CSS and JS, no build step)
//! and the players vendored from their npm releases (`scripts/vendor-players` refreshes them,
//! pinned by version, with their licences beside them).

/// One file served at a fixed URL path.
pub struct Asset {
    pub bytes: &'static [u8],
    pub mime: &'static str,
    /// A third-party release, pinned: cacheable for long.
    pub vendored: bool,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! ours {
    ($file:literal, $mime:expr) => {
        Asset { bytes: include_bytes!(concat!("www/", $file)), mime: $mime, vendored: false }
    };
}

macro_rules! vendored {
    ($file:literal, $mime:expr) => {
        Asset { bytes: include_bytes!(concat!("www/players/vendor/", $file)), mime: $mime, vendored: true }
    };
}

/// The file served at `path`, if any (SRS's player page names are aliases of ours).
pub fn find(path: &str) -> Option<Asset> {
    Some(match path {
        "/" | "/index.html" => ours!("home.html", HTML),
        "/console/style.css" => ours!("console/style.css", CSS),
        "/console/" | "/console/index.html" => ours!("console/index.html", HTML),
        "/console/api.js" => ours!("console/api.js", JS),
        "/console/console.js" => ours!("console/console.js", JS),
        "/console/graph.js" => ours!("console/graph.js", JS),
        "/console/home.js" => ours!("console/home.js", JS),
        "/players/" | "/players/index.html" | "/players/srs_player.html" | "/players/rtc_player.html" => {
            ours!("players/index.html", HTML)
        }
        "/players/player.js" => ours!("players/player.js", JS),
        "/players/whep.js" => ours!("players/whep.js", JS),
        "/players/publisher.html" | "/players/rtc_publisher.html" | "/players/whip.html" => {
            ours!("players/publisher.html", HTML)
        }
        "/players/publisher.js" => ours!("players/publisher.js", JS),
        "/players/vendor/hls.min.js" => vendored!("hls.min.js", JS),
        "/players/vendor/dash.mediaplayer.min.js" => vendored!("dash.mediaplayer.min.js", JS),
        "/players/vendor/mpegts.js" => vendored!("mpegts.js", JS),
        "/players/vendor/VERSIONS.txt" => vendored!("VERSIONS.txt", TEXT),
        "/players/vendor/LICENSE-hls.js.txt" => vendored!("LICENSE-hls.js.txt", TEXT),
        "/players/vendor/LICENSE-dashjs.txt" => vendored!("LICENSE-dashjs.txt", TEXT),
        "/players/vendor/LICENSE-mpegts.js.txt" => vendored!("LICENSE-mpegts.js.txt", TEXT),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_aliases_are_found_and_other_paths_are_not() {
        for path in ["/", "/console/", "/players/", "/players/srs_player.html", "/players/rtc_publisher.html"]
        {
            let asset = find(path).unwrap_or_else(|| panic!("{path} is served"));
            assert_eq!(asset.mime, HTML, "{path}");
            assert!(asset.bytes.starts_with(b"<!doctype html>"), "{path} is a page");
        }
        for path in ["/console/../Cargo.toml", "/players/vendor/", "/console/x.js", "/favicon.ico"] {
            assert!(find(path).is_none(), "{path} is not an asset");
        }
    }
}
