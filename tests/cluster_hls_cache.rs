//! HLS through a real HTTP cache: Debian's nginx with `proxy_cache` in front of our server
//! (`HttpStatic` serving what `HlsOut` writes). ffprobe plays the live playlist through nginx;
//! a segment fetched twice is a cache HIT the second time (`X-Cache-Status`, added by the nginx
//! configuration), while playlists are never served from the cache, so their updates pass
//! through (`Cache-Control: no-cache` on playlists, a long `max-age, immutable` on segments).
//! hls.js in headless Chromium and ffmpeg play through the cache at once, and nginx's log shows
//! each segment fetched from our server (a cache MISS) at most once.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{
    free_port, http_request, probe, publish_test_stream, record, run_graph, temp_dir, wait_until, Browser,
    StaticServer,
};

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx on `port` caching 127.0.0.1:`upstream`; the cache key leaves out the query, so the
/// `hls_ctx` of each player's session does not split the cache.
fn start_nginx(dir: &std::path::Path, port: u16, upstream: u16) -> Nginx {
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  log_format cache '$uri $upstream_cache_status';\n  access_log {d}/nginx-access.log cache;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           proxy_cache_path {d}/cache levels=1:2 keys_zone=hls:1m max_size=100m;\n\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://127.0.0.1:{upstream};\n\
               proxy_cache hls;\n      proxy_cache_key $uri;\n      proxy_cache_lock on;\n\
               add_header X-Cache-Status $upstream_cache_status always;\n    }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).expect("write nginx.conf");
    let child = Command::new("nginx")
        .args(["-p", &d.to_string(), "-c", path.to_str().expect("utf-8")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx runs (scripts/install-test-deps installs it)");
    common::wait_for_listener(port, Duration::from_secs(10));
    Nginx(child)
}

fn hls_graph(rtmp: u16, http: u16, html: &str) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{html}", hls_fragment = 1.0, hls_window = 10.0 }})
    , srs.node "files" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = "127.0.0.1:{http}", dir = "{html}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "hls" ]
}}"#
    )
}

/// GET through nginx, following the session redirect of a live playlist.
fn get(port: u16, path: &str) -> common::HttpResponse {
    let response = http_request(port, "GET", path).expect("GET through nginx");
    match (response.status, response.header("location")) {
        (302, Some(location)) => {
            let location = location.split_once("://").map_or(location.to_owned(), |(_, rest)| {
                rest.find('/').map_or("/".to_owned(), |slash| rest[slash..].to_owned())
            });
            let location = if location.starts_with('/') {
                location
            } else {
                format!("{}/{location}", path.rsplit_once('/').map_or("", |(dir, _)| dir))
            };
            http_request(port, "GET", &location).expect("GET the redirect")
        }
        _ => response,
    }
}

fn media_sequence(playlist: &str) -> u64 {
    playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("a live playlist: {playlist}"))
}

