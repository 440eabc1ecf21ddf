//! Mapping of the vhost blocks that become media sinks (`dvr`, ...) onto their node settings.
//! Each block is one function: directives in, the node's `Config` out (`None` when disabled).

use super::mapping::Scope;
use super::values::{bad, flag_default_off, flag_default_on, natural, text, time_jitter};
use super::{ConfError, Directive};
use crate::nodes::dvr::{self, DvrPlan};

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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::mapping::{map, Mapped};
    use super::super::parse::parse_text;
    use super::*;

    fn map_text(text: &str) -> Mapped {
        let reader = |_: &Path| Err(std::io::ErrorKind::NotFound.into());
        map(&parse_text(text, Path::new("srs.conf"), &reader).expect("parses")).expect("maps")
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
}
