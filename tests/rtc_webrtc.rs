//! WebRTC with real Chromium (headless, fake camera and microphone): a page publishes with WHIP,
//! a second plays with WHEP and a third with SRS's `/rtc/v1/play/` JSON API; both players decode
//! frames (counted rising) at the camera's 640x480 and receive audio packets, and ffprobe reads
//! the WHIP stream's H.264 from HTTP-FLV. Garbage datagrams and a STUN binding with an unknown
//! ufrag sent to the shared UDP port while they play leave them decoding; DELETE of the WHIP
//! `Location` ends the publish. Offers without a codec we take get 400, offers past
//! `max_connections` 503. An RTMP stream plays over WHEP (video only) to a player that came before
//! the publisher, and on through a republish. Pages report through requests to a small static
//! server whose log the test reads. Played through a UDP relay that drops 5 % of the server's RTP,
//! Chromium keeps decoding at the stream's rate, NACKs, and the server's resends keep its
//! `packetsLost` a small part of what the relay dropped.

mod common;

use std::path::Path;

use common::udp_relay::LossyRelay;
use common::{
    free_port, free_udp_port, http_exchange, newest_report, probe_with, run_graph, temp_dir, unescape,
    wait_for, Browser, StaticServer, FAKE_MEDIA,
};

/// A player's stats: frames decoded, picture size, audio packets received.
fn stats(log: &Path, page: &str) -> Option<(u64, String, u64)> {
    let text = newest_report(log, page, "stats-")?;
    let mut parts = text.split('-');
    let frames = parts.next()?.parse().ok()?;
    let size = parts.next()?.to_owned();
    let audio = parts.next()?.parse().ok()?;
    Some((frames, size, audio))
}

/// Waits until `page` decoded more than `above` frames at `size`, with audio arriving when
/// `audio`; gives the frame count.
fn decoding_at(log: &Path, page: &str, above: u64, size: &str, audio: bool) -> u64 {
    wait_for(40, &format!("{page} decodes above {above} frames at {size}"), || {
        stats(log, page).filter(|(f, s, a)| *f > above && s == size && (*a > 0) == audio).map(|s| s.0)
    })
}

/// The fake camera's frames, with audio.
fn decoding(log: &Path, page: &str, above: u64) -> u64 {
    decoding_at(log, page, above, "640x480", true)
}

fn client_types(api: u16) -> Vec<String> {
    let clients = common::api_get(api, "/api/v1/clients/");
    let list = clients["clients"].as_array().expect("clients");
    list.iter().filter_map(|c| c["type"].as_str().map(str::to_owned)).collect()
}

/// Every WebRTC player was sent at least `packets` RTP packets that the server's UDP worker
/// SRTP-protected itself (`codec::srtp`, the send path of prebuilt packets), which Chromium,
/// decoding, took.
fn assert_own_srtp(api: u16, packets: u64) {
    let clients = common::api_get(api, "/api/v1/clients/");
    let list = clients["clients"].as_array().expect("clients");
    let players: Vec<_> = list.iter().filter(|c| c["type"] == "rtc-play").collect();
    assert!(!players.is_empty(), "no rtc-play client: {clients}");
    for player in players {
        let protected = player["rtc"]["srtp_packets"].as_u64().unwrap_or(0);
        assert!(
            protected >= packets,
            "{protected} packets protected by the worker, want {packets}: {player}"
        );
    }
}

/// Every WebRTC player left the `rtc` crate after DTLS (`servers::rtc_slim`), and its RTCP
/// (Chromium's receiver reports) was decrypted and read by the server's own state since. A player
/// leaves the crate 3 s after DTLS and Chromium reports about once a second, so a loaded machine
/// may take a few seconds before the first report reaches the slim state.
fn assert_slim(api: u16) {
    let read_by_slim = |player: &serde_json::Value| {
        let rtc = &player["rtc"];
        rtc["slim"] == true
            && rtc["slim_rtcp"].as_u64().unwrap_or(0) > 0
            && rtc["receiver_reports"].as_u64().unwrap_or(0) > 0
    };
    let players = || {
        let clients = common::api_get(api, "/api/v1/clients/");
        let list = clients["clients"].as_array().cloned().unwrap_or_default();
        list.into_iter().filter(|c| c["type"] == "rtc-play").collect::<Vec<_>>()
    };
    common::wait_until(20, || {
        let players = players();
        !players.is_empty() && players.iter().all(read_by_slim)
    });
    let players = players();
    assert!(!players.is_empty(), "no rtc-play client");
    for player in players {
        let rtc = &player["rtc"];
        assert_eq!(rtc["slim"], true, "the player still on the crate: {player}");
        let (rtcp, reports) =
            (rtc["slim_rtcp"].as_u64().unwrap_or(0), rtc["receiver_reports"].as_u64().unwrap_or(0));
        assert!(rtcp > 0 && reports > 0, "{rtcp} rtcp packets, {reports} receiver reports read: {player}");
    }
}

