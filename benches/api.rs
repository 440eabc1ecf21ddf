//! Control-plane figures: HTTP API latency with 1000 live streams and 2000 clients registered
//! (synthetic entries on a real engine and HTTP server), and the publish round trip with and
//! without `on_connect` + `on_publish` callbacks to a local hook server.
//!
//! `cargo bench --bench api` prints median and p99 per endpoint; no criterion: each sample is a
//! whole HTTP exchange over loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use srs::codec::rtmp::{ClientConfig, ClientEvent, ClientIntent, ClientSession};
use srs::control::registry::{ClientKind, Registry};
use srs::graph::{check, Edge, StreamKey};
use srs::media::{AudioTrack, Codec, MediaEvent, StreamDescription, VideoTrack};
use srs::nodes::{http_api, rtmp_in, rtmp_out, vhost, Engine, GraphFile, NamedNode, NodeSpec};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn graph(rtmp: u16, api: u16, hooks: Option<u16>) -> GraphFile {
    let mut vhost = vhost::Config::default();
    if let Some(port) = hooks {
        let url = format!("http://127.0.0.1:{port}/hook");
        vhost.http_hooks = Some(srs::control::hooks::HttpHooks {
            enabled: true,
            on_connect: vec![url.clone()],
            on_close: vec![],
            on_publish: vec![url],
            on_unpublish: vec![],
            on_play: vec![],
            on_stop: vec![],
            on_dvr: vec![],
            on_hls: vec![],
            on_hls_notify: vec![],
            timeout_ms: 5000,
            allow_on_error: false,
            ca_file: None,
        });
    }
    let node = |name: &str, node: NodeSpec| NamedNode { name: name.into(), node };
    let listen = format!("127.0.0.1:{rtmp}");
    GraphFile {
        nodes: vec![
            node(
                "rtmp",
                NodeSpec::RtmpIn(rtmp_in::Config {
                    listen: listen.clone(),
                    max_connections: 100_000,
                    max_connections_per_ip: 0,
                }),
            ),
            node("rtmp_play", NodeSpec::RtmpOut(rtmp_out::Config { listen })),
            node("__defaultVhost__", NodeSpec::Vhost(vhost)),
            node(
                "api",
                NodeSpec::HttpApi(http_api::Config {
                    listen: format!("127.0.0.1:{api}"),
                    crossdomain: true,
                    auth: http_api::ApiAuth {
                        enabled: false,
                        username: String::new(),
                        password: String::new(),
                    },
                    bearer_token: None,
                    raw_api: http_api::RawApi { enabled: false, allow_reload: false },
                    tls: None,
                }),
            ),
        ],
        edges: vec![
            Edge { from: "rtmp".into(), to: "__defaultVhost__".into() },
            Edge { from: "__defaultVhost__".into(), to: "rtmp_play".into() },
        ],
    }
}

fn get(port: u16, path: &str) -> usize {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    body.len()
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() * 99 / 100])
}

fn api_latency(runtime: &tokio::runtime::Runtime) {
    let (rtmp, api) = (free_port(), free_port());
    let checked = check(&graph(rtmp, api, None)).graph.expect("graph checks");
    let engine = Engine::new(checked);
    let source = engine.graph().index_of("rtmp").unwrap();
    let description = Arc::new(StreamDescription {
        video: Some(VideoTrack {
            codec: Codec::H264,
            config: Default::default(),
            width: 1280,
            height: 720,
            profile: "High".into(),
            level: "3.1".into(),
        }),
        audio: Some(AudioTrack {
            codec: Codec::Aac,
            config: Default::default(),
            sample_rate: 44100,
            channels: 2,
            profile: "LC".into(),
        }),
    });
    let publications = runtime.block_on(async {
        engine.start().await.unwrap();
        let mut publications = Vec::new();
        for i in 0..1000 {
            let mut publication =
                engine.publish(source, StreamKey::new("__defaultVhost__", "live", format!("s{i}"))).unwrap();
            publication.send(MediaEvent::Description(Arc::clone(&description))).await;
            publications.push(publication);
        }
        publications
    });
    let registry = engine.shared::<Registry>();
    let guards: Vec<_> = (0..2000u64)
        .map(|i| {
            let guard = registry.register(1_000_000 + i, "127.0.0.1".parse().unwrap());
            guard.client().update(|info| {
                info.kind = if i < 1000 { ClientKind::FmlePublish } else { ClientKind::RtmpPlay };
                info.stream = Some(StreamKey::new("__defaultVhost__", "live", format!("s{}", i % 1000)));
            });
            guard
        })
        .collect();
    for path in [
        "/api/v1/versions",
        "/api/v1/streams",
        "/api/v1/streams?count=1000",
        "/api/v1/clients",
        "/api/v1/clients?count=2000",
        "/api/v1/summaries",
        "/metrics",
    ] {
        let mut samples = Vec::new();
        let mut size = 0;
        for _ in 0..100 {
            let started = Instant::now();
            size = get(api, path);
            samples.push(started.elapsed());
        }
        let (median, p99) = percentiles(samples);
        println!("GET {path:<30} {size:>8} bytes  median {median:>10.2?}  p99 {p99:>10.2?}");
    }
    drop(guards);
    drop(publications);
}

