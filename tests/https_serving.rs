//! HTTPS: `HttpApi` and `HttpRemux` sharing one TLS address (`tls` with PEM files made by the
//! openssl CLI) answer curl and play in ffmpeg; plain HTTP on that port fails alone; a bad
//! certificate path fails the start naming the file.

mod common;

use std::process::Command;

use common::{free_port, make_h264_aac, probe, run_graph, self_signed, srs_bin, temp_dir, write_graph};

fn tls_graph(input: &str, port: u16, cert: &str, key: &str) -> String {
    let tls = format!(r#"Some {{ cert = "{cert}", key = "{key}" }}"#);
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/test", realtime = True, repeat = True }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].flv", tls = {tls} }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{port}", tls = {tls} }})
    ]
, edges = [ srs.edge "file" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

/// `curl -sk` of an HTTPS URL: the body.
fn curl_insecure(url: &str) -> String {
    let out = Command::new("curl").args(["-sk", "--max-time", "10", url]).output().expect("curl runs");
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn api_and_flv_answer_over_https_and_plain_http_fails_alone() {
    let dir = temp_dir("https-serving");
    let input = dir.join("in.flv");
    make_h264_aac(&input, "flv", 4);
    let (cert, key) = self_signed(&dir);
    let port = free_port();
    let server = run_graph(&dir, &tls_graph(input.to_str().unwrap(), port, &cert, &key), &[port]);

    let versions: serde_json::Value =
        serde_json::from_str(&curl_insecure(&format!("https://127.0.0.1:{port}/api/v1/versions")))
            .expect("json");
    assert_eq!(versions["code"], 0, "{versions}");

    // A player over HTTPS, with a plain-HTTP request on the same port while it plays.
    let out = dir.join("out.flv");
    let url = format!("https://127.0.0.1:{port}/live/test.flv");
    let player = {
        let out = out.clone();
        std::thread::spawn(move || {
            let status = Command::new("ffmpeg")
                .args(["-y", "-v", "error", "-tls_verify", "0", "-rw_timeout", "10000000", "-i", &url])
                .args(["-t", "3", "-c", "copy"])
                .arg(&out)
                .status()
                .expect("ffmpeg runs");
            assert!(status.success(), "ffmpeg plays over https");
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(500));
    let plain = common::http_request(port, "GET", "/api/v1/versions");
    assert!(
        plain.as_ref().map_or(true, |response| response.status != 200),
        "plain http on the tls port must not be served: {plain:?}"
    );
    player.join().expect("player thread");

    let streams = probe(out.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 60, "about 3 s of 25 fps video, got {} frames", video.frames);
    assert!(server.log().contains("tls handshake failed"), "the plain request is logged: {}", server.log());
}

#[test]
fn a_missing_certificate_fails_the_start_naming_the_file() {
    let dir = temp_dir("https-bad-cert");
    let input = dir.join("in.flv");
    make_h264_aac(&input, "flv", 1);
    let missing = dir.join("missing.crt");
    let graph = tls_graph(input.to_str().unwrap(), free_port(), missing.to_str().unwrap(), "server.key");
    let path = write_graph(&dir, "graph.dhall", &graph);
    let out = Command::new(srs_bin()).arg("run").arg(&path).current_dir(&dir).output().expect("srs runs");
    assert!(!out.status.success(), "start fails");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.crt") && stderr.contains("tls.cert"), "{stderr}");
}