#[test]
fn hls_plays_through_nginx_cache_with_segments_cached_and_playlists_passed_through() {
    let dir = temp_dir("cluster-hls-cache");
    let html = dir.join("html");
    std::fs::create_dir_all(&html).expect("html dir");
    let (rtmp, http, cache) = (free_port(), free_port(), free_port());
    let server = run_graph(&dir, &hls_graph(rtmp, http, &html.display().to_string()), &[rtmp, http]);
    let _nginx = start_nginx(&dir, cache, http);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/cached"), 30);
    assert!(wait_until(20, || html.join("live/cached.m3u8").exists()), "HLS is written:\n{}", server.log());
    std::thread::sleep(Duration::from_secs(3));

    let out = dir.join("through-cache.ts");
    record(&format!("http://127.0.0.1:{cache}/live/cached.m3u8"), 4, &out);
    let streams = probe(out.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 50, "4 s through the cache: {}", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{streams:?}");

    let playlist = get(cache, "/live/cached.m3u8");
    assert_eq!(playlist.status, 200, "{}", playlist.text());
    assert_eq!(playlist.header("cache-control"), Some("no-cache"), "{:?}", playlist.headers);
    assert_ne!(playlist.header("x-cache-status"), Some("HIT"), "playlists are never served from the cache");
    let text = playlist.text();
    let segment = text.lines().rfind(|l| !l.starts_with('#') && !l.is_empty()).expect("a segment").to_owned();
    let segment_path = match segment.split_once("://") {
        Some((_, rest)) => rest[rest.find('/').unwrap_or(0)..].to_owned(),
        None if segment.starts_with('/') => segment.clone(),
        None => format!("/live/{segment}"),
    };
    let first = get(cache, &segment_path);
    assert_eq!(first.status, 200, "{segment_path}");
    assert!(
        first.header("cache-control").is_some_and(|c| c.contains("max-age=86400") && c.contains("immutable")),
        "{:?}",
        first.headers
    );
    let second = get(cache, &segment_path);
    assert_eq!(second.header("x-cache-status"), Some("HIT"), "the second fetch of a segment is a cache hit");
    assert_eq!(first.body, second.body, "the cached segment is the same bytes");

    let before = media_sequence(&text);
    assert!(
        wait_until(10, || media_sequence(&get(cache, "/live/cached.m3u8").text()) > before),
        "playlist updates pass through the cache"
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
}

/// The newest `time-<t>-w<size>` report of the hls.js page (tests/player/hls.html), if any.
fn newest_time(log: &std::path::Path) -> Option<(f64, String)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().rev().find_map(|line| {
        let report = line.split_once("GET /report/time-")?.1.split_whitespace().next()?;
        let mut parts = report.split('-');
        let time = parts.next()?.parse().ok()?;
        let size = parts.next()?.strip_prefix('w')?.to_owned();
        Some((time, size))
    })
}

#[test]
fn hls_js_and_ffmpeg_play_through_the_cache_and_each_segment_leaves_the_origin_once() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let player_js = root.join("tests/player/node_modules/hls.js/dist/hls.min.js");
    assert!(player_js.exists(), "{} missing: run scripts/install-test-deps", player_js.display());
    let dir = temp_dir("cluster-hls-cache-browser");
    let (html, page_dir) = (dir.join("html"), dir.join("page"));
    for sub in [&html, &page_dir] {
        std::fs::create_dir_all(sub).expect("dir");
    }
    std::fs::copy(&player_js, page_dir.join("hls.min.js")).expect("copy hls.js");
    std::fs::copy(root.join("tests/player/hls.html"), page_dir.join("hls.html")).expect("copy page");
    let (rtmp, http, cache) = (free_port(), free_port(), free_port());
    let server = run_graph(&dir, &hls_graph(rtmp, http, &html.display().to_string()), &[rtmp, http]);
    let _nginx = start_nginx(&dir, cache, http);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/shared"), 40);
    assert!(wait_until(20, || html.join("live/shared.m3u8").exists()), "HLS is written:\n{}", server.log());
    std::thread::sleep(Duration::from_secs(3));

    let source = format!("http://127.0.0.1:{cache}/live/shared.m3u8");
    let recorder = {
        let (source, out) = (source.clone(), dir.join("ffmpeg.ts"));
        std::thread::spawn(move || {
            record(&source, 6, &out);
            out
        })
    };
    let page_log = dir.join("page.log");
    let pages = StaticServer::start_logging(&page_dir, Some(&page_log));
    let _browser = Browser::open(&dir, &pages.url(&format!("hls.html?src={source}&ll=0&warn=0")));
    assert!(
        wait_until(60, || newest_time(&page_log).is_some_and(|(time, _)| time > 5.0)),
        "hls.js plays past 5 s through the cache: {:?}",
        newest_time(&page_log)
    );
    assert_eq!(newest_time(&page_log).map(|(_, size)| size).as_deref(), Some("320x240"));
    let recorded = recorder.join().expect("ffmpeg thread");
    let streams = probe(recorded.to_str().expect("utf-8"));
    assert!(
        streams.iter().any(|s| s.codec == "h264" && s.frames >= 75),
        "ffmpeg through the cache: {streams:?}"
    );

    // nginx's log: `<uri> <cache status>`; a MISS is a fetch from our server.
    let log = std::fs::read_to_string(dir.join("nginx-access.log")).expect("nginx access log");
    let mut misses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let (mut hits, mut segments) = (0, 0);
    for (uri, status) in log.lines().filter_map(|l| l.split_once(' ')).filter(|(uri, _)| uri.ends_with(".ts"))
    {
        segments += 1;
        match status {
            "MISS" => *misses.entry(uri).or_default() += 1,
            "HIT" => hits += 1,
            _ => {}
        }
    }
    println!("through the cache: {segments} segment requests, {} from the origin, {hits} hits", misses.len());
    assert!(misses.values().all(|n| *n == 1), "each segment leaves the origin once: {misses:?}");
    assert!(hits >= 1 && segments > misses.len(), "two players share cached segments:\n{log}");
    let _ = publisher.kill();
    let _ = publisher.wait();
}