fn hook_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ =
                reader.into_inner().write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"code\":0}\n");
        }
    });
    port
}

/// Time from TCP connect to NetStream.Publish.Start.
fn publish_once(rtmp: u16, stream: &str) -> Duration {
    let started = Instant::now();
    let mut socket = TcpStream::connect(("127.0.0.1", rtmp)).unwrap();
    socket.set_nodelay(true).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let url = format!("rtmp://127.0.0.1:{rtmp}/live/{stream}");
    let mut session = ClientSession::new(ClientConfig::from_url(&url, ClientIntent::Publish));
    let mut buffer = vec![0u8; 65536];
    loop {
        while let Some(bytes) = session.poll_output() {
            socket.write_all(&bytes).unwrap();
        }
        while let Some(event) = session.poll_event() {
            match event {
                ClientEvent::Publishing => return started.elapsed(),
                ClientEvent::Rejected { code, .. } => panic!("rejected: {code}"),
                _ => {}
            }
        }
        let n = socket.read(&mut buffer).unwrap();
        assert!(n > 0, "server closed");
        session.handle_input(&buffer[..n]).unwrap();
    }
}

fn hook_overhead(runtime: &tokio::runtime::Runtime) {
    let hooks = hook_server();
    for (label, hooks) in [("no hooks", None), ("on_connect + on_publish", Some(hooks))] {
        let (rtmp, api) = (free_port(), free_port());
        let engine = Engine::new(check(&graph(rtmp, api, hooks)).graph.unwrap());
        runtime.block_on(engine.start()).unwrap();
        let samples: Vec<Duration> = (0..200).map(|i| publish_once(rtmp, &format!("p{i}"))).collect();
        let (median, p99) = percentiles(samples);
        println!("publish handshake→Publish.Start, {label:<24} median {median:>10.2?}  p99 {p99:>10.2?}");
    }
}

/// One blocking callback round trip (`hooks::call` to the local hook server).
fn hook_call(runtime: &tokio::runtime::Runtime) {
    let port = hook_server();
    let url = format!("http://127.0.0.1:{port}/hook");
    let hooks = srs::control::hooks::HttpHooks {
        enabled: true,
        on_connect: vec![],
        on_close: vec![],
        on_publish: vec![url],
        on_unpublish: vec![],
        on_play: vec![],
        on_stop: vec![],
        on_dvr: vec![],
        on_hls: vec![],
        on_hls_notify: vec![],
        timeout_ms: 5000,
        allow_on_error: false,
        ca_file: None,
    };
    let registry = Registry::default();
    let subject =
        srs::control::hooks::HookSubject::for_stream(&StreamKey::new("__defaultVhost__", "live", "s"));
    let samples: Vec<Duration> = (0..500)
        .map(|_| {
            let started = Instant::now();
            let event = srs::control::hooks::HookEvent::Publish;
            runtime.block_on(srs::control::hooks::call(&registry, &hooks, event, &subject)).unwrap();
            started.elapsed()
        })
        .collect();
    let (median, p99) = percentiles(samples);
    println!("one on_publish callback round trip                median {median:>10.2?}  p99 {p99:>10.2?}");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    api_latency(&runtime);
    hook_overhead(&runtime);
    hook_call(&runtime);
}
