//! The server's lifetime: `srs run` without a file serves the embedded default graph, and SIGTERM
//! stops it gracefully: exit status 0, every stream finalized (a recording is renamed into place
//! and plays).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, make_h264_aac, probe, run_graph, srs_bin, temp_dir, wait_for_port, Server};

fn terminate(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within 15 s of SIGTERM; log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_finalizes_streams_and_exits_zero() {
    let dir = temp_dir("lifecycle-sigterm");
    let input = dir.join("in.flv");
    make_h264_aac(&input, "flv", 4);
    let port = free_port();
    let graph = format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{}", stream = "live/rec", realtime = True, repeat = True }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "record" (srs.Node.FileOut srs.FileOut::{{ path = "{}/[app]-[stream].flv" }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}" }})
    ]
, edges = [ srs.edge "file" "__defaultVhost__", srs.edge "__defaultVhost__" "record", srs.edge "__defaultVhost__" "flv" ]
}}"#,
        input.display(),
        dir.display()
    );
    let mut server = run_graph(&dir, &graph, &[port]);
    std::thread::sleep(Duration::from_secs(3));
    let status = terminate(&mut server);
    assert!(status.success(), "exit status {status:?}; log:\n{}", server.log());
    let recording = dir.join("live-rec.flv");
    assert!(recording.exists(), "the recording was finalized (renamed from .tmp); log:\n{}", server.log());
    assert!(!dir.join("live-rec.flv.tmp").exists());
    let video = probe(recording.to_str().unwrap()).into_iter().find(|s| s.codec == "h264").expect("video");
    assert!(video.frames >= 40, "about 3 s recorded, got {} frames", video.frames);
}

#[test]
fn run_without_a_file_serves_the_embedded_default_graph() {
    let dir = temp_dir("lifecycle-default");
    let log = std::fs::File::create(dir.join("srs.log")).unwrap();
    let child = Command::new(srs_bin()).arg("run").current_dir(&dir).stderr(log).spawn().unwrap();
    let mut server = Server { child, dir };
    wait_for_port(1935, &server);
    wait_for_port(8080, &server);
    assert!(server.log().contains("graphs/live.dhall"), "{}", server.log());
    assert!(terminate(&mut server).success());
}
