//! One table per srs.conf block: every directive the block maps, with SRS's default, its value
//! kind (and thereby its truth rule or bounds) and the field it sets. The mapping reads the
//! tables ([`Block::map`]), and so does the list of `SRS_*` variables ([`variables`]): adding a
//! directive is one row, and its variable comes with it.
//!
//! A row's target is a field reached through an accessor (`|c| &mut c.gop_cache`), so the kind
//! and the field's type are checked together by the compiler. Directives with a shape of their
//! own (an enum word, a checked template, a nested block, rule lines) name a small function.

use super::mapping::Scope;
use super::values::{self, flag_default_off, flag_default_on, listen, natural, text};
use super::{ConfError, Directive};

/// One srs.conf block: its name (as messages and paths spell it) and its directives.
pub(super) struct Block<T: 'static> {
    pub name: &'static str,
    pub entries: &'static [Entry<T>],
}

/// One directive of a block.
pub(super) struct Entry<T: 'static> {
    pub name: &'static str,
    /// SRS's default, as srs.conf would spell it ("" when SRS has none).
    pub default: &'static str,
    pub kind: Kind<T>,
}

/// A directive's value kind and the field it sets.
pub(super) enum Kind<T: 'static> {
    /// Default on: on unless the value is exactly `off` (SRS's prefer true).
    FlagOn(fn(&mut T) -> &mut bool),
    /// Default off: off unless the value is exactly `on` (SRS's prefer false).
    FlagOff(fn(&mut T) -> &mut bool),
    /// A whole number within `min..=max`.
    Natural { field: fn(&mut T) -> &mut u64, min: u64, max: u64 },
    /// Seconds, above 0 (SRS reads these as floats).
    Seconds(fn(&mut T) -> &mut f64),
    /// A word or path (required when written).
    Text(fn(&mut T) -> &mut String),
    /// One or more listen addresses: `port`, `ip:port`, `[ipv6]:port`.
    Listen(fn(&mut T) -> &mut String),
    /// Every argument, in order (domains, URLs, `app/stream` names).
    Words(fn(&mut T) -> &mut Vec<String>),
    /// A value read its own way (an enum word, a checked template, a warning to give).
    Custom(Handler<T>),
    /// A block inside this one, mapped by its own table.
    Nested { table: &'static dyn Table, map: Handler<T>, repeat: Repeat },
    /// A line that may repeat and whose repeats all count, in order (security's `allow`/`deny`).
    /// No variable sets it: a variable has one value.
    Lines(Handler<T>),
    /// Read but not mapped: warns with this message (no variable sets it either). No directive
    /// needs it today; it stays for blocks that are read before their feature exists.
    #[allow(dead_code)]
    Unmapped(&'static str),
}

/// How a nested block may repeat, and where a variable of its directives goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeat {
    /// One block (`play { }`); a variable creates it when missing.
    Once,
    /// One block per name (`vhost NAME { }`); a variable applies to every one (none is created:
    /// a vhost needs a name, and `-e` starts with `__defaultVhost__`).
    EachNamed,
    /// A list of blocks (`stream_caster { }`); a variable applies to every one, or creates one.
    Each,
}

/// What maps one directive onto its target.
pub(super) type Handler<T> = fn(&mut T, &Directive, &mut Scope) -> Result<(), ConfError>;

/// A block seen without its target type: what the variable list and the tests walk.
pub(super) trait Table: Sync {
    fn rows(&self) -> Vec<Row>;
}

/// One directive of a [`Table`], type erased.
#[derive(Clone, Copy)]
pub(super) struct Row {
    pub name: &'static str,
    // Read by the test that walks every variable, to pick a value that is not the default.
    #[cfg_attr(not(test), allow(dead_code))]
    pub default: &'static str,
    pub value: ValueKind,
}

/// A directive's value kind without its target, for the variable list and the tests.
#[derive(Clone, Copy)]
pub(super) enum ValueKind {
    FlagOn,
    FlagOff,
    // The bounds are read by the test that walks every variable.
    #[cfg_attr(not(test), allow(dead_code))]
    Natural {
        min: u64,
        max: u64,
    },
    Seconds,
    Text,
    Listen,
    Words,
    Custom,
    Nested {
        table: &'static dyn Table,
        repeat: Repeat,
    },
    Lines,
    Unmapped,
}

impl<T: 'static> Table for Block<T> {
    fn rows(&self) -> Vec<Row> {
        let row = |entry: &Entry<T>| {
            let value = match &entry.kind {
                Kind::FlagOn(_) => ValueKind::FlagOn,
                Kind::FlagOff(_) => ValueKind::FlagOff,
                Kind::Natural { min, max, .. } => ValueKind::Natural { min: *min, max: *max },
                Kind::Seconds(_) => ValueKind::Seconds,
                Kind::Text(_) => ValueKind::Text,
                Kind::Listen(_) => ValueKind::Listen,
                Kind::Words(_) => ValueKind::Words,
                Kind::Custom(_) => ValueKind::Custom,
                Kind::Nested { table, repeat, .. } => ValueKind::Nested { table: *table, repeat: *repeat },
                Kind::Lines(_) => ValueKind::Lines,
                Kind::Unmapped(_) => ValueKind::Unmapped,
            };
            Row { name: entry.name, default: entry.default, value }
        };
        self.entries.iter().map(row).collect()
    }
}

