//! `HttpStatic` serves a directory with MIME types, caching and CORS headers, answers HEAD and
//! OPTIONS, and never serves a file outside its directory however the path is spelled.

mod common;

use std::time::Duration;

use common::{catalogue, http_request, temp_dir, wait_for_listener, SrsServer};

#[test]
fn serves_files_and_refuses_paths_leaving_the_directory() {
    let dir = temp_dir("http-static");
    let served = dir.join("html");
    std::fs::create_dir_all(served.join("live")).unwrap();
    std::fs::write(served.join("live/s.m3u8"), "#EXTM3U\n").unwrap();
    std::fs::write(served.join("live/s-0.ts"), vec![0x47u8; 188]).unwrap();
    std::fs::write(served.join("index.html"), "<p>hi</p>").unwrap();
    std::fs::write(dir.join("secret.txt"), "do not serve").unwrap();
    let port = 18660;
    let graph = format!(
        "let srs = {}\nin srs.Graph::{{ nodes = [ srs.node \"web\" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = \"127.0.0.1:{port}\", dir = \"{}\" }}) ] }}\n",
        catalogue(),
        served.display()
    );
    let _server = SrsServer::start(&dir, &graph);
    wait_for_listener(port, Duration::from_secs(10));

    let playlist = http_request(port, "GET", "/live/s.m3u8").unwrap();
    assert_eq!((playlist.status, playlist.text().as_str()), (200, "#EXTM3U\n"));
    assert_eq!(playlist.header("content-type"), Some("application/vnd.apple.mpegurl"));
    assert_eq!(playlist.header("cache-control"), Some("no-cache"));
    assert_eq!(playlist.header("access-control-allow-origin"), Some("*"));

    let segment = http_request(port, "GET", "/live/s-0.ts").unwrap();
    assert_eq!((segment.status, segment.body.len()), (200, 188));
    assert_eq!(segment.header("content-type"), Some("video/mp2t"));
    assert!(segment.header("cache-control").is_some_and(|c| c.contains("max-age=86400")));

    let head = http_request(port, "HEAD", "/live/s-0.ts").unwrap();
    assert_eq!((head.status, head.header("content-length"), head.body.len()), (200, Some("188"), 0));
    let options = http_request(port, "OPTIONS", "/live/s.m3u8").unwrap();
    assert_eq!((options.status, options.header("access-control-allow-methods")), (200, Some("*")));
    let index = http_request(port, "GET", "/").unwrap();
    assert_eq!((index.status, index.text().as_str()), (200, "<p>hi</p>"));
    assert_eq!(http_request(port, "GET", "/live/missing.ts").unwrap().status, 404);

    for hostile in [
        "/../secret.txt",
        "/live/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/live/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
    ] {
        let response = http_request(port, "GET", hostile).unwrap();
        assert_eq!(response.status, 403, "{hostile}");
        assert!(!response.text().contains("do not serve"), "{hostile}");
    }
    // An absolute path in the URL stays inside the directory.
    let absolute = format!("/{}", dir.join("secret.txt").display());
    let response = http_request(port, "GET", &absolute).unwrap();
    assert_eq!(response.status, 404, "{absolute}");
}