fn graph(api: u16, udp: u16, flv: u16, max_connections: u64) -> String {
    format!(
        r#"let rtc = {{ listen = "127.0.0.1:{udp}", api = "127.0.0.1:{api}", candidate = "127.0.0.1", max_connections = {max_connections}, workers = 2, tcp = False, protocol = "udp" }}
in srs.Graph::{{
    , nodes =
      [ srs.node "rtc_publish" (srs.Node.RtcIn (rtc // {{ pli_interval = 1000 }}))
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
      , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{flv}", mount = "[app]/[stream].flv" }})
      , srs.node "rtc_play" (srs.Node.RtcOut rtc)
      ]
    , edges =
      [ srs.edge "rtc_publish" "__defaultVhost__"
      , srs.edge "__defaultVhost__" "flv"
      , srs.edge "__defaultVhost__" "rtc_play"
      ]
    }}"#
    )
}

#[test]
fn whip_publish_plays_with_whep_json_and_http_flv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("rtc_webrtc_browsers");
    let page_dir = dir.join("page");
    for page in ["whip.html", "whep.html"] {
        std::fs::create_dir_all(page_dir.join("report")).expect("page dir");
        std::fs::copy(root.join("tests/player").join(page), page_dir.join(page)).expect("copy page");
    }
    let (api, udp, flv) = (free_port(), free_udp_port(), free_port());
    let srs = run_graph(&dir, &graph(api, udp, flv, 100), &[api, flv]);
    let log = dir.join("page.log");
    let pages = StaticServer::start_logging(&page_dir, Some(&log));
    let base = format!("http://127.0.0.1:{}", pages.port);
    let api_url = format!("http://127.0.0.1:{api}");
    // Reports go to /<page>/report/...: each page is opened below a directory naming it.
    for name in ["pub", "whep", "json"] {
        std::os::unix::fs::symlink(&page_dir, page_dir.join(name)).expect("page alias");
    }
    let profile = |name: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(&path).expect("profile dir");
        path
    };
    let _publisher = Browser::open_with(
        &profile("pub"),
        &format!("{base}/pub/whip.html?api={api_url}&stream=cam"),
        &FAKE_MEDIA,
    );
    let answered = wait_for(30, "the whip answer", || newest_report(&log, "pub", "answer-"));
    assert_eq!(answered, "201", "WHIP answered {answered}; srs log:\n{}", srs.log());
    wait_for(30, "the publisher sending video", || {
        newest_report(&log, "pub", "sent-")
            .filter(|s| s.split('-').next().is_some_and(|f| f.parse::<u64>().unwrap_or(0) > 30))
    });

    let _whep = Browser::open_with(
        &profile("whep"),
        &format!("{base}/whep/whep.html?api={api_url}&stream=cam"),
        &FAKE_MEDIA,
    );
    let _json = Browser::open_with(
        &profile("json"),
        &format!("{base}/json/whep.html?api={api_url}&stream=cam&style=json"),
        &FAKE_MEDIA,
    );
    assert_eq!(wait_for(30, "the whep answer", || newest_report(&log, "whep", "answer-")), "201");
    assert_eq!(wait_for(30, "the json answer", || newest_report(&log, "json", "answer-")), "0-session");
    let whep_frames = decoding(&log, "whep", 10);
    decoding(&log, "json", 10);

    // The WHIP stream's H.264 reaches HTTP-FLV players at the camera's size.
    let streams = probe_with(
        &["-analyzeduration", "3000000", "-read_intervals", "%+#60"],
        &format!("http://127.0.0.1:{flv}/live/cam.flv"),
    );
    let video = streams.iter().find(|s| s.codec == "h264").expect("h264 in the flv stream");
    assert_eq!((video.width, video.height), (640, 480));
    assert!(video.frames > 10, "{} frames over http-flv", video.frames);

    // Garbage and a STUN binding for an unknown session on the shared port touch no session.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let mut stun = vec![0, 1, 0, 12, 0x21, 0x12, 0xa4, 0x42];
    stun.extend_from_slice(&[7; 12]);
    stun.extend_from_slice(&[0, 6, 0, 8]);
    stun.extend_from_slice(b"nobody:x");
    for i in 0..300u32 {
        let garbage: Vec<u8> = (0..(i % 200 + 1)).map(|j| (i * 31 + j * 7) as u8).collect();
        socket.send_to(&garbage, ("127.0.0.1", udp)).expect("send");
        socket.send_to(&stun, ("127.0.0.1", udp)).expect("send");
        // RTP-looking and DTLS-looking datagrams from an unknown address.
        socket.send_to(&[0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9], ("127.0.0.1", udp)).expect("send");
        socket.send_to(&[22, 254, 253, 0, 0], ("127.0.0.1", udp)).expect("send");
    }
    let after = decoding(&log, "whep", whep_frames + 50);
    assert!(after > whep_frames + 50);
    decoding(&log, "json", whep_frames + 50);

    // The registry lists the WebRTC peers like any other client.
    let types = client_types(api);
    let players = types.iter().filter(|t| *t == "rtc-play").count();
    assert!(types.contains(&"rtc-publish".to_owned()) && players == 2, "{types:?}");
    assert_own_srtp(api, 50);
    assert_slim(api);

    // A player kicked through the API leaves (its session ends); the other keeps decoding.
    let clients = common::api_get(api, "/api/v1/clients/");
    let list = clients["clients"].as_array().expect("clients").clone();
    let kicked =
        list.iter().find(|c| c["type"] == "rtc-play").and_then(|c| c["id"].as_str()).expect("a player id");
    let (status, body) = http_exchange(api, "DELETE", &format!("/api/v1/clients/{kicked}"), &[], b"");
    assert_eq!(status, 200, "{body}");
    let one_player = || client_types(api).iter().filter(|t| *t == "rtc-play").count() == 1;
    assert!(common::wait_until(10, one_player), "{:?}", client_types(api));
    let still = ["whep", "json"].iter().any(|page| {
        let base = stats(&log, page).map_or(0, |s| s.0);
        common::wait_until(5, || stats(&log, page).is_some_and(|s| s.0 > base + 20))
    });
    assert!(still, "the player not kicked keeps decoding");

    // DELETE of the WHIP Location ends the publish; the registry forgets the publisher.
    let location = unescape(&newest_report(&log, "pub", "location-").expect("the page reports the Location"));
    assert!(location.starts_with("/rtc/v1/whip/?action=delete&token="), "{location}");
    let (status, body) = http_exchange(api, "DELETE", &location.replace("token=", "token=wrong"), &[], b"");
    assert_eq!(status, 403, "a wrong token: {body}");
    let (status, body) = http_exchange(api, "DELETE", &location, &[], b"");
    assert_eq!(status, 200, "{body}");
    let publisher_gone = common::wait_until(10, || !client_types(api).contains(&"rtc-publish".to_owned()));
    assert!(publisher_gone, "{:?}", client_types(api));
    let unpublished = || {
        let streams = common::api_get(api, "/api/v1/streams/");
        let list = streams["streams"].as_array().cloned().unwrap_or_default();
        list.iter().all(|s| s["publish"]["active"] == false)
    };
    assert!(common::wait_until(10, unpublished), "the stream ends with its publisher");
    drop(pages);
}

