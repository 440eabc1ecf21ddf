//! Reading directive values the way SRS's getters do.
//!
//! Booleans follow SRS's two truth rules: a "prefer true" getter (default on) treats anything but
//! `off` as on, a "prefer false" getter (default off) treats anything but `on` as off; so
//! `gop_cache yes;` is on and `min_latency yes;` is off, as in SRS. Numbers are stricter than
//! SRS's `atoi` (which reads `abc` as 0): a value that is not a number is an error, not a zero.

use super::{ConfError, Directive};
use crate::nodes::jitter::TimeJitter;

/// SRS's `SRS_CONF_PREFER_TRUE`: on unless the value is exactly `off`.
pub fn prefer_true(value: &str) -> bool {
    value != "off"
}

/// SRS's `SRS_CONF_PREFER_FALSE`: off unless the value is exactly `on`.
pub fn prefer_false(value: &str) -> bool {
    value == "on"
}

/// A boolean directive whose default is on.
pub fn flag_default_on(directive: &Directive) -> bool {
    prefer_true(directive.arg0())
}

/// A boolean directive whose default is off.
pub fn flag_default_off(directive: &Directive) -> bool {
    prefer_false(directive.arg0())
}

/// A non-negative integer within `range`.
pub fn natural(directive: &Directive, range: std::ops::RangeInclusive<u64>) -> Result<u64, ConfError> {
    let value = directive.arg0();
    let number: u64 = value.parse().map_err(|_| bad(directive, "expected a whole number".into()))?;
    if !range.contains(&number) {
        let reason = format!("expected {} to {}", range.start(), range.end());
        return Err(bad(directive, reason));
    }
    Ok(number)
}

/// A word or path: the first argument, which must be there.
pub fn text(directive: &Directive) -> Result<String, ConfError> {
    match directive.args.first() {
        Some(value) if !value.is_empty() => Ok(value.clone()),
        _ => Err(bad(directive, "expected a value".into())),
    }
}

/// `time_jitter full|zero|off`. SRS reads any other word as `off`; so do we (the mapping warns).
pub fn time_jitter(value: &str) -> Option<TimeJitter> {
    match value {
        "full" => Some(TimeJitter::Full),
        "zero" => Some(TimeJitter::Zero),
        "off" => Some(TimeJitter::Off),
        _ => None,
    }
}

/// A listen address as SRS writes it: `port` or `ip:port`.
/// Every listen address of a directive (`listen 1935 19350;`, `listen 127.0.0.1:1935 [::]:1935;`),
/// checked, as one space-separated field (what the nodes' `listen` takes).
pub fn listen(directive: &Directive) -> Result<String, ConfError> {
    let addresses: Vec<&str> = directive.args.iter().flat_map(|arg| arg.split_whitespace()).collect();
    if addresses.is_empty() {
        return Err(bad(directive, "write a port like `1935` or `ip:port`".into()));
    }
    for address in &addresses {
        crate::graph::listen::parse_listen(address).map_err(|reason| ConfError::BadValue {
            at: directive.origin.clone(),
            directive: directive.name.clone(),
            value: (*address).to_owned(),
            reason,
        })?;
    }
    Ok(addresses.join(" "))
}

pub fn bad(directive: &Directive, reason: String) -> ConfError {
    ConfError::BadValue {
        at: directive.origin.clone(),
        directive: directive.name.clone(),
        value: directive.args.join(" "),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conf::Origin;

    fn directive(args: &[&str]) -> Directive {
        Directive {
            name: "chunk_size".into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            children: Vec::new(),
            is_block: false,
            origin: Origin::Env { var: "SRS_CHUNK_SIZE".into() },
        }
    }

    #[test]
    fn prefer_true_is_on_unless_exactly_off() {
        for value in ["on", "yes", "true", "", "ON", "Off"] {
            assert!(prefer_true(value), "{value:?}");
        }
        assert!(!prefer_true("off"));
    }

    #[test]
    fn prefer_false_is_off_unless_exactly_on() {
        for value in ["off", "yes", "true", "", "ON", "1"] {
            assert!(!prefer_false(value), "{value:?}");
        }
        assert!(prefer_false("on"));
    }

    #[test]
    fn flags_read_the_first_argument() {
        assert!(flag_default_on(&directive(&[])));
        assert!(!flag_default_off(&directive(&[])));
        assert!(!flag_default_on(&directive(&["off", "on"])));
    }

    #[test]
    fn naturals_must_be_numbers_in_range() {
        assert_eq!(natural(&directive(&["4096"]), 128..=65_536), Ok(4096));
        let error = natural(&directive(&["big"]), 128..=65_536).unwrap_err().to_string();
        assert_eq!(error, "env SRS_CHUNK_SIZE: `chunk_size`: bad value `big`: expected a whole number");
        let error = natural(&directive(&["100"]), 128..=65_536).unwrap_err().to_string();
        assert!(error.ends_with("expected 128 to 65536"), "{error}");
        assert!(natural(&directive(&["-1"]), 0..=10).is_err());
        assert!(natural(&directive(&[]), 0..=10).is_err());
    }

    #[test]
    fn time_jitter_words() {
        assert_eq!(time_jitter("full"), Some(TimeJitter::Full));
        assert_eq!(time_jitter("zero"), Some(TimeJitter::Zero));
        assert_eq!(time_jitter("off"), Some(TimeJitter::Off));
        assert_eq!(time_jitter("fast"), None);
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(listen(&directive(&["1935"])).unwrap(), "1935");
        assert_eq!(listen(&directive(&["1935", "[::]:19350"])).unwrap(), "1935 [::]:19350");
        assert_eq!(listen(&directive(&["127.0.0.1:8080 19350"])).unwrap(), "127.0.0.1:8080 19350");
        assert!(listen(&directive(&["1935", "localhost"])).unwrap_err().to_string().contains("localhost"));
        assert!(listen(&directive(&[])).is_err());
    }
}
