//! The hub writing to attached players' sockets itself, and handing them back.

use std::io::IoSlice;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;

use super::{Consumer, DirectSink, Hub, HubConfig, Packet, PacketClass};

/// A socket that takes up to `room` more bytes, then would block.
#[derive(Debug, Default)]
struct FakeSocket {
    written: Mutex<Vec<u8>>,
    room: Mutex<usize>,
}

impl FakeSocket {
    fn with_room(room: usize) -> Arc<FakeSocket> {
        Arc::new(FakeSocket { written: Mutex::default(), room: Mutex::new(room) })
    }

    fn take_written(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.written.lock().unwrap())).unwrap()
    }
}

impl DirectSink for FakeSocket {
    fn try_write(&self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let mut room = self.room.lock().unwrap();
        if *room == 0 {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let mut written = self.written.lock().unwrap();
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(*room - n);
            written.extend_from_slice(&buf[..take]);
            n += take;
        }
        *room -= n;
        Ok(n)
    }
}

fn packet(time_ms: i64, tag: &str) -> Packet {
    Packet::new(Bytes::copy_from_slice(tag.as_bytes()), time_ms, PacketClass::Video)
}

fn poll(consumer: &mut Consumer) -> Poll<Vec<String>> {
    let mut out = Vec::new();
    let mut cx = Context::from_waker(Waker::noop());
    consumer.poll_recv_batch(&mut cx, &mut out, 128).map(|result| {
        result.expect("hub open");
        out.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    })
}

fn attached_consumer(hub: &Arc<Hub>, socket: &Arc<FakeSocket>) -> Consumer {
    let mut consumer = hub.subscribe();
    consumer.write_directly(Arc::clone(socket) as Arc<dyn DirectSink>);
    assert_eq!(poll(&mut consumer), Poll::Pending, "caught up: attaches");
    assert!(consumer.is_direct());
    consumer
}

#[test]
fn an_attached_player_gets_each_flush_written_by_the_hub() {
    let hub = Hub::new(HubConfig::default());
    hub.start_publish();
    let socket = FakeSocket::with_room(1000);
    let mut consumer = attached_consumer(&hub, &socket);
    hub.push(packet(0, "k"));
    hub.push(packet(40, "p1"));
    hub.end_burst();
    hub.push(packet(80, "p2"));
    hub.end_burst();
    assert_eq!(socket.take_written(), "kp1p2", "written by the flushes, in order");
    assert_eq!(poll(&mut consumer), Poll::Pending, "nothing for the task to do");
}

#[test]
fn a_socket_that_would_block_hands_the_player_back_with_the_rest() {
    let hub = Hub::new(HubConfig::default());
    hub.start_publish();
    let socket = FakeSocket::with_room(3);
    let mut consumer = attached_consumer(&hub, &socket);
    hub.push(packet(0, "k1"));
    hub.push(packet(40, "p1"));
    hub.end_burst();
    assert_eq!(socket.take_written(), "k1p");
    assert!(hub.lock().direct.attached() == 0);
    hub.push(packet(80, "p2"));
    hub.end_burst();
    assert_eq!(socket.take_written(), "", "handed back: the hub writes no more");
    assert_eq!(poll(&mut consumer), Poll::Ready(vec!["1".into(), "p2".into()]), "the rest, then the ring");
    assert!(!consumer.is_direct());
    *socket.room.lock().unwrap() = 1000;
    assert_eq!(poll(&mut consumer), Poll::Pending, "caught up again: reattached");
    assert!(consumer.is_direct());
    hub.push(packet(120, "p3"));
    hub.end_burst();
    assert_eq!(socket.take_written(), "p3");
}

#[test]
fn taking_back_resumes_after_what_the_hub_wrote() {
    let hub = Hub::new(HubConfig::default());
    hub.start_publish();
    let socket = FakeSocket::with_room(1000);
    let mut consumer = attached_consumer(&hub, &socket);
    hub.push(packet(0, "k"));
    hub.end_burst();
    let mut owed = Vec::new();
    consumer.take_back(&mut owed);
    assert!(owed.is_empty() && !consumer.is_direct());
    hub.push(packet(40, "p"));
    hub.end_burst();
    assert_eq!(socket.take_written(), "k", "the task writes from now on");
    assert_eq!(poll(&mut consumer), Poll::Ready(vec!["p".into()]));
}

#[test]
fn closing_the_hub_hands_every_player_back_and_leaving_frees_the_slot() {
    let hub = Hub::new(HubConfig::default());
    hub.start_publish();
    let socket = FakeSocket::with_room(1000);
    let mut consumer = attached_consumer(&hub, &socket);
    let other = attached_consumer(&hub, &socket);
    drop(other);
    assert_eq!(hub.lock().direct.attached(), 1);
    hub.push(packet(0, "k"));
    hub.close();
    assert_eq!(socket.take_written(), "k", "the last flush is written before the close");
    let mut out = Vec::new();
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(consumer.poll_recv_batch(&mut cx, &mut out, 128), Poll::Ready(Err(super::Closed)));
}

#[test]
fn a_flush_to_many_players_is_written_by_several_threads_to_every_one() {
    let hub = Hub::new(HubConfig::default());
    hub.start_publish();
    let sockets: Vec<Arc<FakeSocket>> =
        (0..700).map(|i| FakeSocket::with_room(if i == 500 { 2 } else { 1000 })).collect();
    let mut consumers: Vec<Consumer> = sockets.iter().map(|socket| attached_consumer(&hub, socket)).collect();
    hub.push(packet(0, "k1"));
    hub.push(packet(40, "p1"));
    hub.end_burst();
    for (i, socket) in sockets.iter().enumerate() {
        let expected = if i == 500 { "k1" } else { "k1p1" };
        assert_eq!(socket.take_written(), expected, "player {i}");
    }
    assert_eq!(hub.lock().direct.attached(), 699, "the one whose socket filled was handed back");
    assert_eq!(poll(&mut consumers[500]), Poll::Ready(vec!["p1".into()]));
}
