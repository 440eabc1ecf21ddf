//! `Exec` (SRS's vhost `exec`) and the supervised child processes: a program runs with the
//! stream's variables while the stream is published, is listed at `/api/v1/processes` with its
//! exact command line, and is gone after unpublish; a `kill -9` of the server leaves no child;
//! the graph's `max_processes` bounds how many run.

mod common;

use std::path::Path;

use common::{api_get, free_port, publish_test_stream, run_graph, temp_dir, wait_until};

fn exec_graph(rtmp: u16, api: u16, publish: &[String], max_processes: u32) -> String {
    let lines = publish.iter().map(|l| format!("\"{l}\"")).collect::<Vec<_>>().join(", ");
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "exec" (srs.Node.Exec srs.Exec::{{ publish = [ {lines} ], max_processes = {max_processes} }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "exec" ]
}}"#
    )
}

/// A script that writes its arguments to `argv.txt` beside it, then sleeps as the same process.
fn write_script(dir: &Path) -> String {
    let script = dir.join("prog.sh");
    let argv = dir.join("argv.txt");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" > {}\nexec sleep 1000\n", argv.display()))
        .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&script).status().unwrap();
    script.display().to_string()
}

fn alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

fn processes(api: u16) -> Vec<serde_json::Value> {
    api_get(api, "/api/v1/processes")["processes"].as_array().cloned().unwrap_or_default()
}

#[test]
fn the_program_runs_with_the_stream_variables_during_publish_and_is_gone_after() {
    let dir = temp_dir("exec-publish");
    let (rtmp, api) = (free_port(), free_port());
    let script = write_script(&dir);
    let line = format!("{script} [vhost] [app] [stream] [port] [param]");
    let server = run_graph(&dir, &exec_graph(rtmp, api, &[line], 0), &[rtmp, api]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/cam?token=7"), 6);

    assert!(wait_until(10, || dir.join("argv.txt").exists()), "the program ran: {}", server.log());
    assert!(wait_until(5, || !std::fs::read_to_string(dir.join("argv.txt")).unwrap().is_empty()));
    let argv = std::fs::read_to_string(dir.join("argv.txt")).unwrap();
    assert_eq!(argv.trim(), format!("__defaultVhost__ live cam {rtmp} ?token=7"));

    let listed = processes(api);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["cmdline"], format!("{script} __defaultVhost__ live cam {rtmp} ?token=7"));
    assert_eq!(listed[0]["stream"], "/live/cam");
    let pid = listed[0]["pid"].as_u64().unwrap();
    assert!(pid > 0 && alive(pid), "the program runs during the publish (pid {pid})");
    let streams = api_get(api, "/api/v1/streams");
    let stream = &streams["streams"][0];
    assert_eq!(
        stream["processes"][0]["cmdline"], listed[0]["cmdline"],
        "the stream lists its programs: {streams}"
    );

    assert!(publisher.wait().unwrap().success());
    assert!(wait_until(10, || !alive(pid)), "the program is stopped after unpublish: {}", server.log());
    assert!(wait_until(5, || processes(api).is_empty()), "the API forgets it");
    assert!(server.log().contains("process stopped"), "{}", server.log());
}

#[test]
fn a_program_that_exits_at_once_is_restarted_with_backoff_not_in_a_loop() {
    let dir = temp_dir("exec-false");
    let (rtmp, api) = (free_port(), free_port());
    let server = run_graph(&dir, &exec_graph(rtmp, api, &["false [stream]".into()], 0), &[rtmp, api]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/quick"), 6);
    std::thread::sleep(std::time::Duration::from_secs(5));
    let log = server.log();
    let exits = log.matches("process exited").count();
    // Backoff 1 s, 2 s, 4 s ...: about three starts in five seconds, never hundreds.
    assert!((2..=5).contains(&exits), "{exits} exits in 5 s:\n{log}");
    assert!(log.contains("retry_in"), "the backoff is logged: {log}");
    let _ = publisher.wait();
}

#[test]
fn the_graph_limit_bounds_the_running_processes() {
    let dir = temp_dir("exec-max");
    let (rtmp, api) = (free_port(), free_port());
    let lines = ["sleep 101".to_owned(), "sleep 102".to_owned()];
    let server = run_graph(&dir, &exec_graph(rtmp, api, &lines, 1), &[rtmp, api]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/max"), 5);
    assert!(wait_until(10, || processes(api).len() == 1), "{}", server.log());
    assert!(wait_until(5, || server.log().contains("limit of 1 child processes")), "{}", server.log());
    assert_eq!(processes(api)[0]["cmdline"], "sleep 101");
    let _ = publisher.wait();
}

#[test]
fn kill_9_of_the_server_leaves_no_child() {
    let dir = temp_dir("exec-kill9");
    let (rtmp, api) = (free_port(), free_port());
    // An FFmpeg that would run for ever on its own.
    let line = "ffmpeg -nostdin -re -f lavfi -i testsrc=size=160x120:rate=10 -f null -".to_owned();
    let mut server = run_graph(&dir, &exec_graph(rtmp, api, &[line], 0), &[rtmp, api]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/k"), 20);
    assert!(wait_until(10, || processes(api).first().is_some_and(|p| p["pid"].as_u64() > Some(0))));
    let pid = processes(api)[0]["pid"].as_u64().unwrap();
    assert!(alive(pid), "ffmpeg runs");
    server.child.kill().unwrap(); // SIGKILL: the server cannot clean up.
    server.child.wait().unwrap();
    assert!(wait_until(5, || !alive(pid)), "the ffmpeg child died with the server (pid {pid})");
    let _ = publisher.kill();
    let _ = publisher.wait();
}
