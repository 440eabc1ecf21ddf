//! Mapping of the vhost blocks that become media sinks (`dvr`, ...) onto their node settings.
//! Each block is one function: directives in, the node's `Config` out (`None` when disabled).

use super::mapping::Scope;
use super::values::{bad, flag_default_off, flag_default_on, natural, text, time_jitter};
use super::{ConfError, Directive};
use crate::nodes::dvr::{self, DvrPlan};
use crate::nodes::{dash_out, hls_out};

/// `vhost { dvr { } }`: `Some` when enabled.
pub(super) fn dvr(block: &Directive, parent: &mut Scope) -> Result<Option<dvr::Config>, ConfError> {
    let mut scope = parent.child("dvr");
    let mut config = dvr::Config::default();
    let mut enabled = false;
    for d in &block.children {
        match d.name.as_str() {
            "enabled" if scope.once(d) => enabled = flag_default_off(d),
            "dvr_apply" if scope.once(d) => config.dvr_apply = d.args.clone(),
            "dvr_plan" if scope.once(d) => {
                config.dvr_plan = match d.arg0() {
                    "session" => DvrPlan::Session,
                    "segment" => DvrPlan::Segment,
                    other => return Err(bad(d, format!("`dvr_plan {other}`: use session or segment"))),
                }
            }
            "dvr_path" if scope.once(d) => config.dvr_path = text(d)?,
            "dvr_duration" if scope.once(d) => config.dvr_duration = natural(d, 1..=u64::MAX)?,
            "dvr_wait_keyframe" if scope.once(d) => config.dvr_wait_keyframe = flag_default_on(d),
            "time_jitter" if scope.once(d) => {
                config.time_jitter = time_jitter(d.arg0())
                    .ok_or_else(|| bad(d, format!("`time_jitter {}`: use full, zero or off", d.arg0())))?
            }
            "enabled" | "dvr_apply" | "dvr_plan" | "dvr_path" | "dvr_duration" | "dvr_wait_keyframe"
            | "time_jitter" => {}
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(enabled.then_some(config))
}

/// `vhost { hls { } }`: `Some` when enabled. SRS 7's names and defaults.
pub(super) fn hls(block: &Directive, parent: &mut Scope) -> Result<Option<hls_out::Config>, ConfError> {
    let mut scope = parent.child("hls");
    let mut config = hls_out::Config::default();
    let mut enabled = false;
    for d in &block.children {
        let name = d.name.as_str();
        if !scope.once(d) {
            continue;
        }
        match name {
            "enabled" => enabled = flag_default_off(d),
            "hls_fragment" => config.hls_fragment = seconds(d)?,
            "hls_td_ratio" => config.hls_td_ratio = seconds(d)?,
            "hls_aof_ratio" => config.hls_aof_ratio = seconds(d)?,
            "hls_window" => config.hls_window = seconds(d)?,
            "hls_path" => config.hls_path = text(d)?,
            "hls_m3u8_file" => config.hls_m3u8_file = text(d)?,
            "hls_ts_file" => config.hls_ts_file = text(d)?,
            "hls_entry_prefix" => config.hls_entry_prefix = text(d)?,
            "hls_cleanup" => config.hls_cleanup = flag_default_on(d),
            "hls_dispose" => config.hls_dispose = natural(d, 0..=u64::MAX)?,
            "hls_wait_keyframe" => config.hls_wait_keyframe = flag_default_on(d),
            "hls_dts_directly" => config.hls_dts_directly = flag_default_on(d),
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(enabled.then_some(config))
}

/// `vhost { dash { } }`: `Some` when enabled.
pub(super) fn dash(block: &Directive, parent: &mut Scope) -> Result<Option<dash_out::Config>, ConfError> {
    let mut scope = parent.child("dash");
    let mut config = dash_out::Config::default();
    let mut enabled = false;
    for d in &block.children {
        if !scope.once(d) {
            continue;
        }
        match d.name.as_str() {
            "enabled" => enabled = flag_default_off(d),
            "dash_fragment" => config.dash_fragment = seconds(d)?,
            "dash_update_period" => config.dash_update_period = seconds(d)?,
            "dash_timeshift" => config.dash_timeshift = seconds(d)?,
            "dash_path" => config.dash_path = text(d)?,
            "dash_mpd_file" => config.dash_mpd_file = text(d)?,
            "dash_window_size" => config.dash_window_size = natural(d, 1..=u64::MAX)?,
            "dash_cleanup" => config.dash_cleanup = flag_default_on(d),
            "dash_dispose" => config.dash_dispose = seconds(d)?,
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(enabled.then_some(config))
}

/// A positive number of seconds (SRS reads these as floats).
fn seconds(directive: &Directive) -> Result<f64, ConfError> {
    let value: f64 = directive
        .arg0()
        .parse()
        .map_err(|_| bad(directive, format!("`{}` is not a number of seconds", directive.arg0())))?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(bad(directive, format!("`{value}` must be above 0")))
    }
}

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
             hls_dispose 0; hls_wait_keyframe off; hls_keys on; } }\n",
        );
        let hls = mapped.config.vhosts[0].hls.clone().expect("enabled");
        assert_eq!((hls.hls_fragment, hls.hls_window, hls.hls_dispose), (2.0, 10.0, 0));
        assert_eq!(hls.hls_path, "./html");
        assert!(!hls.hls_wait_keyframe);
        let warnings: Vec<String> = mapped.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(warnings, ["srs.conf:1: `hls_keys` in `hls` is not supported: ignored"]);
    }
}
