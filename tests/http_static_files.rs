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

/// curl with `args` against `url`: the status, the response headers (lowercase names) and the body.
fn curl(url: &str, args: &[&str]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/stderr"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let head = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, out.stderr)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn ranges_are_answered_with_the_exact_bytes_and_players_seek_over_http() {
    let dir = temp_dir("http-static-range");
    let served = dir.join("html");
    std::fs::create_dir_all(&served).unwrap();
    // 300 kB of a pattern that tells any offset from its neighbours.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8 ^ (i / 251) as u8).collect();
    std::fs::write(served.join("data.bin"), &data).unwrap();
    common::make_h264_aac(&served.join("clip.mp4"), "mp4", 10);
    common::make_h264_aac(&served.join("clip.flv"), "flv", 10);
    let port = common::free_port();
    let graph = format!(
        "let srs = {}\nin srs.Graph::{{ nodes = [ srs.node \"web\" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = \"127.0.0.1:{port}\", dir = \"{}\" }}) ] }}\n",
        catalogue(),
        served.display()
    );
    let _server = SrsServer::start(&dir, &graph);
    wait_for_listener(port, Duration::from_secs(10));
    let url = format!("http://127.0.0.1:{port}/data.bin");

    let (status, headers, body) = curl(&url, &[]);
    assert_eq!((status, body.len()), (200, data.len()));
    assert_eq!(body, data);
    assert_eq!(header(&headers, "accept-ranges"), Some("bytes"));
    assert_eq!(header(&headers, "content-length"), Some("300000"));

    for (range, first, last) in [
        ("1000-1999", 1000, 1999),
        ("299990-", 299_990, 299_999),
        ("-7", 299_993, 299_999),
        ("123456-999999", 123_456, 299_999),
        ("0-0", 0, 0),
    ] {
        let (status, headers, body) = curl(&url, &["-r", range]);
        assert_eq!(status, 206, "{range}");
        assert_eq!(body, &data[first..=last], "{range}");
        assert_eq!(
            header(&headers, "content-range"),
            Some(format!("bytes {first}-{last}/300000").as_str()),
            "{range}"
        );
        assert_eq!(header(&headers, "content-length"), Some((last - first + 1).to_string().as_str()));
        assert_eq!(header(&headers, "accept-ranges"), Some("bytes"));
    }
    for range in ["300000-", "400000-500000"] {
        let (status, headers, _) = curl(&url, &["-r", range]);
        assert_eq!(status, 416, "{range}");
        assert_eq!(header(&headers, "content-range"), Some("bytes */300000"), "{range}");
    }
    // Several ranges: the whole file, as RFC 9110 allows.
    let (status, _, body) = curl(&url, &["-r", "0-9,20-29"]);
    assert_eq!((status, body.len()), (200, data.len()));
    // HEAD: the headers of the answer (curl -I prints them), no body.
    let (status, headers, _) = curl(&url, &["-I", "-r", "10-19"]);
    assert_eq!((status, header(&headers, "content-length")), (206, Some("10")));
    assert_eq!(header(&headers, "content-range"), Some("bytes 10-19/300000"));
    let (status, body) = common::http_exchange(port, "HEAD", "/data.bin", &["Range: bytes=10-19"], b"");
    assert_eq!((status, body.as_str()), (206, ""), "a HEAD answer has no body");

    // ffmpeg seeks into the middle of an MP4 and an FLV over HTTP and decodes a frame there.
    for clip in ["clip.mp4", "clip.flv"] {
        let clip_url = format!("http://127.0.0.1:{port}/{clip}");
        let out = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v", "-read_intervals", "5%+#1"])
            .args(["-show_entries", "frame=pts_time,key_frame", "-of", "csv=p=0", &clip_url])
            .output()
            .expect("ffprobe runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let first: f64 = text
            .lines()
            .next()
            .and_then(|l| l.split(',').find_map(|f| f.parse::<f64>().ok().filter(|v| *v > 1.0)))
            .unwrap_or_else(|| {
                panic!("{clip}: no frame read after seeking: {text} {}", String::from_utf8_lossy(&out.stderr))
            });
        assert!((4.0..=6.0).contains(&first), "{clip}: first frame after seeking to 5 s is at {first} s");
        let png = dir.join(format!("{clip}.png"));
        common::ffmpeg(&["-ss", "5", "-i", &clip_url, "-frames:v", "1", png.to_str().unwrap()]);
        assert!(std::fs::metadata(&png).unwrap().len() > 1000, "{clip}: a decoded frame from 5 s");
    }
}

/// curl GET `path` on `port` with a `Host` header: status and body.
fn get_with_host(port: u16, host: &str, path: &str) -> (u16, String) {
    let url = format!("http://127.0.0.1:{port}{path}");
    let (status, _, body) = curl(&url, &["-H", &format!("Host: {host}")]);
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn srs_conf_vhosts_serve_their_own_http_static_dirs_by_host() {
    let dir = temp_dir("http-static-vhosts");
    for (name, text) in
        [("default", "default root"), ("a", "vhost a"), ("b", "vhost b"), ("d", "default vhost")]
    {
        std::fs::create_dir_all(dir.join(name).join("sub")).unwrap();
        std::fs::write(dir.join(name).join("which.txt"), text).unwrap();
        std::fs::write(dir.join(name).join("sub/only-here.txt"), name).unwrap();
    }
    let (rtmp, http) = (common::free_port(), common::free_port());
    let conf = format!(
        "listen {rtmp};\n\
         http_server {{ enabled on; listen 127.0.0.1:{http}; dir {root}/default; }}\n\
         vhost a.com {{ http_static {{ enabled on; mount [vhost]/; dir {root}/a; }} }}\n\
         vhost b.com {{ http_static {{ enabled on; dir {root}/b; }} }}\n\
         vhost c.com {{ http_static {{ enabled off; dir {root}/a; }} }}\n",
        root = dir.display()
    );
    std::fs::write(dir.join("srs.conf"), &conf).unwrap();
    let log = std::fs::File::create(dir.join("srs.log")).unwrap();
    let child = std::process::Command::new(common::srs_bin())
        .args(["-c", "srs.conf"])
        .current_dir(&dir)
        .stderr(log)
        .spawn()
        .expect("srs starts");
    let server = common::Server { child, dir: dir.clone() };
    common::wait_for_port(http, &server);

    assert_eq!(get_with_host(http, "a.com", "/which.txt"), (200, "vhost a".into()));
    assert_eq!(get_with_host(http, "A.com:8080", "/sub/only-here.txt"), (200, "a".into()));
    assert_eq!(get_with_host(http, "b.com", "/which.txt"), (200, "vhost b".into()));
    assert_eq!(get_with_host(http, "b.com", "/sub/only-here.txt"), (200, "b".into()));
    // A vhost whose http_static is off, an unknown host and a bare address: the server's dir.
    for host in ["c.com", "other.example", "127.0.0.1"] {
        assert_eq!(get_with_host(http, host, "/which.txt"), (200, "default root".into()), "{host}");
    }
    // A file only under another vhost's dir is not found through this host.
    std::fs::write(dir.join("a/only-a.txt"), "a").unwrap();
    assert_eq!(get_with_host(http, "b.com", "/only-a.txt").0, 404);
    assert_eq!(get_with_host(http, "a.com", "/only-a.txt").0, 200);
    drop(server);

    // `__defaultVhost__`'s http_static replaces the server's dir for every other host.
    let conf = format!(
        "listen {rtmp};\n\
         http_server {{ enabled on; listen 127.0.0.1:{http}; dir {root}/default; }}\n\
         vhost __defaultVhost__ {{ http_static {{ enabled on; dir {root}/d; }} }}\n\
         vhost a.com {{ http_static {{ enabled on; dir {root}/a; }} }}\n",
        root = dir.display()
    );
    std::fs::write(dir.join("srs.conf"), &conf).unwrap();
    let log = std::fs::File::create(dir.join("srs.log")).unwrap();
    let child = std::process::Command::new(common::srs_bin())
        .args(["-c", "srs.conf"])
        .current_dir(&dir)
        .stderr(log)
        .spawn()
        .expect("srs starts");
    let server = common::Server { child, dir: dir.clone() };
    common::wait_for_port(http, &server);
    assert_eq!(get_with_host(http, "x.com", "/which.txt"), (200, "default vhost".into()));
    assert_eq!(get_with_host(http, "a.com", "/which.txt"), (200, "vhost a".into()));
}
