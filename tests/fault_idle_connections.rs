//! Thousands of TCP connections to the RTMP port that never send a byte cost little memory each,
//! do not disturb a live stream, and are closed after the idle timeout (30 s from accept, SRS's
//! handshake timeout), which the log names.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

const IDLE: usize = 10_000;

/// This process holds every idle connection: its open-file limit goes up to the hard limit (the
/// server raises its own at start).
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write the plain struct given.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    limit.rlim_cur
}

#[test]
fn idle_connections_are_cheap_harmless_and_closed_after_the_timeout() {
    let limit = raise_open_file_limit();
    assert!(limit > IDLE as u64 + 1000, "the hard open-file limit ({limit}) is below {IDLE} connections");
    let dir = temp_dir("fault_idle_connections");
    let (rtmp, http) = (free_port(), free_port());
    let graph = format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}", max_connections = 12000 }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
}}"#
    );
    let server = run_graph(&dir, &graph, &[rtmp, http]);
    let pid = server.child.id();
    // Past start-up (the graph's evaluation), the idle server's memory.
    std::thread::sleep(Duration::from_secs(3));
    let base = rss_kib(pid);

    let opened = Instant::now();
    let mut idle: Vec<TcpStream> = (0..IDLE)
        .map(|i| TcpStream::connect(("127.0.0.1", rtmp)).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect();
    eprintln!("{IDLE} connections opened in {:?}", opened.elapsed());
    std::thread::sleep(Duration::from_secs(2));
    let held = rss_kib(pid);
    let per_connection = (held.saturating_sub(base) * 1024) / IDLE as u64;
    eprintln!("rss {base} KiB idle, {held} KiB with {IDLE} idle connections: {per_connection} bytes each");
    assert!(per_connection < 32 * 1024, "an idle connection costs {per_connection} bytes");
    for socket in &idle {
        socket.set_nonblocking(true).expect("nonblocking");
    }
    // Closed by the server: end of file (or a reset); open: nothing to read yet.
    let closed = |idle: &mut Vec<TcpStream>| {
        idle.iter_mut()
            .filter(|s| !matches!((&**s).read(&mut [0u8; 1]), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock))
            .count()
    };
    assert_eq!(closed(&mut idle), 0, "no idle connection is refused or closed early (max_connections 12000)");

    // A stream published and played while they wait is not disturbed.
    let _publisher = Background(publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/busy"), 60));
    std::thread::sleep(Duration::from_secs(3));
    let recorded = dir.join("busy.flv");
    record(&format!("http://127.0.0.1:{http}/live/busy.flv"), 3, &recorded);
    let video =
        probe(recorded.to_str().unwrap()).into_iter().find(|s| s.codec == "h264").expect("h264 played");
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 50, "3 s at 25 fps played beside {IDLE} idle connections, got {}", video.frames);

    // All of them are closed once the timeout passed, none before 25 s.
    let all_closed = wait_until(50, || closed(&mut idle) == IDLE);
    let took = opened.elapsed();
    assert!(all_closed, "{} of {IDLE} idle connections closed after {took:?}", closed(&mut idle));
    assert!(took >= Duration::from_secs(25), "closed after {took:?}, before the 30 s timeout");
    let log = server.log();
    assert!(
        log.contains("neither published nor played within 30s"),
        "the log names the timeout:\n{}",
        &log[..log.len().min(4000)]
    );

    // The publisher is still live (it is not idle), and the memory went back down.
    let again = dir.join("again.flv");
    record(&format!("http://127.0.0.1:{http}/live/busy.flv"), 2, &again);
    assert!(
        probe(again.to_str().unwrap()).iter().any(|s| s.codec == "h264" && s.frames >= 25),
        "still playing"
    );
    drop(idle);
    std::thread::sleep(Duration::from_secs(2));
    let after = rss_kib(pid);
    let freed = (held.saturating_sub(after) * 1024) / IDLE as u64;
    eprintln!("rss after the idle connections closed: {after} KiB ({freed} bytes each given back)");
    assert!(
        after <= held + 2048,
        "memory after closing ({after} KiB) does not grow past the peak ({held} KiB)"
    );
}
