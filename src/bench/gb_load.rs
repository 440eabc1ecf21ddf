//! `srs bench gb28181`: N simulated GB28181 cameras (`gb_device`) against a server, for a
//! duration; reports how many registered and streamed, and the server's CPU and memory per device
//! when its pid is given.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::gb_device::{run_device, DeviceConfig, DeviceMedia, DeviceStats};
use super::process::ProcessSample;
use crate::codec::sip::MediaTransport;

#[derive(Debug, Clone)]
pub struct GbLoadConfig {
    pub server: SocketAddr,
    /// The first device's id; the others count up from it.
    pub device_id: String,
    pub file: PathBuf,
    pub transport: MediaTransport,
    pub devices: usize,
    pub password: Option<String>,
    pub duration: Duration,
    /// Devices started per second.
    pub ramp: u32,
    pub server_pid: Option<u32>,
}

/// The device ids: `base`, then its numeric value counting up (width kept).
pub fn device_ids(base: &str, n: usize) -> Vec<String> {
    let width = base.len();
    let start: u128 = base.parse().unwrap_or(0);
    (0..n as u128).map(|i| format!("{:0width$}", start + i)).collect()
}

pub async fn run(config: GbLoadConfig) -> Result<String, String> {
    let media = Arc::new(DeviceMedia::load(&config.file)?);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut all_stats = Vec::new();
    let gap = Duration::from_secs(1) / config.ramp.max(1);
    for id in device_ids(&config.device_id, config.devices) {
        let device = DeviceConfig {
            server: config.server,
            device_id: id,
            server_id: "34020000002000000001".into(),
            realm: "3402000000".into(),
            password: config.password.clone(),
            transport: config.transport,
            keepalive: Duration::from_secs(30),
            pause_media_after: None,
        };
        let stats = Arc::new(DeviceStats::default());
        all_stats.push(Arc::clone(&stats));
        tasks.spawn(run_device(device, Arc::clone(&media), stats, stopped.clone()));
        tokio::time::sleep(gap).await;
    }
    // Settle, then measure the steady window.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = config.server_pid.and_then(ProcessSample::read);
    let bytes_before: u64 = all_stats.iter().map(|s| s.bytes_sent.load(Ordering::Relaxed)).sum();
    tokio::time::sleep(config.duration).await;
    let after = config.server_pid.and_then(ProcessSample::read);
    let bytes_after: u64 = all_stats.iter().map(|s| s.bytes_sent.load(Ordering::Relaxed)).sum();
    let _ = stop.send(true);
    let mut failures = Vec::new();
    while let Some(result) = tasks.join_next().await {
        if let Ok(Err(e)) = result {
            failures.push(e);
        }
    }
    let n = config.devices.max(1) as f64;
    let registered = all_stats.iter().filter(|s| s.registered.load(Ordering::Relaxed) > 0).count();
    let streaming = all_stats.iter().filter(|s| s.frames_sent.load(Ordering::Relaxed) > 0).count();
    let seconds = config.duration.as_secs_f64();
    let mut report = format!(
        "gb28181 devices: {} started, {registered} registered, {streaming} streamed, {} failed\n\
         media sent: {:.1} Mbit/s in total, {:.0} kbit/s per device\n",
        config.devices,
        failures.len(),
        (bytes_after - bytes_before) as f64 * 8.0 / seconds / 1e6,
        (bytes_after - bytes_before) as f64 * 8.0 / seconds / 1e3 / n,
    );
    if let (Some(before), Some(after)) = (before, after) {
        let cpu = (after.cpu_ms - before.cpu_ms) as f64 / 1000.0 / seconds * 100.0;
        report.push_str(&format!(
            "server: {cpu:.1}% of one core ({:.3}% per device), RSS {:.1} MB ({:.0} KB per device)\n",
            cpu / n,
            after.rss_kb as f64 / 1024.0,
            after.rss_kb as f64 / n
        ));
    }
    for failure in failures.iter().take(5) {
        report.push_str(&format!("failure: {failure}\n"));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_ids_count_up_keeping_the_width() {
        assert_eq!(
            super::device_ids("34020000001320000009", 2),
            ["34020000001320000009", "34020000001320000010"]
        );
    }
}
