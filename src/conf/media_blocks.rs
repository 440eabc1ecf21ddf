//! The tables of the vhost blocks that become media sinks (`dvr`, `hls`, `dash`): each maps
//! onto its node's own `Config`, `None` when the block is disabled.

use super::classic::VhostRtc;
use super::table::{Block, Enabled, Entry, Kind};
use super::values::{bad, time_jitter};
use crate::nodes::dvr::{self, DvrPlan};
use crate::nodes::hls_out::HlsOnError;
use crate::nodes::{dash_out, forward, hls_out};

/// `vhost { rtc { } }`: the WebRTC bridges (SRS's `nack`, `twcc`, `stun_timeout`, `dtls_*` and
/// the rest are reported unsupported).
pub(super) static RTC: Block<Enabled<VhostRtc>> = Block {
    name: "rtc",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry { name: "rtmp_to_rtc", default: "off", kind: Kind::FlagOff(|c| &mut c.config.rtmp_to_rtc) },
        Entry { name: "rtc_to_rtmp", default: "off", kind: Kind::FlagOff(|c| &mut c.config.rtc_to_rtmp) },
        Entry { name: "keep_bframe", default: "off", kind: Kind::FlagOff(|c| &mut c.config.keep_bframe) },
        Entry {
            name: "keep_avc_nalu_sei",
            default: "on",
            kind: Kind::FlagOn(|c| &mut c.config.keep_avc_nalu_sei),
        },
        Entry {
            name: "pli_for_rtmp",
            default: "6.0",
            kind: Kind::Custom(|c, d, _| {
                // SRS reads seconds and keeps 0.5 .. 30 s, else its 6 s default.
                let seconds = super::values::text(d)?
                    .parse::<f64>()
                    .map_err(|_| bad(d, "`pli_for_rtmp` takes seconds".into()))?;
                c.config.pli_interval =
                    if (0.5..=30.0).contains(&seconds) { (seconds * 1000.0) as u64 } else { 6000 };
                Ok(())
            }),
        },
        Entry {
            name: "opus_bitrate",
            default: "48000",
            kind: Kind::Natural { field: |c| &mut c.config.opus_bitrate, min: 8000, max: 320_000 },
        },
        Entry {
            name: "aac_bitrate",
            default: "48000",
            kind: Kind::Natural { field: |c| &mut c.config.aac_bitrate, min: 16_000, max: 320_000 },
        },
    ],
};

/// `vhost { forward { } }`: SRS's destinations, or the `backend` asked for them.
pub(super) static FORWARD: Block<Enabled<forward::Config>> = Block {
    name: "forward",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry { name: "destination", default: "", kind: Kind::Words(|c| &mut c.config.destination) },
        Entry {
            name: "backend",
            default: "",
            kind: Kind::Custom(|c, d, _| {
                c.config.backend = Some(super::values::text(d)?);
                Ok(())
            }),
        },
    ],
};

/// `vhost { cluster { } }`: `mode remote` makes the vhost an edge (SRS's `enabled` is the mode);
/// `origin_cluster on` with `coworkers` (in `mode local`) an origin of SRS 4's origin cluster.
pub(super) static CLUSTER: Block<Enabled<super::classic::Cluster>> = Block {
    name: "cluster",
    entries: &[
        Entry {
            name: "mode",
            default: "local",
            kind: Kind::Custom(|c, d, _| {
                c.enabled = match d.arg0() {
                    "remote" => true,
                    "local" => false,
                    other => return Err(bad(d, format!("`mode {other}`: use local or remote"))),
                };
                Ok(())
            }),
        },
        Entry { name: "origin", default: "", kind: Kind::Words(|c| &mut c.config.origin) },
        Entry {
            name: "token_traverse",
            default: "off",
            kind: Kind::FlagOff(|c| &mut c.config.token_traverse),
        },
        Entry {
            name: "origin_cluster",
            default: "off",
            kind: Kind::FlagOff(|c| &mut c.config.origin_cluster),
        },
        Entry { name: "coworkers", default: "", kind: Kind::Words(|c| &mut c.config.coworkers) },
    ],
};

