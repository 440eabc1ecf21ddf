//! SRS configuration compatibility: `srs -t -c` accepts SRS's configurations (the stock
//! srs.conf's unsupported blocks warn with file and line, never fail); `srs -c` serves what SRS
//! would (ffmpeg publishes over RTMP, ffmpeg plays over RTMP and HTTP-FLV); `srs -e` and
//! `srs conf import` give the same graph as the file; malformed files fail with file, line and
//! reason before any port is bound; SIGTERM stops with exit 0.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::hooks::{actions, hook_server};
use common::{
    api_get, catalogue, free_port, probe, publish_test_stream as publish, record, srs_bin, temp_dir,
    wait_for_port, Server,
};
use srs::conf::{self, FileSystem, Sources};
use srs::nodes::GraphFile;

/// Every feature that maps today: listen, chunk_size, http_server, play/publish settings,
/// min_latency, tcp_nodelay, an http_remux `.flv` mount; logs to a file, pid file elsewhere.
fn features_conf(rtmp: u16, http: u16) -> String {
    format!(
        "# features that map to nodes\n\
         listen              127.0.0.1:{rtmp};\n\
         chunk_size          4096;\n\
         daemon              off;\n\
         pid                 ./run/srs.pid;\n\
         srs_log_tank        file;\n\
         srs_log_file        ./logs/srs.log;\n\
         http_server {{\n\
         \x20   enabled         on;\n\
         \x20   listen          127.0.0.1:{http};\n\
         \x20   dir             ./objs/nginx/html;\n\
         }}\n\
         vhost __defaultVhost__ {{\n\
         \x20   min_latency     on;\n\
         \x20   tcp_nodelay     on;\n\
         \x20   play {{\n\
         \x20       gop_cache       on;\n\
         \x20       queue_length    10;\n\
         \x20       mw_latency      100;\n\
         \x20       time_jitter     full;\n\
         \x20   }}\n\
         \x20   publish {{\n\
         \x20       firstpkt_timeout 20000;\n\
         \x20       normal_timeout   7000;\n\
         \x20   }}\n\
         \x20   http_remux {{\n\
         \x20       enabled     on;\n\
         \x20       mount       [vhost]/[app]/[stream].flv;\n\
         \x20   }}\n\
         }}\n"
    )
}

/// SRS's stock `conf/srs.conf` shape (ports moved for the test).
fn stock_conf(rtmp: u16, http: u16, api: u16) -> String {
    format!(
        "# main config for srs.\n\
         # @see full.conf for detail config.\n\
         \n\
         listen              127.0.0.1:{rtmp};\n\
         max_connections     1000;\n\
         srs_log_tank        console;\n\
         daemon              off;\n\
         http_api {{\n\
         \x20   enabled         on;\n\
         \x20   listen          127.0.0.1:{api};\n\
         }}\n\
         http_server {{\n\
         \x20   enabled         on;\n\
         \x20   listen          127.0.0.1:{http};\n\
         \x20   dir             ./objs/nginx/html;\n\
         }}\n\
         rtc_server {{\n\
         \x20   enabled on;\n\
         \x20   listen 8000; # UDP port\n\
         \x20   candidate $CANDIDATE;\n\
         }}\n\
         vhost __defaultVhost__ {{\n\
         \x20   hls {{\n\
         \x20       enabled         on;\n\
         \x20   }}\n\
         \x20   http_remux {{\n\
         \x20       enabled     on;\n\
         \x20       mount       [vhost]/[app]/[stream].flv;\n\
         \x20   }}\n\
         \x20   rtc {{\n\
         \x20       enabled     on;\n\
         \x20       rtmp_to_rtc off;\n\
         \x20       rtc_to_rtmp off;\n\
         \x20   }}\n\
         \x20   play {{\n\
         \x20       gop_cache_max_frames 2500;\n\
         \x20   }}\n\
         }}\n"
    )
}

