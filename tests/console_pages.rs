//! The home page, the console and the players (`Console` node) in headless Chromium, driven
//! through the DevTools protocol: what a person sees at http://host:8080/.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::cdp::Chromium;
use common::*;

struct Ports {
    rtmp: u16,
    http: u16,
    api: u16,
}

const NODES: &str =
    "__defaultVhost__,console,dash,flv,hls,http_api,http_server,llhls,rtc_in,rtc_play,rtmp,rtmp_play";

/// The default graph's shape on free ports, with HLS (classic and low-latency) and DASH too.
fn start_server(dir: &Path, api_auth: bool) -> (Server, Ports) {
    let ports = Ports { rtmp: free_port(), http: free_port(), api: free_port() };
    let udp = free_udp_port();
    let html = dir.join("html");
    let auth =
        if api_auth { r#", auth = { enabled = True, username = "admin", password = "s3cret" }"# } else { "" };
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}"{auth} }})
      , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[vhost]/[app]/[stream].flv" }})
      , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{html}", hls_fragment = 2.0 }})
      , srs.node "llhls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{html}", hls_m3u8_file = "[app]/[stream]/ll.m3u8", hls_fragment = 2.0, segment_format = srs.SegmentFormat.Fmp4, low_latency = True, part_target = 500 }})
      , srs.node "dash" (srs.Node.DashOut srs.DashOut::{{ dash_path = "{html}" }})
      , srs.node "rtc_in" (srs.Node.RtcIn srs.RtcIn::{{ listen = "127.0.0.1:{udp}", api = "127.0.0.1:{api}", candidate = "127.0.0.1" }})
      , srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::{{ listen = "127.0.0.1:{udp}", api = "127.0.0.1:{api}", candidate = "127.0.0.1" }})
      , srs.node "console" (srs.Node.Console srs.Console::{{ listen = "127.0.0.1:{http}" }})
      , srs.node "http_server" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = "127.0.0.1:{http}", dir = "{html}" }})
      ]
    , edges =
      [ srs.edge "rtmp" "__defaultVhost__"
      , srs.edge "rtc_in" "__defaultVhost__"
      , srs.edge "__defaultVhost__" "rtc_play"
      , srs.edge "__defaultVhost__" "rtmp_play"
      , srs.edge "__defaultVhost__" "flv"
      , srs.edge "__defaultVhost__" "hls"
      , srs.edge "__defaultVhost__" "llhls"
      , srs.edge "__defaultVhost__" "dash"
      ]
    }}"#,
        rtmp = ports.rtmp,
        http = ports.http,
        api = ports.api,
        udp = udp,
        html = html.display(),
    );
    let server = run_graph(dir, &graph, &[ports.rtmp, ports.http, ports.api]);
    (server, ports)
}

/// First contentful paint of the tab's page in ms, as Chromium's performance timeline has it.
fn first_paint_ms(browser: &mut Chromium, tab: &common::cdp::Tab) -> f64 {
    let expression = "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0";
    browser.wait_for(tab, 10, expression).as_f64().unwrap_or(0.0)
}