impl<T: 'static> Block<T> {
    /// Maps the directives of `block` onto `target` in a scope of this block's name.
    pub fn map(
        &'static self,
        block: &Directive,
        target: &mut T,
        parent: &mut Scope,
    ) -> Result<(), ConfError> {
        let mut scope = parent.child(self.name);
        let mapped = self.map_children(&block.children, target, &mut scope);
        parent.absorb(scope);
        mapped
    }

    /// Maps `children` onto `target` in `scope`: the first of each directive (a repeat is
    /// reported), unknown ones reported as unsupported.
    pub fn map_children(
        &'static self,
        children: &[Directive],
        target: &mut T,
        scope: &mut Scope,
    ) -> Result<(), ConfError> {
        for d in children {
            let Some(entry) = self.entries.iter().find(|e| e.name == d.name) else {
                scope.unsupported(d);
                continue;
            };
            let repeats = matches!(
                entry.kind,
                Kind::Lines(_) | Kind::Nested { repeat: Repeat::EachNamed | Repeat::Each, .. }
            );
            if repeats || scope.once(d) {
                entry.apply(target, d, scope)?;
            }
        }
        Ok(())
    }
}

impl<T: 'static> Block<Enabled<T>> {
    /// Maps a block with SRS's `enabled` (default off): `Some` only when enabled.
    pub fn map_enabled(
        &'static self,
        block: &Directive,
        initial: T,
        parent: &mut Scope,
    ) -> Result<Option<T>, ConfError> {
        let mut target = Enabled { enabled: false, config: initial };
        self.map(block, &mut target, parent)?;
        Ok(target.enabled.then_some(target.config))
    }
}

impl<T: 'static> Entry<T> {
    fn apply(&self, target: &mut T, d: &Directive, scope: &mut Scope) -> Result<(), ConfError> {
        match &self.kind {
            Kind::FlagOn(field) => *field(target) = flag_default_on(d),
            Kind::FlagOff(field) => *field(target) = flag_default_off(d),
            Kind::Natural { field, min, max } => *field(target) = natural(d, *min..=*max)?,
            Kind::Seconds(field) => *field(target) = seconds(d)?,
            Kind::Text(field) => *field(target) = text(d)?,
            Kind::Listen(field) => *field(target) = listen(d)?,
            Kind::Words(field) => *field(target) = d.args.clone(),
            Kind::Custom(handler) | Kind::Lines(handler) | Kind::Nested { map: handler, .. } => {
                handler(target, d, scope)?
            }
            Kind::Unmapped(message) => scope.warn(d, (*message).to_owned()),
        }
        Ok(())
    }
}

/// The target of a block with SRS's `enabled`: the flag, and the record it guards.
pub(super) struct Enabled<T> {
    pub enabled: bool,
    pub config: T,
}

/// A positive number of seconds (SRS reads these as floats).
fn seconds(directive: &Directive) -> Result<f64, ConfError> {
    let value: f64 = directive
        .arg0()
        .parse()
        .map_err(|_| values::bad(directive, format!("`{}` is not a number of seconds", directive.arg0())))?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(values::bad(directive, format!("`{value}` must be above 0")))
    }
}

/// One `SRS_*` variable: its name and the directive path it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    /// The directive's path from the top level, with how each block on the way repeats.
    pub path: Vec<Step>,
}

/// One name on a variable's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub name: &'static str,
    /// For a block: how it repeats (`None` for the directive itself).
    pub repeat: Option<RepeatKind>,
}

/// [`Repeat`], public for the variable list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatKind {
    Once,
    EachNamed,
    Each,
}

/// Every variable `table` and the blocks inside it can be set by, in table order.
pub(super) fn variables(table: &dyn Table) -> Vec<Variable> {
    let mut out = Vec::new();
    walk(table, &mut Vec::new(), &mut out);
    out
}

fn walk(table: &dyn Table, prefix: &mut Vec<Step>, out: &mut Vec<Variable>) {
    for row in table.rows() {
        match row.value {
            ValueKind::Nested { table, repeat } => {
                let repeat = match repeat {
                    Repeat::Once => RepeatKind::Once,
                    Repeat::EachNamed => RepeatKind::EachNamed,
                    Repeat::Each => RepeatKind::Each,
                };
                prefix.push(Step { name: row.name, repeat: Some(repeat) });
                walk(table, prefix, out);
                prefix.pop();
            }
            ValueKind::Lines | ValueKind::Unmapped => {}
            _ => {
                let mut path = prefix.clone();
                path.push(Step { name: row.name, repeat: None });
                let dotted: Vec<&str> = path.iter().map(|step| step.name).collect();
                out.push(Variable { name: super::env::variable_name(&dotted.join(".")), path });
            }
        }
    }
}