/// The control blocks: `max_connections`, `http_api`, and a vhost with `http_hooks` (every URL
/// on the hook server at `hooks`), `security` and `refer`.
fn control_conf(rtmp: u16, api: u16, hooks: u16) -> String {
    let hook = format!("http://127.0.0.1:{hooks}/api/v1");
    format!(
        "listen              127.0.0.1:{rtmp};\n\
         max_connections     100;\n\
         daemon              off;\n\
         srs_log_tank        console;\n\
         http_api {{\n\
         \x20   enabled         on;\n\
         \x20   listen          127.0.0.1:{api};\n\
         \x20   crossdomain     on;\n\
         \x20   raw_api {{ enabled on; allow_reload on; }}\n\
         }}\n\
         vhost __defaultVhost__ {{\n\
         \x20   http_hooks {{\n\
         \x20       enabled         on;\n\
         \x20       on_connect      {hook}/clients;\n\
         \x20       on_publish      {hook}/streams {hook}/streams2;\n\
         \x20       on_unpublish    {hook}/streams;\n\
         \x20   }}\n\
         \x20   security {{\n\
         \x20       enabled         on;\n\
         \x20       deny            play 10.0.0.1;\n\
         \x20       allow           play all;\n\
         \x20       allow           publish 127.0.0.1;\n\
         \x20   }}\n\
         \x20   refer {{\n\
         \x20       enabled         on;\n\
         \x20       play            example.com;\n\
         \x20   }}\n\
         }}\n"
    )
}

/// The features configuration as SRS_* variables.
fn features_env(rtmp: u16, http: u16) -> Vec<(&'static str, String)> {
    vec![
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_CHUNK_SIZE", "4096".into()),
        ("SRS_PID", "./run/srs.pid".into()),
        ("SRS_SRS_LOG_TANK", "file".into()),
        ("SRS_SRS_LOG_FILE", "./logs/srs.log".into()),
        ("SRS_HTTP_SERVER_ENABLED", "on".into()),
        ("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}")),
        ("SRS_HTTP_SERVER_DIR", "./objs/nginx/html".into()),
        ("SRS_VHOST_MIN_LATENCY", "on".into()),
        ("SRS_VHOST_TCP_NODELAY", "on".into()),
        ("SRS_VHOST_PLAY_GOP_CACHE", "on".into()),
        ("SRS_VHOST_PLAY_QUEUE_LENGTH", "10".into()),
        ("SRS_VHOST_PLAY_MW_LATENCY", "100".into()),
        ("SRS_VHOST_PLAY_TIME_JITTER", "full".into()),
        ("SRS_VHOST_PUBLISH_FIRSTPKT_TIMEOUT", "20000".into()),
        ("SRS_VHOST_PUBLISH_NORMAL_TIMEOUT", "7000".into()),
        ("SRS_VHOST_HTTP_REMUX_ENABLED", "on".into()),
        ("SRS_VHOST_HTTP_REMUX_MOUNT", "[vhost]/[app]/[stream].flv".into()),
    ]
}

