//! Hub fan-out: frames per second delivered by `graph::hub::Hub` to 1000 in-memory consumers of
//! one stream (push a frame, every consumer polls a batch), and memory per consumer: the size of
//! `Consumer` and the bytes a subscription allocates, counted by a wrapping global allocator and
//! printed before the timings.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srs::graph::hub::{Consumer, Hub, HubConfig, Packet, PacketClass};

const CONSUMERS: usize = 1000;
/// A 1 Mbit/s stream at 25 fps: about 5 KB per frame.
const FRAME_BYTES: usize = 5000;

/// Counts bytes allocated (not freed), to measure what a subscription costs.
struct CountingAllocator;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn frame(time_ms: i64, keyframe: bool) -> Packet {
    let class = if keyframe { PacketClass::VideoKeyframe } else { PacketClass::Video };
    Packet::new(Bytes::from(vec![0u8; FRAME_BYTES]), time_ms, class)
}

/// A publishing hub with a gop in it, and its consumers caught up.
fn hub_with_consumers() -> (std::sync::Arc<Hub>, Vec<Consumer>) {
    let hub = Hub::new(HubConfig::default());
    hub.start_publish();
    hub.push(Packet::new(Bytes::from_static(b"vsh"), 0, PacketClass::VideoHeader));
    hub.push(frame(0, true));
    hub.end_burst();
    let mut consumers: Vec<Consumer> = (0..CONSUMERS).map(|_| hub.subscribe()).collect();
    let mut out = Vec::with_capacity(128);
    for consumer in &mut consumers {
        out.clear();
        consumer.poll_batch(&mut out, 128);
    }
    (hub, consumers)
}

fn report_memory_per_consumer() {
    let hub = Hub::new(HubConfig::default());
    hub.start_publish();
    let mut consumers = Vec::with_capacity(CONSUMERS);
    let before = ALLOCATED.load(Ordering::Relaxed);
    for _ in 0..CONSUMERS {
        consumers.push(hub.subscribe());
    }
    let allocated = ALLOCATED.load(Ordering::Relaxed) - before;
    println!(
        "hub memory per consumer: size_of::<Consumer>() = {} bytes, heap allocated by subscribe() = {} bytes",
        std::mem::size_of::<Consumer>(),
        allocated / CONSUMERS
    );
}

fn hub_fanout(c: &mut Criterion) {
    report_memory_per_consumer();
    let (hub, mut consumers) = hub_with_consumers();
    let mut group = c.benchmark_group("hub_fanout");
    // One iteration delivers one frame to every consumer.
    group.throughput(Throughput::Elements(CONSUMERS as u64));
    let mut time_ms = 40;
    let mut out = Vec::with_capacity(128);
    group.bench_function("push_then_1000_consumers_poll", |b| {
        b.iter(|| {
            time_ms += 40;
            hub.push(frame(time_ms, time_ms % 2000 == 0));
            hub.end_burst();
            let mut delivered = 0;
            for consumer in &mut consumers {
                out.clear();
                delivered += consumer.poll_batch(&mut out, 128);
            }
            assert_eq!(delivered, CONSUMERS);
        })
    });
    group.finish();
}

criterion_group!(benches, hub_fanout);
criterion_main!(benches);