#[test]
fn home_page_console_and_graph_show_the_server_and_kick_a_player() {
    let dir = temp_dir("console_pages_home");
    let (_server, ports) = start_server(&dir, false);
    let mut browser = Chromium::launch(&dir);

    let home = browser.open(&format!("http://127.0.0.1:{}/", ports.http));
    browser.wait_for(&home, 15, "document.body.dataset.ready");
    let publish = browser.eval(&home, "document.querySelector('#publish').innerText");
    let publish = publish.as_str().unwrap_or_default();
    let rtmp_url = format!("rtmp://127.0.0.1:{}/live/livestream", ports.rtmp);
    assert!(publish.contains(&rtmp_url), "the home page lists {rtmp_url}: {publish}");
    let ffmpeg_lines = browser.eval(&home, "document.querySelector('#ffmpeg').innerText");
    assert!(
        ffmpeg_lines.as_str().unwrap_or_default().contains(&format!("-f flv {rtmp_url}")),
        "{ffmpeg_lines}"
    );
    let play = browser.eval(&home, "document.querySelector('#play').innerText");
    let flv_url = format!("http://127.0.0.1:{}/live/livestream.flv", ports.http);
    assert!(play.as_str().unwrap_or_default().contains(&flv_url), "the home page lists {flv_url}: {play}");
    let home_paint = first_paint_ms(&mut browser, &home);

    // A stream whose name is markup: the console must show it as text.
    let name = "<b>bold</b>";
    let _publisher =
        Background(publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/{name}", ports.rtmp), 120));
    let console = browser.open(&format!("http://127.0.0.1:{}/console/", ports.http));
    let started = std::time::Instant::now();
    browser.wait_for(
        &console,
        20,
        "[...document.querySelectorAll('#streams tbody tr')].some(r => r.innerText.includes('H264'))",
    );
    let shown_after = started.elapsed();
    let row = browser.eval(&console, "document.querySelector('#streams tbody tr').innerText");
    let row = row.as_str().unwrap_or_default().to_owned();
    assert!(row.contains("/live/<b>bold</b>"), "the stream's name is shown as text: {row}");
    assert!(row.contains("320x240") && row.contains("AAC"), "codecs and resolution: {row}");
    assert_eq!(
        browser.eval(&console, "document.querySelectorAll('#streams b').length"),
        0,
        "no markup injected"
    );
    let cards = browser.eval(&console, "document.querySelector('#summary').innerText");
    for label in ["CPU", "memory", "connections", "kbps in", "uptime"] {
        assert!(cards.as_str().unwrap_or_default().contains(label), "summary shows {label}: {cards}");
    }
    let console_paint = first_paint_ms(&mut browser, &console);

    // The live graph: every node of the graph, and the publisher's edge counting frames.
    let nodes = browser.eval(
        &console,
        "[...document.querySelectorAll('#graph .node')].map(n => n.dataset.name).sort().join(',')",
    );
    assert_eq!(nodes.as_str().unwrap_or_default(), NODES, "every node is drawn");
    let edge_frames = "Number(document.querySelector('#graph .edge[data-from=\"rtmp\"]').dataset.frames)";
    let first = browser.wait_for(&console, 10, edge_frames).as_u64().unwrap_or(0);
    browser.wait_for(&console, 10, &format!("{edge_frames} > {first}"));
    browser.screenshot(&console, &dir.join("console.png"));

    // An HTTP-FLV player, kicked from the console: its connection ends.
    let mut player = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(format!("http://127.0.0.1:{}/live/%3Cb%3Ebold%3C%2Fb%3E.flv", ports.http))
        .args(["-c", "copy", "-f", "null", "-"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ffmpeg plays");
    let kick = "(() => { const row = [...document.querySelectorAll('#clients tbody tr')]
        .find(r => !r.innerText.includes('publish') && r.innerText.includes('flv'));
        if (!row) return false; row.querySelector('button[data-kick]').click(); return true; })()";
    browser.wait_for(&console, 20, kick);
    let ended = wait_until(15, || player.try_wait().ok().flatten().is_some());
    let _ = player.kill();
    let _ = player.wait();
    assert!(ended, "the kicked player's connection ended");
    println!(
        "console: stream shown {:.2} s after publishing began; first paint home {home_paint:.0} ms, console {console_paint:.0} ms; screenshot {}",
        shown_after.as_secs_f64(),
        dir.join("console.png").display()
    );
}

#[test]
fn players_page_plays_flv_hls_ll_hls_and_dash_and_refuses_script_urls() {
    let dir = temp_dir("console_pages_players");
    let (_server, ports) = start_server(&dir, false);
    let _publisher =
        Background(publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/show", ports.rtmp), 180));
    let html = dir.join("html");
    wait_for(40, "HLS and DASH written", || {
        let hls = std::fs::read_to_string(html.join("live/show.m3u8")).unwrap_or_default();
        let dash = html.join("live/show.mpd").exists();
        (hls.matches("#EXTINF").count() >= 2 && dash).then_some(())
    });
    let mut browser = Chromium::launch(&dir);
    let base = format!("http://127.0.0.1:{}", ports.http);
    let cases = [
        ("flv", format!("/players/?url={base}/live/show.flv")),
        ("hls", format!("/players/?url={base}/live/show.m3u8")),
        ("hls", format!("/players/?ll=1&url={base}/live/show/ll.m3u8")),
        ("dash", format!("/players/?url={base}/live/show.mpd")),
        ("flv", format!("/players/srs_player.html?app=live&stream=show.flv&port={}", ports.http)),
        // WHEP of the RTMP stream (video only: AAC is not bridged to Opus yet).
        ("webrtc", "/players/?url=webrtc://127.0.0.1/live/show".to_owned()),
    ];
    for (engine, page) in cases {
        let tab = browser.open(&format!("{base}{page}"));
        browser.wait_for(&tab, 40, "Number(document.body.dataset.decoded) > 50");
        let seen = browser.eval(&tab, "[document.body.dataset.engine, document.body.dataset.resolution, document.body.dataset.startup, document.body.dataset.latency || '']");
        assert_eq!(seen[0], engine, "{page}: player used");
        assert_eq!(seen[1], "320x240", "{page}: decoded picture size");
        println!("{page}: startup {}, latency {}", seen[2], seen[3]);
        browser.close(tab);
    }
    // The WHIP publisher page sends this browser's (fake) camera; the player plays it over WHEP.
    let publisher = browser.open(&format!("{base}/players/publisher.html?stream=cam"));
    browser.wait_for(&publisher, 10, "document.getElementById('url').value.endsWith('/live/cam')");
    browser.eval(&publisher, "document.getElementById('form').requestSubmit(); true");
    browser.wait_for(&publisher, 30, "document.body.dataset.state === 'connected'");
    let player = browser.open(&format!("{base}/players/?url=webrtc://127.0.0.1/live/cam"));
    browser.wait_for(&player, 40, "Number(document.body.dataset.decoded) > 30");
    let size = browser.eval(&player, "document.body.dataset.resolution || ''");
    assert!(
        size.as_str().is_some_and(|s| s.contains('x') && !s.starts_with("0x")),
        "WHIP to WHEP picture: {size}"
    );
    browser.close(player);
    browser.close(publisher);

    let tab = browser.open(&format!("{base}/players/?url=javascript:alert(1)"));
    let error = browser.wait_for(&tab, 10, "document.body.dataset.error");
    assert!(error.as_str().unwrap_or_default().contains("not a stream URL"), "{error}");
    assert_eq!(browser.eval(&tab, "document.querySelector('video').currentSrc"), "", "nothing loaded");
}

#[test]
fn console_asks_for_the_api_credentials_and_works_with_them() {
    let dir = temp_dir("console_pages_auth");
    let (_server, ports) = start_server(&dir, true);
    let mut browser = Chromium::launch(&dir);
    let console = browser.open(&format!("http://127.0.0.1:{}/console/", ports.http));
    browser.wait_for(&console, 15, "document.getElementById('login').open");
    assert!(
        browser.eval(&console, "document.body.dataset.polls").is_null(),
        "nothing shown before signing in"
    );
    browser.eval(
        &console,
        "document.getElementById('login-user').value = 'admin';
         document.getElementById('login-password').value = 's3cret';
         document.getElementById('login-form').requestSubmit(); true",
    );
    browser.wait_for(&console, 15, "Number(document.body.dataset.polls) >= 2");
    let cards = browser.eval(&console, "document.querySelector('#summary').innerText");
    assert!(cards.as_str().unwrap_or_default().contains("connections"), "summaries shown: {cards}");
    let nodes = browser.eval(&console, "document.querySelectorAll('#graph .node').length");
    assert_eq!(nodes, NODES.split(',').count(), "the graph is drawn once signed in");
}

#[test]
fn only_the_console_paths_are_taken_from_the_files_server() {
    let dir = temp_dir("console_pages_paths");
    let (_server, ports) = start_server(&dir, false);
    std::fs::create_dir_all(dir.join("html/live")).expect("dir");
    std::fs::write(dir.join("html/live/notes.txt"), "user file").expect("file");
    let text = |path: &str| {
        let response = http_request(ports.http, "GET", path).expect("http");
        (response.status, response.text())
    };
    let (status, body) = text("/");
    assert_eq!(status, 200);
    assert!(body.contains("/console/") && body.contains("Publish"), "the home page: {body}");
    assert_eq!(text("/live/notes.txt"), (200, "user file".to_owned()), "other paths are the files");
    for path in ["/console/../Cargo.toml", "/console/nothing.js", "/players/vendor/", "/players/%2e%2e/x"] {
        assert_eq!(text(path).0, 404, "{path}");
    }
    let (status, versions) = text("/players/vendor/VERSIONS.txt");
    assert_eq!(status, 200);
    assert!(versions.contains("hls.js 1.7.4"), "{versions}");
    let config: serde_json::Value = serde_json::from_str(&text("/console/config.json").1).expect("json");
    assert_eq!(config["api"], format!("http://127.0.0.1:{}", ports.api));
}