/// `vhost { dvr { } }`.
pub(super) static DVR: Block<Enabled<dvr::Config>> = Block {
    name: "dvr",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry { name: "dvr_apply", default: "all", kind: Kind::Words(|c| &mut c.config.dvr_apply) },
        Entry {
            name: "dvr_plan",
            default: "session",
            kind: Kind::Custom(|c, d, _| {
                c.config.dvr_plan = match d.arg0() {
                    "session" => DvrPlan::Session,
                    "segment" => DvrPlan::Segment,
                    other => return Err(bad(d, format!("`dvr_plan {other}`: use session or segment"))),
                };
                Ok(())
            }),
        },
        Entry {
            name: "dvr_path",
            default: "./objs/nginx/html/[app]/[stream].[timestamp].flv",
            kind: Kind::Text(|c| &mut c.config.dvr_path),
        },
        Entry {
            name: "dvr_duration",
            default: "30",
            kind: Kind::Natural { field: |c| &mut c.config.dvr_duration, min: 1, max: u64::MAX },
        },
        Entry {
            name: "dvr_wait_keyframe",
            default: "on",
            kind: Kind::FlagOn(|c| &mut c.config.dvr_wait_keyframe),
        },
        Entry {
            name: "time_jitter",
            default: "full",
            kind: Kind::Custom(|c, d, _| {
                c.config.time_jitter = time_jitter(d.arg0())
                    .ok_or_else(|| bad(d, format!("`time_jitter {}`: use full, zero or off", d.arg0())))?;
                Ok(())
            }),
        },
    ],
};

/// `vhost { hls { } }`: SRS 7's names and defaults.
pub(super) static HLS: Block<Enabled<hls_out::Config>> = Block {
    name: "hls",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry { name: "hls_fragment", default: "10", kind: Kind::Seconds(|c| &mut c.config.hls_fragment) },
        Entry { name: "hls_td_ratio", default: "1.0", kind: Kind::Seconds(|c| &mut c.config.hls_td_ratio) },
        Entry { name: "hls_aof_ratio", default: "2.1", kind: Kind::Seconds(|c| &mut c.config.hls_aof_ratio) },
        Entry { name: "hls_window", default: "60", kind: Kind::Seconds(|c| &mut c.config.hls_window) },
        Entry {
            name: "hls_path",
            default: "./objs/nginx/html",
            kind: Kind::Text(|c| &mut c.config.hls_path),
        },
        Entry {
            name: "hls_m3u8_file",
            default: "[app]/[stream].m3u8",
            kind: Kind::Text(|c| &mut c.config.hls_m3u8_file),
        },
        Entry {
            name: "hls_ts_file",
            default: "[app]/[stream]-[seq].ts",
            kind: Kind::Text(|c| &mut c.config.hls_ts_file),
        },
        Entry { name: "hls_entry_prefix", default: "", kind: Kind::Text(|c| &mut c.config.hls_entry_prefix) },
        Entry {
            name: "hls_nb_notify",
            default: "64",
            kind: Kind::Natural { field: |c| &mut c.config.hls_nb_notify, min: 1, max: 65_536 },
        },
        Entry { name: "hls_ctx", default: "on", kind: Kind::FlagOn(|c| &mut c.config.hls_ctx) },
        Entry { name: "hls_ts_ctx", default: "on", kind: Kind::FlagOn(|c| &mut c.config.hls_ts_ctx) },
        Entry { name: "hls_cleanup", default: "on", kind: Kind::FlagOn(|c| &mut c.config.hls_cleanup) },
        Entry {
            name: "hls_dispose",
            default: "120",
            kind: Kind::Natural { field: |c| &mut c.config.hls_dispose, min: 0, max: u64::MAX },
        },
        Entry {
            name: "hls_wait_keyframe",
            default: "on",
            kind: Kind::FlagOn(|c| &mut c.config.hls_wait_keyframe),
        },
        Entry {
            name: "hls_dts_directly",
            default: "on",
            kind: Kind::FlagOn(|c| &mut c.config.hls_dts_directly),
        },
        Entry {
            name: "hls_on_error",
            default: "continue",
            kind: Kind::Custom(|c, d, _| {
                c.config.hls_on_error = match d.arg0() {
                    "ignore" => HlsOnError::Ignore,
                    "disconnect" => HlsOnError::Disconnect,
                    "continue" => HlsOnError::Continue,
                    other => {
                        return Err(bad(
                            d,
                            format!("`hls_on_error {other}`: use ignore, disconnect or continue"),
                        ))
                    }
                };
                Ok(())
            }),
        },
        Entry { name: "hls_keys", default: "off", kind: Kind::FlagOff(|c| &mut c.config.hls_keys) },
        Entry {
            name: "hls_fragments_per_key",
            default: "5",
            kind: Kind::Natural { field: |c| &mut c.config.hls_fragments_per_key, min: 1, max: u64::MAX },
        },
        Entry {
            name: "hls_key_file",
            default: "[app]/[stream]-[seq].key",
            kind: Kind::Text(|c| &mut c.config.hls_key_file),
        },
        // SRS's default for both is hls_path; "" means that here.
        Entry {
            name: "hls_key_file_path",
            default: "",
            kind: Kind::Text(|c| &mut c.config.hls_key_file_path),
        },
        Entry { name: "hls_key_url", default: "", kind: Kind::Text(|c| &mut c.config.hls_key_url) },
    ],
};

