//! SRS's security rules and connection limits with two loopback addresses: 127.0.0.2 may neither
//! publish nor play (deny rules) while 127.0.0.1 publishes with ffmpeg and plays; a per-IP limit
//! closes the extra connection from one address while the other address still connects.

mod common;

use std::io::Read;
use std::time::Duration;

use common::rtmp_client::RtmpClient;
use common::{connect_from, free_port, publish_test_stream, run_graph, temp_dir, wait_until};
use srs::codec::rtmp::ClientIntent;

fn graph(rtmp: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}", max_connections_per_ip = 3 }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{
        security = Some srs.Security::{{ rules =
          [ srs.Security.allow srs.Security.Method.Publish "127.0.0.0/8"
          , srs.Security.deny srs.Security.Method.Publish "127.0.0.2"
          , srs.Security.deny srs.Security.Method.Play "127.0.0.2"
          ] }} }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp_play" ]
}}"#
    )
}

#[test]
fn deny_rules_apply_per_address() {
    let dir = temp_dir("security");
    let rtmp = free_port();
    let server = run_graph(&dir, &graph(rtmp), &[rtmp]);
    let url = format!("rtmp://127.0.0.1:{rtmp}/live/guarded");

    let refused = RtmpClient::start_from(&url, ClientIntent::Publish, "127.0.0.2").err();
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("BadName")),
        "127.0.0.2 may not publish: {refused:?}"
    );
    let mut publisher = publish_test_stream(&url, 8);
    assert!(wait_until(10, || server.log().contains("rtmp publish conn=")), "{}", server.log());

    let mut player = RtmpClient::start_from(&url, ClientIntent::Play, "127.0.0.1").expect("127.0.0.1 plays");
    let media = player.receive_media(20, Duration::from_secs(10));
    assert!(media.len() >= 20, "127.0.0.1 receives media: {}", media.len());
    let denied = RtmpClient::start_from(&url, ClientIntent::Play, "127.0.0.2").err();
    assert!(
        denied.as_deref().is_some_and(|e| e.contains("StreamNotFound")),
        "127.0.0.2 may not play: {denied:?}"
    );
    assert!(server.log().contains("denied by rule `deny play 127.0.0.2`"), "{}", server.log());
    let _ = publisher.kill();
    let _ = publisher.wait();
}

#[test]
fn per_address_connection_limit() {
    let dir = temp_dir("security-limit");
    let rtmp = free_port();
    let server = run_graph(&dir, &graph(rtmp), &[rtmp]);
    let addr = format!("127.0.0.1:{rtmp}");
    // Three connections from 127.0.0.2 are allowed (they stay open, waiting for a handshake).
    let held: Vec<_> = (0..3).map(|_| connect_from("127.0.0.2", &addr).expect("connect")).collect();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(held.len(), 3);
    let mut fourth = connect_from("127.0.0.2", &addr).expect("tcp connect succeeds");
    fourth.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(
        fourth.read(&mut byte).expect("closed, not timed out"),
        0,
        "the 4th from 127.0.0.2 is closed at once"
    );
    assert!(server.log().contains("reach max_connections_per_ip"), "{}", server.log());
    // Another address is not limited by 127.0.0.2's connections.
    let url = format!("rtmp://{addr}/live/other");
    assert!(RtmpClient::start_from(&url, ClientIntent::Play, "127.0.0.1").is_ok());
    drop(held);
}