#[test]
fn offers_without_our_codecs_or_past_max_connections_are_refused() {
    let dir = temp_dir("rtc_webrtc_refusals");
    let (api, udp, flv) = (free_port(), free_udp_port(), free_port());
    let _srs = run_graph(&dir, &graph(api, udp, flv, 0), &[api, flv]);
    let vp8_only = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
        c=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\n";
    let sdp = ["Content-Type: application/sdp"];
    let (status, body) =
        http_exchange(api, "POST", "/rtc/v1/whip/?app=live&stream=s", &sdp, vp8_only.as_bytes());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no codec") && body.contains("vp8"), "{body}");
    let (status, body) =
        http_exchange(api, "POST", "/rtc/v1/whep/?app=live&stream=s", &sdp, vp8_only.as_bytes());
    assert_eq!(status, 400, "{body}");
    // max_connections = 0: an offer we could take finds no room.
    let h264 =
        vp8_only.replace("VP8/90000", "H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f");
    let (status, body) = http_exchange(api, "POST", "/rtc/v1/whip/?app=live&stream=s", &sdp, h264.as_bytes());
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("max_connections"), "{body}");
    let json = serde_json::json!({"sdp": h264, "streamurl": "webrtc://127.0.0.1/live/s"}).to_string();
    let (status, body) = http_exchange(api, "POST", "/rtc/v1/play/", &[], json.as_bytes());
    assert_eq!(status, 503, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(answer["code"], 503);
}