/// `vhost { dash { } }`.
pub(super) static DASH: Block<Enabled<dash_out::Config>> = Block {
    name: "dash",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry { name: "dash_fragment", default: "10", kind: Kind::Seconds(|c| &mut c.config.dash_fragment) },
        Entry {
            name: "dash_update_period",
            default: "5",
            kind: Kind::Seconds(|c| &mut c.config.dash_update_period),
        },
        Entry {
            name: "dash_timeshift",
            default: "300",
            kind: Kind::Seconds(|c| &mut c.config.dash_timeshift),
        },
        Entry {
            name: "dash_path",
            default: "./objs/nginx/html",
            kind: Kind::Text(|c| &mut c.config.dash_path),
        },
        Entry {
            name: "dash_mpd_file",
            default: "[app]/[stream].mpd",
            kind: Kind::Text(|c| &mut c.config.dash_mpd_file),
        },
        Entry {
            name: "dash_window_size",
            default: "5",
            kind: Kind::Natural { field: |c| &mut c.config.dash_window_size, min: 1, max: u64::MAX },
        },
        Entry { name: "dash_cleanup", default: "on", kind: Kind::FlagOn(|c| &mut c.config.dash_cleanup) },
        Entry { name: "dash_dispose", default: "120", kind: Kind::Seconds(|c| &mut c.config.dash_dispose) },
    ],
};

#[cfg(test)]
mod tests {
    use super::super::mapping::Mapped;
    use super::*;

    fn map_text(text: &str) -> Mapped {
        crate::conf::mapping::tests::map_text(text).expect("maps")
    }

    #[test]
    fn dvr_block_maps_to_the_dvr_node() {
        let mapped = map_text(
            "vhost __defaultVhost__ { dvr { enabled on; dvr_plan segment; dvr_duration 10; \
             dvr_path ./objs/[app]/[stream].[timestamp].mp4; dvr_apply live/a live/b; } }\n",
        );
        let dvr = mapped.config.vhosts[0].dvr.clone().expect("enabled");
        assert_eq!(dvr.dvr_plan, DvrPlan::Segment);
        assert_eq!(dvr.dvr_duration, 10);
        assert_eq!(dvr.dvr_apply, ["live/a", "live/b"]);
        assert!(dvr.dvr_path.ends_with(".mp4"));
        let off = map_text("vhost v { dvr { dvr_plan segment; } }\n");
        assert!(off.config.vhosts[0].dvr.is_none(), "dvr is off unless enabled");
    }

    #[test]
    fn hls_block_maps_to_the_hls_node() {
        let mapped = map_text(
            "vhost __defaultVhost__ { hls { enabled on; hls_fragment 2; hls_window 10; hls_path ./html; \
             hls_dispose 0; hls_wait_keyframe off; hls_keys on; hls_fragments_per_key 3; \
             hls_key_file k/[stream]-[seq].key; hls_key_file_path ./keys; hls_key_url https://k.example/; \
             hls_on_error disconnect; } }\n",
        );
        let hls = mapped.config.vhosts[0].hls.clone().expect("enabled");
        assert_eq!((hls.hls_fragment, hls.hls_window, hls.hls_dispose), (2.0, 10.0, 0));
        assert_eq!(hls.hls_path, "./html");
        assert!(!hls.hls_wait_keyframe);
        assert!(hls.hls_keys);
        assert_eq!(hls.hls_fragments_per_key, 3);
        assert_eq!(
            (hls.hls_key_file.as_str(), hls.hls_key_file_path.as_str(), hls.hls_key_url.as_str()),
            ("k/[stream]-[seq].key", "./keys", "https://k.example/")
        );
        assert_eq!(hls.hls_on_error, HlsOnError::Disconnect);
        assert!(mapped.warnings.is_empty(), "{:?}", mapped.warnings);
    }
}