/// `srs` with `args` in `dir`, with only the given SRS_* variables.
fn srs_command(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Command {
    let mut command = Command::new(srs_bin());
    command.args(args).current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SRS_") {
            command.env_remove(name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs `srs` to completion (a deadline guards against a process that serves instead of failing).
fn run_srs(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut child =
        srs_command(dir, args, env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("srs runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("srs {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Starts a long-running `srs`; its stderr goes to `srs.log` in `dir`.
fn spawn_srs(dir: &Path, args: &[&str], env: &[(&str, String)], ports: &[u16]) -> Server {
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let child = srs_command(dir, args, env).stderr(log).spawn().expect("srs starts");
    let server = Server { child, dir: dir.to_owned() };
    for port in ports {
        wait_for_port(*port, &server);
    }
    server
}

/// SIGTERM, then the exit status must be success.
fn stop_gracefully(mut server: Server) {
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(status.success());
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "SIGTERM must exit 0, got {status}; log:\n{}", server.log());
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Plays `url` for 3 s into `out` and checks it holds the published H.264 320x240 + AAC.
fn assert_plays_h264_and_aac(url: &str, out: &Path) {
    record(url, 3, out);
    let streams = probe(out.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{url}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{url}");
    assert!(video.frames >= 50, "{url}: about 3 s of 25 fps, got {} frames", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{url}: audio missing: {streams:?}");
}

/// The graph `srs -c` (or `-e`) builds for `sources`, through the library path the CLI uses.
fn graph_of(sources: &Sources) -> GraphFile {
    let loaded = conf::load(sources, &FileSystem).unwrap_or_else(|e| panic!("{e}"));
    conf::graph_file(&loaded.config, Path::new(&catalogue())).unwrap_or_else(|e| panic!("{e}")).normalized()
}

fn file_sources(path: PathBuf) -> Sources {
    Sources { file: Some(path), env_only: false, vars: Vec::new() }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write conf");
    path
}

#[test]
fn test_flag_accepts_srs_configurations_and_names_what_it_ignores() {
    let dir = temp_dir("conf-test-flag");
    write(&dir, "features.conf", &features_conf(free_port(), free_port()));
    write(&dir, "srs.conf", &stock_conf(free_port(), free_port(), free_port()));
    let features = run_srs(&dir, &["-t", "-c", "features.conf"], &[]);
    let stdout = String::from_utf8_lossy(&features.stdout);
    assert!(features.status.success(), "{}", String::from_utf8_lossy(&features.stderr));
    assert!(stdout.contains("features.conf: ok (6 nodes, 3 edges)"), "{stdout}");
    assert!(!String::from_utf8_lossy(&features.stderr).contains("not supported"), "every directive maps");

    let stock = run_srs(&dir, &["-t", "-c", "srs.conf"], &[]);
    let stderr = String::from_utf8_lossy(&stock.stderr);
    assert!(stock.status.success(), "{stderr}");
    // `rtc_server` maps (to `RtcIn`/`RtcOut`), and so does the vhost's `rtc` block.
    assert!(!stderr.contains("not supported"), "{stderr}");
    assert!(!stderr.contains("http_api") && !stderr.contains("max_connections"), "both map:\n{stderr}");
    assert!(!stderr.contains("block `hls { }`"), "the hls block maps to an HlsOut node:\n{stderr}");
}

#[test]
fn srs_conf_serves_rtmp_and_http_flv_and_stops_on_sigterm() {
    let dir = temp_dir("conf-serve-features");
    let (rtmp, http) = (free_port(), free_port());
    write(&dir, "srs.conf", &features_conf(rtmp, http));
    let server = spawn_srs(&dir, &["-c", "srs.conf"], &[], &[rtmp, http]);
    let pid = std::fs::read_to_string(dir.join("run/srs.pid")).expect("pid file written");
    assert_eq!(pid.trim(), server.child.id().to_string());

    let mut publisher = publish(&format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), 8);
    std::thread::sleep(Duration::from_secs(2));
    let flv_url = format!("http://127.0.0.1:{http}/live/livestream.flv");
    let rtmp_url = format!("rtmp://127.0.0.1:{rtmp}/live/livestream");
    let (flv_out, rtmp_out) = (dir.join("play.flv"), dir.join("play-rtmp.flv"));
    let http_player = std::thread::spawn(move || assert_plays_h264_and_aac(&flv_url, &flv_out));
    assert_plays_h264_and_aac(&rtmp_url, &rtmp_out);
    http_player.join().expect("http-flv player");
    let _ = publisher.wait();

    let log =
        std::fs::read_to_string(dir.join("logs/srs.log")).expect("srs_log_tank file writes srs_log_file");
    assert!(log.contains("server running"), "{log}");
    stop_gracefully(server);
    assert!(!dir.join("run/srs.pid").exists(), "pid file removed on a graceful stop");
}

#[test]
fn stock_srs_conf_serves_http_flv_with_its_unsupported_blocks_ignored() {
    let dir = temp_dir("conf-serve-stock");
    let (rtmp, http, api) = (free_port(), free_port(), free_port());
    write(&dir, "srs.conf", &stock_conf(rtmp, http, api));
    let server = spawn_srs(&dir, &["-c", "srs.conf"], &[], &[rtmp, http, api]);
    let mut publisher = publish(&format!("rtmp://127.0.0.1:{rtmp}/live/stock"), 7);
    std::thread::sleep(Duration::from_secs(2));
    assert_plays_h264_and_aac(&format!("http://127.0.0.1:{http}/live/stock.flv"), &dir.join("play.flv"));
    let _ = publisher.wait();
    let warned = server.log().lines().any(|line| line.contains(" WARN ") && line.contains("http_api"));
    assert!(!warned, "http_api maps to the API:\n{}", server.log());
    assert_eq!(api_get(api, "/api/v1/versions")["code"], 0, "the stock http_api block serves the API");
    assert!(dir.join("objs/srs.pid").exists(), "SRS's default pid file");
    stop_gracefully(server);
}

#[test]
fn srs_e_serves_from_variables_in_the_work_dir() {
    let dir = temp_dir("conf-serve-env");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let (rtmp, http) = (free_port(), free_port());
    let mut env = features_env(rtmp, http);
    env.push(("SRS_WORK_DIR", work.to_str().unwrap().to_owned()));
    let server = spawn_srs(&dir, &["-e"], &env, &[rtmp, http]);
    let pid =
        std::fs::read_to_string(work.join("run/srs.pid")).expect("pid written relative to SRS_WORK_DIR");
    assert_eq!(pid.trim(), server.child.id().to_string());
    // A player may come before the publisher: the mount answers with an FLV header and waits.
    let mut socket = TcpStream::connect(("127.0.0.1", http)).expect("http");
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    socket.write_all(b"GET /live/early.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut head = vec![0; 512];
    let n = socket.read(&mut head).expect("response");
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    drop(socket);
    assert!(std::fs::read_to_string(work.join("logs/srs.log"))
        .unwrap_or_default()
        .contains("server running"));
    stop_gracefully(server);
}

#[test]
fn variables_and_the_file_give_the_same_graph() {
    let dir = temp_dir("conf-env-graph");
    let (rtmp, http) = (free_port(), free_port());
    let path = write(&dir, "srs.conf", &features_conf(rtmp, http));
    let from_file = graph_of(&file_sources(path.clone()));
    let vars: Vec<(String, String)> =
        features_env(rtmp, http).into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
    let from_env = graph_of(&Sources { file: None, env_only: true, vars: vars.clone() });
    assert_eq!(from_file, from_env);
    assert_eq!(from_file.nodes.len(), 6, "rtmp, rtmp_play, vhost, http_remux, console, http_server");
    // With -c, variables override the file.
    let overridden = graph_of(&Sources {
        file: Some(path),
        env_only: false,
        vars: vec![("SRS_VHOST_PLAY_MW_LATENCY".into(), "200".into())],
    });
    let vhost = overridden.node("__defaultVhost__").and_then(|n| n.node.as_vhost()).expect("vhost node");
    assert_eq!(vhost.mw_latency, 200);
}

#[test]
fn conf_import_checks_clean_and_gives_the_same_graph() {
    let dir = temp_dir("conf-import");
    for (name, text) in [
        ("features.conf", features_conf(free_port(), free_port())),
        ("srs.conf", stock_conf(free_port(), free_port(), free_port())),
        ("control.conf", control_conf(free_port(), free_port(), free_port())),
    ] {
        let path = write(&dir, name, &text);
        let imported = run_srs(&dir, &["conf", "import", name, "--catalogue", &catalogue()], &[]);
        let dhall = String::from_utf8_lossy(&imported.stdout).into_owned();
        assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
        assert!(dhall.contains("classic.toGraph\n      classic.Config::{"), "{dhall}");
        assert!(!dhall.contains("gop_cache_max_frames"), "defaults are left out:\n{dhall}");
        let out = write(&dir, &format!("{name}.dhall"), &dhall);
        let check = run_srs(&dir, &["graph", "check", out.to_str().unwrap()], &[]);
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
        let loaded = srs::graph::load_file::<srs::nodes::NodeSpec>(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.normalized(), graph_of(&file_sources(path)), "{name}");
    }
    let stock = std::fs::read_to_string(dir.join("srs.conf.dhall")).unwrap();
    assert!(stock.contains("rtc_server = Some classic.RtcServer::{"), "{stock}");
    assert!(stock.contains("rtc = Some classic.Rtc::{"), "{stock}");
}

#[test]
fn malformed_files_fail_with_file_line_and_reason_before_binding() {
    let dir = temp_dir("conf-malformed");
    let cases = [
        (
            "unclosed.conf",
            "vhost __defaultVhost__ {\n    play {\n        gop_cache on;\n    }\n",
            "unclosed.conf:3: block `vhost` is not closed",
        ),
        (
            "semicolon.conf",
            "vhost __defaultVhost__ {\n    min_latency on\n}\n",
            "semicolon.conf:4: missing `;` after `min_latency on`",
        ),
        (
            "value.conf",
            "vhost __defaultVhost__ {\n    play { mw_latency soon; }\n}\n",
            "value.conf:4: `mw_latency`: bad value `soon`",
        ),
        ("include.conf", "include vhosts/missing.conf;\n", "include.conf:3: include"),
    ];
    for (name, tail, expected) in cases {
        let http = free_port();
        let head = format!(
            "listen 127.0.0.1:{};\nhttp_server {{ enabled on; listen 127.0.0.1:{http}; }}\n",
            free_port()
        );
        write(&dir, name, &format!("{head}{tail}"));
        for args in [["-c", name].as_slice(), ["-t", "-c", name].as_slice()] {
            let output = run_srs(&dir, args, &[("SRS_SRS_LOG_TANK", "console".into())]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{args:?} must fail");
            assert!(stderr.contains(expected), "{args:?}: expected `{expected}` in:\n{stderr}");
            assert!(!stderr.contains("listening"), "nothing may be bound:\n{stderr}");
        }
        std::net::TcpListener::bind(("127.0.0.1", http)).expect("the http port is still free");
        assert!(!dir.join("objs/srs.pid").exists(), "no pid file for a failed start");
    }
}

#[test]
fn http_api_from_the_file_and_from_variables_answers_versions() {
    let dir = temp_dir("conf-http-api");
    let (rtmp, api) = (free_port(), free_port());
    write(
        &dir,
        "srs.conf",
        &format!(
            "listen 127.0.0.1:{rtmp};\ndaemon off;\nhttp_api {{ enabled on; listen 127.0.0.1:{api}; }}\nvhost __defaultVhost__ {{ }}\n"
        ),
    );
    let server = spawn_srs(&dir, &["-c", "srs.conf"], &[], &[rtmp, api]);
    let versions = api_get(api, "/api/v1/versions");
    assert_eq!(versions["code"], 0, "{versions}");
    assert_eq!(versions["data"]["version"], env!("CARGO_PKG_VERSION"), "{versions}");
    assert!(!server.log().contains("not supported"), "{}", server.log());
    stop_gracefully(server);

    let (rtmp, api) = (free_port(), free_port());
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_HTTP_API_ENABLED", "on".to_owned()),
        ("SRS_HTTP_API_LISTEN", format!("127.0.0.1:{api}")),
    ];
    let server = spawn_srs(&dir, &["-e"], &vars, &[rtmp, api]);
    let versions = api_get(api, "/api/v1/versions");
    assert_eq!(versions["code"], 0, "{versions}");
    assert_eq!(versions["data"]["version"], env!("CARGO_PKG_VERSION"), "{versions}");
    stop_gracefully(server);
}

#[test]
fn an_on_publish_hook_answering_code_1_fails_the_ffmpeg_publish() {
    let dir = temp_dir("conf-hooks-deny");
    let (hooks, calls) = hook_server(|_, _| r#"{"code":1}"#.to_owned());
    let rtmp = free_port();
    write(
        &dir,
        "srs.conf",
        &format!(
            "listen 127.0.0.1:{rtmp};\ndaemon off;\nvhost __defaultVhost__ {{\n\
             \x20   http_hooks {{ enabled on; on_publish http://127.0.0.1:{hooks}/api/v1/streams; }}\n}}\n"
        ),
    );
    let server = spawn_srs(&dir, &["-c", "srs.conf"], &[], &[rtmp]);
    let status = publish(&format!("rtmp://127.0.0.1:{rtmp}/live/denied"), 3).wait().expect("ffmpeg exits");
    assert!(!status.success(), "the hook denied the publish; log:\n{}", server.log());
    assert_eq!(actions(&calls), ["on_publish"], "one call, the on_publish hook");
    stop_gracefully(server);

    // The same with the hooks given as variables.
    let (hooks, calls) = hook_server(|_, _| r#"{"code":1}"#.to_owned());
    let rtmp = free_port();
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_VHOST_HTTP_HOOKS_ENABLED", "on".to_owned()),
        ("SRS_VHOST_HTTP_HOOKS_ON_PUBLISH", format!("http://127.0.0.1:{hooks}/api/v1/streams")),
    ];
    let server = spawn_srs(&dir, &["-e"], &vars, &[rtmp]);
    let status = publish(&format!("rtmp://127.0.0.1:{rtmp}/live/denied"), 3).wait().expect("ffmpeg exits");
    assert!(!status.success(), "the hook denied the publish; log:\n{}", server.log());
    assert_eq!(actions(&calls), ["on_publish"]);
    stop_gracefully(server);
}

#[test]
fn a_disabled_vhost_refuses_publish_and_play_while_the_default_vhost_serves() {
    let dir = temp_dir("conf-vhost-disabled");
    let (rtmp, http) = (free_port(), free_port());
    write(
        &dir,
        "srs.conf",
        &format!(
            "listen 127.0.0.1:{rtmp};\ndaemon off;\nsrs_log_tank console;\nhttp_server {{ enabled on; listen 127.0.0.1:{http}; }}\n\
             vhost __defaultVhost__ {{ http_remux {{ enabled on; mount [vhost]/[app]/[stream].flv; }} }}\n\
             vhost off.example {{ enabled off; http_remux {{ enabled on; mount [vhost]/[app]/[stream].flv; }} }}\n"
        ),
    );
    let server = spawn_srs(&dir, &["-c", "srs.conf"], &[], &[rtmp, http]);
    let refused = publish(&format!("rtmp://127.0.0.1:{rtmp}/live?vhost=off.example/s"), 3)
        .wait()
        .expect("ffmpeg exits");
    assert!(!refused.success(), "publishing to the disabled vhost is refused; log:\n{}", server.log());
    assert!(server.log().contains("vhost `off.example` is disabled"), "{}", server.log());

    let mut publisher = publish(&format!("rtmp://127.0.0.1:{rtmp}/live/s"), 8);
    std::thread::sleep(Duration::from_secs(2));
    // `[vhost]` mounts pick the vhost by the Host header, as SRS.
    let curl = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3", "-H", "Host: off.example"])
        .arg(format!("http://127.0.0.1:{http}/live/s.flv"))
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&curl.stdout), "404", "no player of the disabled vhost");
    let out = dir.join("default.flv");
    assert_plays_h264_and_aac(&format!("http://127.0.0.1:{http}/live/s.flv"), &out);
    let _ = publisher.wait();
    stop_gracefully(server);
}

#[test]
fn srs_c_reloads_the_file_on_sighup_and_the_api_and_new_mounts_serve_live_streams() {
    let dir = temp_dir("conf-reload");
    let (rtmp, http, api) = (free_port(), free_port(), free_port());
    let base = format!(
        "listen 127.0.0.1:{rtmp};\ndaemon off;\nsrs_log_tank console;\n\
         http_api {{ enabled on; listen 127.0.0.1:{api}; raw_api {{ enabled on; allow_reload on; }} }}\n\
         http_server {{ enabled on; listen 127.0.0.1:{http}; }}\n"
    );
    write(&dir, "srs.conf", &format!("{base}vhost __defaultVhost__ {{ }}\n"));
    let server = spawn_srs(&dir, &["-c", "srs.conf"], &[], &[rtmp, api]);
    let mut publisher = publish(&format!("rtmp://127.0.0.1:{rtmp}/live/s"), 30);
    std::thread::sleep(Duration::from_secs(2));

    // SIGHUP: the file now mounts HTTP-FLV; the stream already live is served there.
    write(
        &dir,
        "srs.conf",
        &format!(
            "{base}vhost __defaultVhost__ {{ http_remux {{ enabled on; mount [app]/[stream].flv; }} }}\n"
        ),
    );
    let hangup = Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status();
    assert!(hangup.is_ok_and(|s| s.success()));
    assert!(common::wait_until(30, || server.log().contains("reload applied")), "{}", server.log());
    assert_plays_h264_and_aac(&format!("http://127.0.0.1:{http}/live/s.flv"), &dir.join("flv.flv"));

    // The API's reload: the file now mounts HTTP-TS as well.
    write(
        &dir,
        "srs.conf",
        &format!(
            "{base}vhost __defaultVhost__ {{ http_remux {{ enabled on; mount [app]/[stream].ts; }} }}\n"
        ),
    );
    let reply = common::api_get(api, "/api/v1/raw?rpc=reload");
    assert_eq!(reply["code"], 0, "{reply}");
    assert_plays_h264_and_aac(&format!("http://127.0.0.1:{http}/live/s.ts"), &dir.join("ts.ts"));

    // A broken file changes nothing.
    write(&dir, "srs.conf", &format!("{base}vhost __defaultVhost__ {{ play {{ mw_msgs x; }} }}\n"));
    let reply = common::api_get(api, "/api/v1/raw?rpc=reload");
    assert_ne!(reply["code"], 0, "{reply}");
    assert!(reply["msg"].as_str().is_some_and(|m| m.contains("mw_msgs")), "{reply}");
    assert_plays_h264_and_aac(&format!("http://127.0.0.1:{http}/live/s.ts"), &dir.join("ts-after.ts"));
    let _ = publisher.kill();
    let _ = publisher.wait();
    stop_gracefully(server);
}

/// `rtc { rtmp_to_rtc on; rtc_to_rtmp on; }` (conf/rtc.conf) gives `graphs/rtc.dhall`'s bridges:
/// a router "<vhost>/rtc" for WebRTC publishers, feeding the WebRTC players directly and every
/// other sink through `OpusToAac`; the vhost's own router feeding its sinks directly and the WebRTC
/// players through `AacToOpus`; with the block's bitrates and `pli_for_rtmp` in milliseconds.
#[test]
fn vhost_rtc_block_puts_the_bridges_in_the_graph() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = graph_of(&file_sources(root.join("conf/rtc.conf")));
    let kind = |name: &str| {
        let node = graph.nodes.iter().find(|n| n.name == name).unwrap_or_else(|| panic!("no node {name}"));
        format!("{:?}", node.node)
    };
    let vhost = "__defaultVhost__";
    let router = format!("{vhost}/rtc");
    let (to_rtc, to_rtmp) = (format!("{vhost}/rtmp_to_rtc"), format!("{vhost}/rtc_to_rtmp"));
    assert!(kind(&to_rtc)
        .starts_with("AacToOpus(Config { bitrate: 48000, keep_bframe: false, keep_avc_nalu_sei: true"));
    assert!(kind(&to_rtmp).starts_with("OpusToAac(Config { bitrate: 48000"), "{}", kind(&to_rtmp));
    assert!(kind("rtc").contains("pli_interval: 6000"), "{}", kind("rtc"));
    assert!(kind(&router).starts_with("Vhost(Config { name: \"__defaultVhost__\""), "{}", kind(&router));
    let edges: Vec<(String, String)> = graph.edges.iter().map(|e| (e.from.clone(), e.to.clone())).collect();
    let has = |from: &str, to: &str| edges.contains(&(from.to_owned(), to.to_owned()));
    let remux = format!("{vhost}/http_remux");
    // RTMP: straight to its sinks, through AacToOpus to WebRTC players.
    assert!(has("rtmp", vhost) && has(vhost, "rtmp_play") && has(vhost, &remux), "{edges:?}");
    assert!(has(vhost, &to_rtc) && has(&to_rtc, "rtc_play") && !has(vhost, "rtc_play"), "{edges:?}");
    // WebRTC: straight to WebRTC players, through OpusToAac to the rest.
    assert!(has("rtc", &router) && !has("rtc", vhost) && has(&router, "rtc_play"), "{edges:?}");
    assert!(has(&router, &to_rtmp) && has(&to_rtmp, "rtmp_play") && has(&to_rtmp, &remux), "{edges:?}");
    assert!(!has(vhost, &to_rtmp) && !has(&router, &remux), "{edges:?}");

    // With both switches off the streams do not cross: no bridge, and each router feeds only its
    // own side.
    let dir = temp_dir("conf-rtc-off");
    let text = std::fs::read_to_string(root.join("conf/rtc.conf")).expect("rtc.conf");
    let off = write(
        &dir,
        "off.conf",
        &text.replace("rtmp_to_rtc on;", "rtmp_to_rtc off;").replace("rtc_to_rtmp on;", "rtc_to_rtmp off;"),
    );
    let graph = graph_of(&file_sources(off));
    assert!(graph.nodes.iter().all(|n| !n.name.contains("rtc_to_rtmp") && !n.name.contains("rtmp_to_rtc")));
    let edges: Vec<(String, String)> = graph.edges.iter().map(|e| (e.from.clone(), e.to.clone())).collect();
    let has = |from: &str, to: &str| edges.contains(&(from.to_owned(), to.to_owned()));
    assert!(has(vhost, "rtmp_play") && !has(vhost, "rtc_play"), "{edges:?}");
    assert!(
        has(&router, "rtc_play") && edges.iter().filter(|(from, _)| *from == router).count() == 1,
        "{edges:?}"
    );
}

/// SRS 4's origin cluster (conf/origin.cluster.serverA.conf): `origin_cluster on` with
/// `coworkers` in `mode local` gives the vhost an `OriginCoworkers` source asking those APIs, and
/// no edge nodes; the edge beside it (`mode remote`) gets its `EdgePull` and `EdgePush`.
#[test]
fn origin_cluster_with_coworkers_maps_to_origin_coworkers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = graph_of(&file_sources(root.join("conf/origin.cluster.serverA.conf")));
    let vhost = "__defaultVhost__";
    let node =
        graph.nodes.iter().find(|n| n.name == format!("{vhost}/origin_cluster")).expect("cluster node");
    let shown = format!("{:?}", node.node);
    assert!(shown.starts_with("OriginCoworkers"), "{shown}");
    assert!(shown.contains("\"127.0.0.1:9091\"") && shown.contains("redirect: true"), "{shown}");
    assert!(graph.edges.iter().any(|e| e.from == node.name && e.to == vhost), "a source of the vhost");
    assert!(!graph.nodes.iter().any(|n| n.name.ends_with("/edge") || n.name.ends_with("/edge_push")));
    let edge = graph_of(&file_sources(root.join("conf/origin.cluster.edge.conf")));
    assert!(edge.nodes.iter().any(|n| n.name == format!("{vhost}/edge")), "the edge pulls");
    assert!(!edge.nodes.iter().any(|n| n.name.ends_with("/origin_cluster")));
}
