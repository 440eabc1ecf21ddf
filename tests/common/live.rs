//! A live server for player and publisher tests: RTMP in and out on one port, HTTP-FLV on another,
//! through the default vhost; and a way to run an external client for a bounded time.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, run_graph, temp_dir, Server};

/// RTMP publish and play on `rtmp`, HTTP-FLV on `http`, `mw_latency` 100 ms.
pub fn rtmp_flv_graph(rtmp: u16, http: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

/// A running server of [`rtmp_flv_graph`] and its two ports.
pub struct LiveServer {
    pub server: Server,
    pub rtmp: u16,
    pub http: u16,
}

impl LiveServer {
    /// Starts the server in a fresh temp dir named after the test.
    pub fn start(name: &str) -> LiveServer {
        let dir = temp_dir(name);
        let (rtmp, http) = (free_port(), free_port());
        let server = run_graph(&dir, &rtmp_flv_graph(rtmp, http), &[rtmp, http]);
        LiveServer { server, rtmp, http }
    }

    pub fn rtmp_url(&self, stream: &str) -> String {
        format!("rtmp://127.0.0.1:{}/live/{stream}", self.rtmp)
    }

    pub fn flv_url(&self, stream: &str) -> String {
        format!("http://127.0.0.1:{}/live/{stream}.flv", self.http)
    }

    pub fn dir(&self) -> &Path {
        &self.server.dir
    }
}

/// How a bounded run of an external client ended.
#[derive(Debug)]
pub struct Bounded {
    /// None when the deadline killed it.
    pub status: Option<ExitStatus>,
    /// Its stderr (and stdout when it was not redirected), for assertion messages.
    pub log: String,
}

/// A child whose output goes to `log` (a file, so a chatty client never blocks on a full pipe).
pub fn spawn_logged(command: &mut Command, log: &Path) -> Child {
    let file = std::fs::File::create(log).expect("client log file");
    let copy = file.try_clone().expect("log file handle");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(copy))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} starts (scripts/install-test-deps installs it): {e}"))
}

/// Waits for `child` until `limit`, then kills it; the run's status and its log file's text.
pub fn wait_bounded(mut child: Child, limit: Duration, log: &Path) -> Bounded {
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    Bounded { status, log: std::fs::read_to_string(log).unwrap_or_default() }
}

/// Runs `command` to its end or for at most `limit`, its output logged to `log`.
pub fn run_bounded(command: &mut Command, limit: Duration, log: &Path) -> Bounded {
    wait_bounded(spawn_logged(command, log), limit, log)
}

/// Lets `child` run for `run_for` (or until it exits), then sends it `signal` (e.g. "TERM" so
/// rtmpdump closes its file, "INT" so gst-launch -e sends EOS) and gives it `grace` to finish.
pub fn stop_after(child: Child, run_for: Duration, signal: &str, grace: Duration, log: &Path) -> Bounded {
    let mut child = child;
    let deadline = Instant::now() + run_for;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Bounded { status: Some(status), log: std::fs::read_to_string(log).unwrap_or_default() };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-s", signal, &child.id().to_string()]).status();
    wait_bounded(child, grace, log)
}
