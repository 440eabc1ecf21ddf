//! GB28181 caster with a camera of our own (`srs::bench::gb_device`: SIP user agent + PS muxer
//! over RTP, streaming an ffmpeg-made TS file in real time): it registers, is invited, streams,
//! and ffprobe plays the device's stream over RTMP and HTTP-FLV; over TCP and over UDP; two
//! devices at once; a wrong password gets 403; media that stops brings a re-INVITE and resumes
//! under the same players; garbage on the SIP and media ports leaves a streaming device alone.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use common::{
    api_get, free_port, make_h264_aac, probe, record, run_graph, temp_dir, wait_for_log, wait_until,
    StreamInfo,
};
use srs::bench::gb_device::{run_device, DeviceConfig, DeviceMedia, DeviceStats};
use srs::codec::sip::MediaTransport;

struct Ports {
    sip: u16,
    media: u16,
    rtmp: u16,
    http: u16,
}

impl Ports {
    fn new() -> Ports {
        // One free port serves both TCP and UDP of SIP, and of media.
        Ports { sip: free_port(), media: free_port(), rtmp: free_port(), http: free_port() }
    }
}

fn graph(ports: &Ports, password: &str) -> String {
    let Ports { sip, media, rtmp, http } = ports;
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "gb" (srs.Node.Gb28181In srs.Gb28181In::{{ sip_listen = "127.0.0.1:{sip}", media_listen = "127.0.0.1:{media}", candidate = "127.0.0.1", password = "{password}", reinvite = 2 }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "rtmp" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[vhost]/[app]/[stream].flv" }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges =
    [ srs.edge "gb" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "rtmp"
    , srs.edge "__defaultVhost__" "flv"
    ]
}}"#
    )
}

