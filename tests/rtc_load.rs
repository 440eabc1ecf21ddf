//! The WHEP load client (`srs bench --players-whep`) against our server: ffmpeg publishes a
//! 25 fps H.264 stream (keyframe every second) over RTMP, 20 bench WebRTC players play it over
//! WHEP; every player completes ICE/DTLS, receives RTP packets and keyframes and video frames at
//! the stream's rate, the HTTP API lists 20 `rtc-play` clients while they play, and their DELETEs
//! take the registry back to none; the players are spread over the server's UDP workers (one
//! `SO_REUSEPORT` socket each: the API names each client's worker). Through a UDP relay that drops 5 % of the server's RTP to
//! them, players NACK and the server resends from the stream's shared ring: frames keep their rate
//! and the packets finally missing stay near zero, while the API's and `/metrics`' NACK and
//! retransmit counters move. Garbage from a relayed player's own address
//! (bad STUN integrity, truncated DTLS, unauthenticated RTP, random bytes; before DTLS completes
//! and while it plays) and a flood of offers
//! past `max_connections` (503s) leave the other players playing at full rate.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::udp_relay::LossyRelay;
use common::{free_port, free_udp_port, run_graph, temp_dir, wait_until};
use srs::bench::stats::PlayerKind;
use srs::bench::{self, BenchConfig};

const PLAYERS: usize = 20;
/// The test stream's frame rate (`publish_test_stream`).
const FPS: f64 = 25.0;

fn rtc_play_clients(api: u16) -> Vec<serde_json::Value> {
    let clients = common::api_get(api, "/api/v1/clients/?count=100");
    let list = clients["clients"].as_array().expect("clients");
    list.iter().filter(|c| c["type"] == "rtc-play").cloned().collect()
}

fn rtc_players(api: u16) -> usize {
    rtc_play_clients(api).len()
}

/// A counter of `/metrics` (0 when absent).
fn metric(api: u16, name: &str) -> u64 {
    let (_, text) = common::http_exchange(api, "GET", "/metrics", &[], b"");
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok()).unwrap_or(0)
}

fn wait_published(api: u16, srs: &common::Server) {
    assert!(
        wait_until(30, || common::api_get(api, "/api/v1/streams/")["streams"]
            .as_array()
            .is_some_and(|s| !s.is_empty())),
        "the RTMP stream is published; srs log:\n{}",
        srs.log()
    );
}

fn bench_config(whep_url: String, players: usize, seconds: u64) -> BenchConfig {
    BenchConfig {
        url: String::new(),
        flv_url: String::new(),
        whep_url,
        players_rtmp: 0,
        players_flv: 0,
        players_whep: players,
        publishers: 0,
        source: None,
        duration: Duration::from_secs(seconds),
        settle: Duration::ZERO,
        warmup: Duration::from_secs(3),
        cooldown: Duration::from_millis(500),
        ramp_per_second: 50,
        whep_ice_check_interval: srs::bench::whep::ICE_CHECK_INTERVAL,
        server_pid: None,
        progress: false,
    }
}

fn run_bench(config: BenchConfig) -> bench::BenchReport {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    runtime.block_on(bench::run(config)).expect("bench runs")
}

