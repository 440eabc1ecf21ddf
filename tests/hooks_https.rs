//! `https://` hook URLs: a hook server with a certificate from a private CA (made here with the
//! openssl CLI, served by Python's `ssl`) gets SRS's on_publish body over TLS when the vhost's
//! `ca_file` names that CA, and its answer decides; without the CA the certificate is not
//! trusted and the publish is denied, naming TLS in the log.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, publish_test_stream, run_graph, temp_dir, wait_until};

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status();
    assert!(status.is_ok_and(|s| s.success()), "openssl {args:?}");
}

/// A CA and a server certificate for 127.0.0.1 signed by it: `(ca.pem, server.pem, server.key)`.
fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    openssl(
        dir,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test ca"]
            .iter()
            .copied()
            .chain(["-keyout", "ca.key", "-out", "ca.pem"])
            .collect::<Vec<_>>(),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .expect("ext file");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
        ]
        .iter()
        .copied()
        .chain(["-extfile", "san.ext", "-out", "server.pem"])
        .collect::<Vec<_>>(),
    );
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

/// An HTTPS hook server writing each body on a line of `log`; denies streams named `denied`.
struct HookServer(Child);

impl Drop for HookServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hook_server(port: u16, cert: &Path, key: &Path, log: &Path) -> HookServer {
    let script = r#"
import http.server, json, ssl, sys
port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class Hooks(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "ab") as f:
            f.write(body + b"\n")
        answer = b'{"code":403}' if json.loads(body).get("stream") == "denied" else b'{"code":0}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), Hooks)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;
    let child = Command::new("python3")
        .args(["-c", script, &port.to_string()])
        .args([cert, key, log])
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 runs");
    assert!(wait_until(10, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()), "hook server up");
    HookServer(child)
}

fn graph(rtmp: u16, hooks: u16, ca_file: Option<&Path>) -> String {
    let ca = match ca_file {
        Some(path) => format!("Some \"{}\"", path.display()),
        None => "None Text".to_owned(),
    };
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{
        http_hooks = Some srs.HttpHooks::{{ on_publish = [ "https://127.0.0.1:{hooks}/api/v1/streams" ], ca_file = {ca} }} }})
    , srs.node "out" (srs.Node.FileOut srs.FileOut::{{ path = "out-[stream].flv" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "out" ]
}}"#
    )
}

fn bodies(log: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

#[test]
fn https_hooks_are_called_with_the_configured_ca_and_refused_without_it() {
    let dir = temp_dir("hooks-https");
    let (ca, cert, key) = private_ca(&dir);
    let (rtmp, hooks) = (free_port(), free_port());
    let log = dir.join("hooks.log");
    let _hook_server = hook_server(hooks, &cert, &key, &log);

    let server = run_graph(&dir, &graph(rtmp, hooks, Some(&ca)), &[rtmp]);
    let allowed =
        publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/allowed"), 2).wait().expect("ffmpeg");
    assert!(allowed.success(), "the https hook allowed the publish; log:\n{}", server.log());
    let denied =
        publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/denied"), 2).wait().expect("ffmpeg");
    assert!(!denied.success(), "the https hook denied the publish");
    let calls = bodies(&log);
    let streams: Vec<&str> = calls.iter().filter_map(|c| c["stream"].as_str()).collect();
    assert_eq!(streams, ["allowed", "denied"], "{calls:?}");
    assert!(calls.iter().all(|c| c["action"] == "on_publish" && c["app"] == "live"), "{calls:?}");
    assert!(wait_until(10, || dir.join("out-allowed.flv").exists()), "the allowed stream was recorded");
    drop(server);

    // Without the CA, the hook server's certificate is not trusted: the publish is denied.
    let rtmp = free_port();
    let server = run_graph(&dir, &graph(rtmp, hooks, None), &[rtmp]);
    let untrusted =
        publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/untrusted"), 2).wait().expect("ffmpeg");
    assert!(!untrusted.success(), "an untrusted https hook denies");
    assert!(wait_until(5, || server.log().contains("tls")), "the log names TLS:\n{}", server.log());
    assert_eq!(bodies(&log).len(), 2, "no body reached the untrusted server");
    std::thread::sleep(Duration::from_millis(100));
}
