//! A hook server for tests: a real HTTP/1.1 listener on 127.0.0.1 that records every request's
//! path and JSON body and answers what the test's rule says.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Every call received: (request path, JSON body or `Null`), in order.
pub type Calls = Arc<Mutex<Vec<(String, Value)>>>;

/// Starts the server; `answer(path, body)` is the JSON body of each 200 reply (SRS reads
/// `{"code":0}` as allow). Returns its port and the calls it records.
pub fn hook_server(answer: impl Fn(&str, &Value) -> String + Send + 'static) -> (u16, Calls) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let calls: Calls = Arc::default();
    let recorded = Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header == "\r\n" || header.is_empty() {
                    break;
                }
                if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let reply = answer(&path, &json);
            recorded.lock().expect("not poisoned").push((path, json));
            let _ = write!(
                reader.into_inner(),
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (port, calls)
}

/// The `action` of every call, in order.
pub fn actions(calls: &Calls) -> Vec<String> {
    calls
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|(_, json)| json["action"].as_str().unwrap_or("?").to_owned())
        .collect()
}