/// A device running on its own thread and runtime.
struct Device {
    stats: Arc<DeviceStats>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Device {
    fn start(
        sip: u16,
        id: &str,
        transport: MediaTransport,
        password: Option<&str>,
        media: &Arc<DeviceMedia>,
        pause: Option<Duration>,
    ) -> Device {
        let config = DeviceConfig {
            server: SocketAddr::from(([127, 0, 0, 1], sip)),
            device_id: id.to_owned(),
            server_id: "34020000002000000001".into(),
            realm: "3402000000".into(),
            password: password.map(str::to_owned),
            transport,
            keepalive: Duration::from_secs(1),
            pause_media_after: pause,
        };
        let stats = Arc::new(DeviceStats::default());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (media, device_stats) = (Arc::clone(media), Arc::clone(&stats));
        let thread = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(run_device(config, media, device_stats, stopped))
        });
        Device { stats, stop, thread: Some(thread) }
    }

    /// Stops the device; its result.
    fn finish(mut self) -> Result<(), String> {
        let _ = self.stop.send(true);
        self.thread.take().expect("running").join().expect("device thread")
    }

    fn frames_sent(&self) -> u64 {
        self.stats.frames_sent.load(Ordering::Relaxed)
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn media(dir: &Path) -> Arc<DeviceMedia> {
    let clip = dir.join("camera.ts");
    make_h264_aac(&clip, "mpegts", 6);
    Arc::new(DeviceMedia::load(&clip).expect("device media"))
}

/// Records `seconds` of `url` and returns ffprobe's streams.
fn play(url: &str, seconds: u32, out: &Path) -> Vec<StreamInfo> {
    record(url, seconds, out);
    probe(out.to_str().expect("utf-8"))
}

fn assert_h264_aac(streams: &[StreamInfo], min_frames: u64, what: &str) {
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{what}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{what}");
    assert!(video.frames >= min_frames, "{what}: {} video frames, wanted {min_frames}", video.frames);
    let audio =
        streams.iter().find(|s| s.codec == "aac").unwrap_or_else(|| panic!("{what}: no aac: {streams:?}"));
    assert!(audio.frames >= min_frames, "{what}: {} audio frames", audio.frames);
}

const CAMERA: &str = "34020000001320000001";

#[test]
fn a_tcp_device_registers_is_invited_and_plays_over_rtmp_and_http_flv() {
    let dir = temp_dir("gb28181-tcp");
    let media = media(&dir);
    let ports = Ports::new();
    let server = run_graph(&dir, &graph(&ports, ""), &[ports.sip, ports.media, ports.rtmp, ports.http]);
    let device = Device::start(ports.sip, CAMERA, MediaTransport::Tcp, None, &media, None);
    wait_for_log(&server, "gb28181 publishing");
    assert!(wait_until(10, || device.frames_sent() > 25), "the device streams after the INVITE");

    let rtmp = format!("rtmp://127.0.0.1:{}/live/{CAMERA}", ports.rtmp);
    let flv = format!("http://127.0.0.1:{}/live/{CAMERA}.flv", ports.http);
    let (rtmp_out, flv_out) = (dir.join("rtmp.flv"), dir.join("http.flv"));
    let rtmp_player = std::thread::spawn(move || play(&rtmp, 4, &rtmp_out));
    let flv_streams = play(&flv, 4, &flv_out);
    assert_h264_aac(&rtmp_player.join().expect("rtmp player"), 75, "rtmp");
    assert_h264_aac(&flv_streams, 75, "http-flv");

    let clients = api_get(ports.http, "/api/v1/clients");
    let publisher = clients["clients"].as_array().expect("clients").iter().find(|c| c["publish"] == true);
    let publisher = publisher.unwrap_or_else(|| panic!("the device is a publishing client: {clients}"));
    assert_eq!(publisher["name"], CAMERA);
    let streams = api_get(ports.http, "/api/v1/streams");
    assert!(streams["streams"].as_array().expect("streams").iter().any(|s| s["name"] == CAMERA), "{streams}");

    assert!(device.stats.keepalives_answered.load(Ordering::Relaxed) >= 2, "keepalive MESSAGEs get 200");
    assert_eq!(device.stats.invites.load(Ordering::Relaxed), 1);
    device.finish().expect("the device ran cleanly");
}

#[test]
fn a_udp_device_and_a_tcp_device_stream_at_once() {
    let dir = temp_dir("gb28181-two");
    let media = media(&dir);
    let ports = Ports::new();
    let server = run_graph(&dir, &graph(&ports, ""), &[ports.sip, ports.media, ports.rtmp, ports.http]);
    let over_udp = Device::start(ports.sip, "34020000001320000011", MediaTransport::Udp, None, &media, None);
    let over_tcp = Device::start(ports.sip, "34020000001320000012", MediaTransport::Tcp, None, &media, None);
    assert!(wait_until(10, || over_udp.frames_sent() > 25 && over_tcp.frames_sent() > 25), "both stream");
    let players: Vec<_> = ["34020000001320000011", "34020000001320000012"]
        .into_iter()
        .map(|id| {
            let url = format!("rtmp://127.0.0.1:{}/live/{id}", ports.rtmp);
            let out = dir.join(format!("{id}.flv"));
            std::thread::spawn(move || play(&url, 4, &out))
        })
        .collect();
    for (player, what) in players.into_iter().zip(["udp device", "tcp device"]) {
        assert_h264_aac(&player.join().expect("player"), 75, what);
    }
    assert!(server.log().contains("gb28181 publishing"));
    over_udp.finish().expect("udp device");
    over_tcp.finish().expect("tcp device");
}

#[test]
fn a_wrong_password_gets_403_and_the_right_one_streams() {
    let dir = temp_dir("gb28181-auth");
    let media = media(&dir);
    let ports = Ports::new();
    let _server =
        run_graph(&dir, &graph(&ports, "s3cret"), &[ports.sip, ports.media, ports.rtmp, ports.http]);
    let intruder =
        Device::start(ports.sip, "34020000001320000021", MediaTransport::Udp, Some("guess"), &media, None);
    let refused = intruder.finish();
    assert_eq!(refused, Err("register refused: 403".to_owned()));
    let no_password =
        Device::start(ports.sip, "34020000001320000022", MediaTransport::Tcp, None, &media, None);
    assert_eq!(
        no_password.finish(),
        Err("register refused: 403".to_owned()),
        "an empty answer to the challenge"
    );

    let camera = Device::start(ports.sip, CAMERA, MediaTransport::Udp, Some("s3cret"), &media, None);
    assert!(wait_until(10, || camera.frames_sent() > 25), "the authenticated device streams");
    let url = format!("http://127.0.0.1:{}/live/{CAMERA}.flv", ports.http);
    assert_h264_aac(&play(&url, 3, &dir.join("out.flv")), 50, "authenticated device");
    assert_eq!(camera.stats.registered.load(Ordering::Relaxed), 1);
    camera.finish().expect("device");
}

#[test]
fn media_that_stops_brings_a_reinvite_and_resumes_under_the_same_player() {
    let dir = temp_dir("gb28181-reinvite");
    let media = media(&dir);
    let ports = Ports::new();
    let server = run_graph(&dir, &graph(&ports, ""), &[ports.sip, ports.media, ports.rtmp, ports.http]);
    // The camera's uplink "breaks" 3 s in; the server waits `reinvite` (2 s) and invites again.
    let camera =
        Device::start(ports.sip, CAMERA, MediaTransport::Tcp, None, &media, Some(Duration::from_secs(3)));
    assert!(wait_until(10, || camera.frames_sent() > 10), "the device streams");
    let url = format!("http://127.0.0.1:{}/live/{CAMERA}.flv", ports.http);
    let out = dir.join("through.flv");
    let player = std::thread::spawn(move || play(&url, 9, &out));
    assert!(
        wait_until(15, || camera.stats.invites.load(Ordering::Relaxed) >= 2),
        "re-INVITE after the loss:\n{}",
        server.log()
    );
    let sent_at_reinvite = camera.frames_sent();
    assert!(wait_until(10, || camera.frames_sent() > sent_at_reinvite + 50), "media resumes");
    let streams = player.join().expect("player");
    // 9 s of media time with a gap of about 3 s: the player saw both sides of it.
    assert_h264_aac(&streams, 100, "one player across the re-INVITE");
    assert!(camera.stats.byes.load(Ordering::Relaxed) >= 1, "the dead call is ended with BYE");
    camera.finish().expect("device");
}

#[test]
fn garbage_on_the_sip_and_media_ports_leaves_a_streaming_device_alone() {
    let dir = temp_dir("gb28181-garbage");
    let media = media(&dir);
    let ports = Ports::new();
    let server = run_graph(&dir, &graph(&ports, ""), &[ports.sip, ports.media, ports.rtmp, ports.http]);
    let camera = Device::start(ports.sip, CAMERA, MediaTransport::Udp, None, &media, None);
    assert!(wait_until(10, || camera.frames_sent() > 25), "the device streams");

    let url = format!("rtmp://127.0.0.1:{}/live/{CAMERA}", ports.rtmp);
    let out = dir.join("out.flv");
    let player = std::thread::spawn(move || play(&url, 5, &out));
    let udp = UdpSocket::bind("127.0.0.1:0").expect("udp");
    let missing_header = "MESSAGE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
    let lying_length = format!("MESSAGE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1\r\nFrom: <sip:{CAMERA}@3402000000>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: 1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 900\r\n\r\nshort");
    // RTP of an unknown SSRC with a program stream start, and RTP headers over nonsense.
    let mut unknown_ssrc = vec![0x80, 96, 0, 1, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
    unknown_ssrc.extend_from_slice(&[0, 0, 1, 0xba, 0x44, 0, 4, 0, 4, 1, 1, 0x89, 0xc3, 0xf8]);
    for round in 0..20u8 {
        let junk: Vec<u8> = (0..1500u32).map(|i| (i as u8).wrapping_mul(31).wrapping_add(round)).collect();
        for port in [ports.sip, ports.media] {
            let _ = udp.send_to(&junk, ("127.0.0.1", port));
            if let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = tcp.write_all(&junk);
            }
        }
        let _ = udp.send_to(missing_header.as_bytes(), ("127.0.0.1", ports.sip));
        let _ = udp.send_to(lying_length.as_bytes(), ("127.0.0.1", ports.sip));
        let _ = udp.send_to(&unknown_ssrc, ("127.0.0.1", ports.media));
        if let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", ports.media)) {
            let mut framed = (unknown_ssrc.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&unknown_ssrc);
            let _ = tcp.write_all(&framed);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_h264_aac(&player.join().expect("player"), 100, "the device under garbage");
    assert_eq!(camera.stats.invites.load(Ordering::Relaxed), 1, "its call was never disturbed");
    assert_eq!(camera.stats.byes.load(Ordering::Relaxed), 0);
    let log = server.log();
    for expected in [
        "sip datagram dropped",
        "sip message dropped: missing sip header From",
        "unknown ssrc",
        "sip connection ended: not sip",
    ] {
        assert!(log.contains(expected), "`{expected}` in the log:\n{log}");
    }
    camera.finish().expect("device");
}

#[test]
fn the_gb28181_conf_serves_cameras_driven_by_srs_bench() {
    let dir = temp_dir("gb28181-conf");
    let clip = dir.join("camera.ts");
    make_h264_aac(&clip, "mpegts", 6);
    let (rtmp, http, api, sip, media) = (free_port(), free_port(), free_port(), free_port(), free_port());
    let log = std::fs::File::create(dir.join("srs.log")).expect("log");
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/gb28181.conf");
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}")),
        ("SRS_HTTP_API_LISTEN", format!("127.0.0.1:{api}")),
        ("SRS_STREAM_CASTER_LISTEN", format!("127.0.0.1:{media}")),
        ("SRS_STREAM_CASTER_SIP_LISTEN", format!("127.0.0.1:{sip}")),
        ("SRS_STREAM_CASTER_SIP_CANDIDATE", "127.0.0.1".to_owned()),
    ];
    let child = std::process::Command::new(common::srs_bin())
        .current_dir(&dir)
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .arg("-c")
        .arg(&conf)
        .stderr(log)
        .spawn()
        .expect("srs starts");
    let server = common::Server { child, dir: dir.clone() };
    for port in [rtmp, http, sip, media] {
        common::wait_for_port(port, &server);
    }
    let bench = std::process::Command::new(common::srs_bin())
        .args([
            "bench",
            "gb28181",
            "--server",
            &format!("127.0.0.1:{sip}"),
            "--devices",
            "2",
            "--duration",
            "5",
        ])
        .args(["--transport", "udp", "--file", clip.to_str().expect("utf-8")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("srs bench starts");
    let second = "34020000001320000002";
    wait_for_log(&server, "gb28181 publishing");
    std::thread::sleep(Duration::from_secs(1));
    let url = format!("http://127.0.0.1:{http}/live/{second}.flv");
    assert_h264_aac(
        &play(&url, 3, &dir.join("second.flv")),
        50,
        "the second camera over the conf's HTTP-FLV",
    );
    let report = bench.wait_with_output().expect("bench ends");
    let report = String::from_utf8_lossy(&report.stdout);
    assert!(report.contains("2 started, 2 registered, 2 streamed, 0 failed"), "{report}");
}

#[test]
fn an_external_sip_server_announces_a_device_with_post_gb_v1_publish() {
    use srs::bench::gb_device::media::{stream, MediaTarget};
    let dir = temp_dir("gb28181-external");
    let media = media(&dir);
    let (media_port, rtmp, http) = (free_port(), free_port(), free_port());
    let graph = format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "gb" (srs.Node.Gb28181In srs.Gb28181In::{{ sip_enabled = False, media_listen = "127.0.0.1:{media_port}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "rtmp" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "gb" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp" ]
}}"#
    );
    let _server = run_graph(&dir, &graph, &[media_port, rtmp, http]);
    let body = format!(r#"{{"id": "{CAMERA}", "ssrc": "0200001234"}}"#);
    let (status, answer) = common::http_exchange(
        http,
        "POST",
        "/gb/v1/publish/",
        &["Content-Type: application/json"],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer, serde_json::json!({ "code": 0, "port": media_port, "is_tcp": true }));
    let (_, again) = common::http_exchange(http, "POST", "/gb/v1/publish/", &[], body.as_bytes());
    assert_eq!(serde_json::from_str::<serde_json::Value>(&again).expect("json")["code"], 1028, "a busy id");

    // The device, invited elsewhere, streams to the port with that SSRC.
    let stats = Arc::new(DeviceStats::default());
    let target = MediaTarget {
        addr: SocketAddr::from(([127, 0, 0, 1], media_port)),
        transport: MediaTransport::Tcp,
        ssrc: 200_001_234,
    };
    let (device_media, device_stats) = (Arc::clone(&media), Arc::clone(&stats));
    let device = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(stream(
            device_media,
            target,
            device_stats,
            Some(Duration::from_secs(7)),
            std::future::pending(),
        ))
    });
    assert!(wait_until(10, || stats.frames_sent.load(Ordering::Relaxed) > 25), "the device streams");
    let url = format!("rtmp://127.0.0.1:{rtmp}/live/{CAMERA}");
    assert_h264_aac(&play(&url, 3, &dir.join("out.flv")), 50, "externally invited device");
    device.join().expect("device thread").expect("device streamed");
}
