//! Headless Chromium driven through the DevTools protocol over `--remote-debugging-pipe` (JSON
//! messages ended by a NUL byte; commands on fd 3, answers and events on fd 4): open pages,
//! evaluate JavaScript in them (read the DOM, click), take screenshots. No websocket needed.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// How long one DevTools command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(30);

pub struct Chromium {
    child: Child,
    commands: File,
    answers: mpsc::Receiver<Value>,
    next_id: u64,
}

/// One tab, attached in flat mode: its commands carry the session id.
pub struct Tab {
    session: String,
    target: String,
}

impl Chromium {
    /// Starts headless Chromium with a fresh profile under `dir`, fake camera and microphone,
    /// and autoplay allowed.
    pub fn launch(dir: &Path) -> Chromium {
        let (command_read, commands) = pipe();
        let (answers_read, answer_write) = pipe();
        let (cmd_fd, answer_fd) = (command_read.as_raw_fd(), answer_write.as_raw_fd());
        let mut command = Command::new("chromium");
        command
            .args(super::CHROMIUM_FLAGS)
            .args([
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--window-size=1400,1000",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", dir.join("chromium-profile").display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("chromium.log")).expect("log file"));
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl, dup2) on fds
        // this process owns; copies above 10 first, so neither target number hides a source.
        unsafe {
            command.pre_exec(move || {
                let high_cmd = libc::fcntl(cmd_fd, libc::F_DUPFD, 10);
                let high_answer = libc::fcntl(answer_fd, libc::F_DUPFD, 10);
                if high_cmd < 0 || high_answer < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::dup2(high_cmd, 3) < 0 || libc::dup2(high_answer, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium runs (scripts/install-test-deps installs it)");
        drop(command_read);
        drop(answer_write);
        let (sender, answers) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(answers_read);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                message.pop();
                if let Ok(value) = serde_json::from_slice::<Value>(&message) {
                    if sender.send(value).is_err() {
                        return;
                    }
                }
                message.clear();
            }
        });
        Chromium { child, commands, answers, next_id: 1 }
    }

    /// Sends one command (to a tab when `session` is given) and waits for its answer.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("chromium takes commands");
        let deadline = std::time::Instant::now() + COMMAND_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let answer = self.answers.recv_timeout(left).unwrap_or_else(|_| panic!("{method}: no answer"));
            if answer["id"] == json!(id) {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// Opens `url` in a new tab.
    pub fn open(&mut self, url: &str) -> Tab {
        let target = self.call(None, "Target.createTarget", json!({"url": url}));
        let target_id = target["targetId"].as_str().expect("target id").to_owned();
        let attached =
            self.call(None, "Target.attachToTarget", json!({"targetId": target_id, "flatten": true}));
        Tab { session: attached["sessionId"].as_str().expect("session id").to_owned(), target: target_id }
    }

    /// Closes `tab` (a playing page stops using the CPU).
    pub fn close(&mut self, tab: Tab) {
        self.call(None, "Target.closeTarget", json!({"targetId": tab.target}));
    }

    /// The value of a JavaScript expression in `tab` (promises awaited), `Null` when it throws.
    pub fn eval(&mut self, tab: &Tab, expression: &str) -> Value {
        let result = self.call(
            Some(&tab.session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if result.get("exceptionDetails").is_some() {
            return Value::Null;
        }
        result["result"]["value"].clone()
    }

    /// Polls `expression` every 200 ms until it is truthy; returns its value.
    pub fn wait_for(&mut self, tab: &Tab, seconds: u64, expression: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let value = self.eval(tab, expression);
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out after {seconds} s waiting for `{expression}`"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A PNG of the tab's page, written to `path`.
    pub fn screenshot(&mut self, tab: &Tab, path: &Path) {
        let shot = self.call(Some(&tab.session), "Page.captureScreenshot", json!({"format": "png"}));
        let data = shot["data"].as_str().expect("screenshot data");
        std::fs::write(path, decode_base64(data)).expect("screenshot written");
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pipe's read and write ends, closed on exec (the child gets its copies through `dup2`).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes; each is owned once below.
    let done = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(done, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nothing else.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0);
    for sextet in text.bytes().filter_map(value) {
        bits = (bits << 6) | sextet;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}