#[test]
fn rtmp_publish_plays_with_whep_video_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("rtc_webrtc_rtmp");
    let page_dir = dir.join("page");
    std::fs::create_dir_all(&page_dir).expect("page dir");
    std::fs::copy(root.join("tests/player/whep.html"), page_dir.join("whep.html")).expect("copy page");
    std::os::unix::fs::symlink(&page_dir, page_dir.join("whep")).expect("page alias");
    let (api, udp, rtmp) = (free_port(), free_udp_port(), free_port());
    let graph = common::rtmp_to_whep_graph(api, udp, rtmp);
    let _srs = run_graph(&dir, &graph, &[api, rtmp]);
    let log = dir.join("page.log");
    let pages = StaticServer::start_logging(&page_dir, Some(&log));
    let profile = dir.join("whep");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let url =
        format!("http://127.0.0.1:{}/whep/whep.html?api=http://127.0.0.1:{api}&stream=rtmp", pages.port);
    // The player comes first and waits for the publisher.
    let _player = Browser::open_with(&profile, &url, &FAKE_MEDIA);
    assert_eq!(wait_for(30, "the whep answer", || newest_report(&log, "whep", "answer-")), "201");
    // Reports may arrive out of order: any `state-connected` will do.
    let connected =
        || std::fs::read_to_string(&log).unwrap_or_default().contains("/whep/report/state-connected");
    assert!(common::wait_until(30, connected), "the player never connected");
    let publish = || common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/rtmp"), 120);
    let mut ffmpeg = publish();
    // H.264 at the publisher's size; its AAC is not sent (no AAC-to-Opus bridge here).
    let first = decoding_at(&log, "whep", 10, "320x240", false);
    decoding_at(&log, "whep", first + 25, "320x240", false);
    assert_own_srtp(api, 25);
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();

    // A republish continues the same WebRTC session.
    let before = stats(&log, "whep").map_or(0, |s| s.0);
    let mut ffmpeg = publish();
    decoding_at(&log, "whep", before + 25, "320x240", false);
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    drop(pages);
}

#[test]
fn chromium_keeps_decoding_through_five_percent_loss() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("rtc_webrtc_loss");
    let page_dir = dir.join("page");
    std::fs::create_dir_all(&page_dir).expect("page dir");
    std::fs::copy(root.join("tests/player/whep.html"), page_dir.join("whep.html")).expect("copy page");
    std::os::unix::fs::symlink(&page_dir, page_dir.join("whep")).expect("page alias");
    let (api, udp, rtmp) = (free_port(), free_udp_port(), free_port());
    let graph = common::rtmp_to_whep_graph(api, udp, rtmp);
    let _srs = run_graph(&dir, &graph, &[api, rtmp]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/lossy"), 120);
    let relay = LossyRelay::start(std::net::SocketAddr::from(([127, 0, 0, 1], udp)), 20, Vec::new());
    let log = dir.join("page.log");
    let pages = StaticServer::start_logging(&page_dir, Some(&log));
    let profile = dir.join("whep");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let url = format!(
        "http://127.0.0.1:{}/whep/whep.html?api=http://127.0.0.1:{api}&stream=lossy&eip=127.0.0.1:{}",
        pages.port, relay.port
    );
    let _player = Browser::open_with(&profile, &url, &FAKE_MEDIA);
    let first = decoding_at(&log, "whep", 10, "320x240", false);
    // 10 s more of the 25 fps stream through the lossy path: the picture keeps going.
    decoding_at(&log, "whep", first + 200, "320x240", false);
    let report = newest_report(&log, "whep", "stats-").expect("stats");
    let fields: Vec<u64> = report.split('-').filter_map(|f| f.parse().ok()).collect();
    // Numbers of stats-<frames>-<size>-<audio>-<samples>-<level>-<concealed>-<nacks>-<lost>.
    let (nacks, lost) = (fields.get(5).copied().unwrap_or(0), fields.get(6).copied().unwrap_or(u64::MAX));
    let dropped = relay.dropped.load(std::sync::atomic::Ordering::Relaxed);
    println!("chromium stats {report}, relay dropped {dropped}");
    assert!(dropped >= 10, "the relay dropped {dropped} RTP packets");
    assert!(nacks > 0, "Chromium NACKed the {dropped} packets dropped (stats {report})");
    assert!(lost * 4 < dropped, "Chromium still misses {lost} of {dropped} dropped packets (stats {report})");
    // Past its first seconds the player's NACKs reach the server's own state (`rtc_slim`).
    assert_slim(api);
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    drop(pages);
}