#[test]
fn twenty_whep_bench_players_receive_the_stream() {
    let dir = temp_dir("rtc_load");
    let (api, udp, rtmp) = (free_port(), free_udp_port(), free_port());
    // Four UDP workers, whatever the machine's cores: the kernel spreads the players over them.
    let graph = common::rtmp_to_whep_graph(api, udp, rtmp)
        .replace(r#"candidate = "127.0.0.1" }"#, r#"candidate = "127.0.0.1", workers = 4 }"#);
    let srs = run_graph(&dir, &graph, &[api, rtmp]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/load"), 120);
    wait_published(api, &srs);

    // The API is read while the players play: the most rtc-play clients seen at once, and the
    // workers they were on.
    let most_seen = Arc::new(AtomicUsize::new(0));
    let workers_seen = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    // The fewest packets the server's worker SRTP-protected itself for one player (its own
    // send path), at the latest look with every player listed.
    let least_protected = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (most_seen, workers_seen, least_protected, done) = (
            Arc::clone(&most_seen),
            Arc::clone(&workers_seen),
            Arc::clone(&least_protected),
            Arc::clone(&done),
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let clients = rtc_play_clients(api);
                most_seen.fetch_max(clients.len(), Ordering::Relaxed);
                if clients.len() == PLAYERS {
                    let workers = clients.iter().filter_map(|c| c["rtc"]["worker"].as_u64());
                    workers_seen.lock().expect("workers").extend(workers);
                    let protected = clients.iter().map(|c| c["rtc"]["srtp_packets"].as_u64().unwrap_or(0));
                    least_protected.fetch_max(protected.min().unwrap_or(0), Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    let config = BenchConfig {
        url: String::new(),
        flv_url: String::new(),
        whep_url: format!("http://127.0.0.1:{api}/rtc/v1/whep/?app=live&stream=load"),
        players_rtmp: 0,
        players_flv: 0,
        players_whep: PLAYERS,
        publishers: 0,
        source: None,
        duration: Duration::from_secs(8),
        settle: Duration::ZERO,
        warmup: Duration::from_secs(3),
        cooldown: Duration::from_millis(500),
        ramp_per_second: 50,
        whep_ice_check_interval: srs::bench::whep::ICE_CHECK_INTERVAL,
        server_pid: None,
        progress: false,
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let report = runtime.block_on(bench::run(config)).expect("bench runs");
    done.store(true, Ordering::Relaxed);
    watcher.join().expect("watcher");
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();

    let whep = report.kinds.iter().find(|k| k.kind == PlayerKind::Whep).expect("whep players reported");
    assert_eq!((whep.started, whep.connected, whep.failed), (PLAYERS, PLAYERS, 0), "{report}\n{}", srs.log());
    let frames = whep.frame_spread.expect("frame rates");
    // Every player at the stream's rate (a 1 s window edge can cost a frame either way).
    assert!(
        frames.min >= FPS * 0.85 && frames.max <= FPS * 1.15,
        "per-player frame rates {frames:?}, want {FPS}\n{report}"
    );
    assert_eq!(whep.starved, 0, "{report}");
    // One keyframe a second (-g 25) for ~12 s of play per player, at least a few each.
    assert!(whep.keyframes >= 5 * PLAYERS as u64, "keyframes {}\n{report}", whep.keyframes);
    assert!(whep.packets >= (FPS as u64) * 8 * PLAYERS as u64, "rtp packets {}\n{report}", whep.packets);
    assert_eq!(whep.first_frame.map(|_| ()), Some(()), "first frames timed\n{report}");
    assert_eq!(most_seen.load(Ordering::Relaxed), PLAYERS, "rtc-play clients listed by the API at once");
    // Every player decoded packets the worker protected itself, not through the crate.
    let protected = least_protected.load(Ordering::Relaxed);
    assert!(protected >= 100, "the least served player got {protected} packets protected by the worker");
    let workers = workers_seen.lock().expect("workers").clone();
    println!("players on workers {workers:?}");
    assert!(
        workers.len() >= 2 && workers.iter().all(|w| *w < 4),
        "the {PLAYERS} players are spread over the 4 UDP workers: on {workers:?}"
    );
    println!("{report}");
    assert_start_is_timed(&report);
    // The players' DELETEs end their sessions: the registry forgets them.
    assert!(wait_until(10, || rtc_players(api) == 0), "rtc-play clients left: {}", rtc_players(api));
}

/// Every player's start is timed phase by phase, in order, and both sides counted the same DTLS
/// flights: the players theirs and the server's (read by the bench from `/api/v1/clients`, whose
/// per-session counters these are).
fn assert_start_is_timed(report: &bench::BenchReport) {
    use srs::bench::whep_phases::PHASES;
    let start = report.whep_start.as_ref().expect("the players' start reported");
    let mut previous = 0;
    for (phase, times, reached) in &start.phases {
        assert_eq!(*reached, PLAYERS, "players reaching {}\n{report}", phase.name());
        // Each player's phases come in order, so their medians do.
        let [p50, _, _] = times.expect("timed");
        assert!(p50 >= previous, "{} p50 {p50} µs before the phase before it\n{report}", phase.name());
        previous = p50;
    }
    assert_eq!(start.phases.len(), PHASES.len());
    // ClientHello, ClientHello with the cookie, flight 5; HelloVerifyRequest, flight 4, flight 6.
    let players = PLAYERS as u64;
    assert!(start.flights_out >= 2 * players && start.flights_in >= 2 * players, "{report}");
    let server = start.server.as_ref().expect("the server's counters from its API");
    assert_eq!(server.sessions, PLAYERS, "{report}");
    assert_eq!((server.flights_in, server.flights_out), (start.flights_out, start.flights_in), "{report}");
    let (binding, connected) = (server.first_binding.expect("bindings"), server.connected.expect("dtls"));
    assert!(binding[0] > 0 && binding[0] <= connected[0], "{report}");
    let drops = start.drops.expect("udp drops read");
    assert!(drops.bench.is_some() && drops.machine.is_some(), "{report}");
}

#[test]
fn lost_packets_are_resent_from_the_shared_ring() {
    const LOSSY_PLAYERS: usize = 3;
    let dir = temp_dir("rtc_load_loss");
    let (api, udp, rtmp) = (free_port(), free_udp_port(), free_port());
    let srs = run_graph(&dir, &common::rtmp_to_whep_graph(api, udp, rtmp), &[api, rtmp]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/loss"), 120);
    wait_published(api, &srs);
    // 5 % of the server's RTP is lost on the way; `eip` puts the relay in the answer's candidate.
    let relay = LossyRelay::start(SocketAddr::from(([127, 0, 0, 1], udp)), 20, Vec::new());
    let url =
        format!("http://127.0.0.1:{api}/rtc/v1/whep/?app=live&stream=loss&eip=127.0.0.1:{}", relay.port);
    // The API is read while the players play: the stream's and its players' NACK counters.
    let bench = std::thread::spawn(move || run_bench(bench_config(url, LOSSY_PLAYERS, 8)));
    let (mut stream_counts, mut client_nacks, mut slim_rtcp) = ((0, 0), 0, 0);
    while !bench.is_finished() {
        let streams = common::api_get(api, "/api/v1/streams/");
        if let Some(stream) = streams["streams"].as_array().and_then(|s| s.first()) {
            let rtc = &stream["rtc"];
            let counts = (rtc["nacks"].as_u64().unwrap_or(0), rtc["retransmits"].as_u64().unwrap_or(0));
            stream_counts = stream_counts.max(counts);
        }
        let nacks = rtc_play_clients(api).iter().filter_map(|c| c["rtc"]["nacks"].as_u64()).sum::<u64>();
        client_nacks = client_nacks.max(nacks);
        let read = rtc_play_clients(api).iter().filter_map(|c| c["rtc"]["slim_rtcp"].as_u64()).sum::<u64>();
        slim_rtcp = slim_rtcp.max(read);
        std::thread::sleep(Duration::from_millis(300));
    }
    let report = bench.join().expect("bench");
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    println!("{report}");
    let (nacks, retransmits) = (metric(api, "srs_rtc_nacks_total"), metric(api, "srs_rtc_retransmits_total"));
    println!("api: stream nacks/retransmits {stream_counts:?}, players' nacks {client_nacks}; metrics {nacks}/{retransmits}");
    // The server counted the players' NACKs and its retransmissions: per stream and per player
    // in the API while they played, and in /metrics' totals after they left.
    assert!(stream_counts.0 > 0 && stream_counts.1 > 0, "stream nacks/retransmits {stream_counts:?}");
    assert!(client_nacks > 0, "the players' nacks in /api/v1/clients");
    // Past their first seconds the players' RTCP (NACKs, reports) is read by the server's own
    // state, off the `rtc` crate (`servers::rtc_slim`).
    assert!(slim_rtcp > 0, "rtcp packets read by the slim state: {slim_rtcp}");
    assert!(
        nacks >= stream_counts.0 && retransmits >= stream_counts.1 && retransmits <= nacks,
        "{nacks}/{retransmits}"
    );

    let dropped = relay.dropped.load(Ordering::Relaxed);
    let forwarded = relay.forwarded.load(Ordering::Relaxed);
    let whep = report.kinds.iter().find(|k| k.kind == PlayerKind::Whep).expect("whep players reported");
    assert_eq!((whep.connected, whep.failed), (LOSSY_PLAYERS, 0), "{report}\n{}", srs.log());
    assert!(dropped * 30 > forwarded, "the relay dropped {dropped} of {forwarded} RTP packets");
    assert!(whep.nacks > 0, "players sent NACKs for the {dropped} packets dropped\n{report}");
    // Resent packets fill the gaps: what stays missing is a small part of what the relay dropped
    // (a retransmission can itself be the packet the relay drops).
    assert!(whep.lost * 4 < dropped, "{} packets still missing of {dropped} dropped\n{report}", whep.lost);
    let frames = whep.frame_spread.expect("frame rates");
    assert!(frames.min >= FPS * 0.85, "per-player frame rates {frames:?} under loss\n{report}");
    assert!(whep.keyframes >= 5 * LOSSY_PLAYERS as u64, "keyframes {}\n{report}", whep.keyframes);
}

/// Datagrams a broken or hostile client might send from its own (known) address.
fn garbage() -> Vec<Vec<u8>> {
    // A STUN binding request with a USERNAME and a MESSAGE-INTEGRITY that cannot be right.
    let mut stun = vec![0x00, 0x01, 0x00, 0x28, 0x21, 0x12, 0xa4, 0x42];
    stun.extend_from_slice(&[7; 12]);
    stun.extend_from_slice(&[0x00, 0x06, 0x00, 0x09]);
    stun.extend_from_slice(b"abcd:efgh\0\0\0");
    stun.extend_from_slice(&[0x00, 0x08, 0x00, 0x14]);
    stun.extend_from_slice(&[0xee; 20]);
    let truncated_dtls = vec![22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 1, 0, 200, 1];
    let mut fake_rtp = vec![0x80, 102, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef];
    fake_rtp.extend_from_slice(&[0x55; 300]);
    let random: Vec<u8> = (0..500u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    vec![stun, truncated_dtls, fake_rtp, random, vec![], vec![0x14], vec![0xff; 1400]]
}

#[test]
fn garbage_from_a_known_peer_and_an_offer_flood_leave_other_players_playing() {
    const DIRECT: usize = 3;
    let dir = temp_dir("rtc_load_faults");
    let (api, udp, rtmp) = (free_port(), free_udp_port(), free_port());
    // Room for the direct players and the relayed one: the flood below finds it full.
    let graph = common::rtmp_to_whep_graph(api, udp, rtmp)
        .replace(r#"candidate = "127.0.0.1" }"#, r#"candidate = "127.0.0.1", max_connections = 4 }"#);
    let srs = run_graph(&dir, &graph, &[api, rtmp]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/faults"), 120);
    wait_published(api, &srs);
    let relay = LossyRelay::start(SocketAddr::from(([127, 0, 0, 1], udp)), u64::MAX, garbage());
    let base = format!("http://127.0.0.1:{api}/rtc/v1/whep/?app=live&stream=faults");
    let relayed_url = format!("{base}&eip=127.0.0.1:{}", relay.port);
    let relayed = std::thread::spawn(move || run_bench(bench_config(relayed_url, 1, 10)));
    let direct = std::thread::spawn(move || run_bench(bench_config(base, DIRECT, 10)));
    assert!(wait_until(20, || rtc_players(api) == DIRECT + 1), "players connect: {}", rtc_players(api));

    // While they play: garbage from the relayed player's address, again and again.
    let back = relay.backs.lock().expect("relay sockets").first().cloned().expect("relayed player's socket");
    let server = SocketAddr::from(([127, 0, 0, 1], udp));
    for _ in 0..20 {
        for datagram in garbage() {
            let _ = back.send_to(&datagram, server);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // An offer flood past max_connections: every one refused with 503.
    let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n\
                 c=IN IP4 0.0.0.0\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\na=recvonly\r\n";
    for _ in 0..30 {
        let (status, body) = common::http_exchange(
            api,
            "POST",
            "/rtc/v1/whep/?app=live&stream=faults",
            &["Content-Type: application/sdp"],
            offer.as_bytes(),
        );
        assert_eq!(status, 503, "an offer past max_connections: {body}");
    }

    let direct = direct.join().expect("direct players");
    let relayed = relayed.join().expect("relayed player");
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    println!("{direct}\n{relayed}");
    let whep = direct.kinds.iter().find(|k| k.kind == PlayerKind::Whep).expect("whep players reported");
    assert_eq!((whep.connected, whep.failed, whep.starved), (DIRECT, 0, 0), "{direct}\n{}", srs.log());
    let frames = whep.frame_spread.expect("frame rates");
    assert!(frames.min >= FPS * 0.85, "direct players' frame rates {frames:?}\n{direct}");
    // The relayed player took the garbage on its own session: the stack refused each bad datagram
    // and it played on.
    let relayed_whep = relayed.kinds.iter().find(|k| k.kind == PlayerKind::Whep).expect("relayed reported");
    assert_eq!((relayed_whep.connected, relayed_whep.failed, relayed_whep.starved), (1, 0, 0), "{relayed}");
    assert!(common::api_get(api, "/api/v1/versions")["code"] == 0, "the API still answers");
}

/// Each rtc-play client's id and UDP worker.
fn player_workers(api: u16) -> std::collections::BTreeMap<String, u64> {
    let clients = rtc_play_clients(api);
    clients
        .iter()
        .filter_map(|c| Some((c["id"].as_str()?.to_owned(), c["rtc"]["worker"].as_u64()?)))
        .collect()
}

#[test]
fn players_whose_address_changes_keep_their_sessions() {
    const MOVING: usize = 4;
    let dir = temp_dir("rtc_load_move");
    let (api, udp, rtmp) = (free_port(), free_udp_port(), free_port());
    let graph = common::rtmp_to_whep_graph(api, udp, rtmp)
        .replace(r#"candidate = "127.0.0.1" }"#, r#"candidate = "127.0.0.1", workers = 4 }"#);
    let srs = run_graph(&dir, &graph, &[api, rtmp]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/move"), 120);
    wait_published(api, &srs);
    let relay = LossyRelay::start(SocketAddr::from(([127, 0, 0, 1], udp)), u64::MAX, Vec::new());
    let url =
        format!("http://127.0.0.1:{api}/rtc/v1/whep/?app=live&stream=move&eip=127.0.0.1:{}", relay.port);
    let bench = std::thread::spawn(move || run_bench(bench_config(url, MOVING, 12)));
    assert!(wait_until(20, || rtc_players(api) == MOVING), "players connect: {}", rtc_players(api));
    // The players have left the `rtc` crate (`servers::rtc_slim`): their own consent checks move them.
    let slim = || rtc_play_clients(api).iter().filter(|c| c["rtc"]["slim"] == true).count() == MOVING;
    assert!(wait_until(10, slim), "players on the slim state: {:?}", rtc_play_clients(api));
    let before = player_workers(api);

    // Every player's address changes (a NAT rebinding): the next binding from the new address
    // moves its session there, to the worker whose socket the kernel picks for it.
    relay.rebind();
    let moved = wait_until(15, || relay.forwarded_after_rebind.load(Ordering::Relaxed) > 300);
    let after = player_workers(api);
    let report = bench.join().expect("bench");
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    println!("{report}\nworkers before {before:?}, after {after:?}");
    assert!(
        moved,
        "the server sends to the new addresses: {}",
        relay.forwarded_after_rebind.load(Ordering::Relaxed)
    );
    let ids = |m: &std::collections::BTreeMap<String, u64>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!((before.len(), ids(&before)), (MOVING, ids(&after)), "the same sessions before and after");
    let whep = report.kinds.iter().find(|k| k.kind == PlayerKind::Whep).expect("whep players reported");
    assert_eq!((whep.connected, whep.failed, whep.starved), (MOVING, 0, 0), "{report}\n{}", srs.log());
}
