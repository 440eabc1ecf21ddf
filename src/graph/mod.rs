//! The engine, protocol-agnostic: graph files, checking, drawing, hubs, stream lifetimes.
//!
//! Nothing here names a protocol or a node kind: the engine, checker and loader are generic over
//! the node catalogue they are handed ([`Catalogue`]); nodes describe themselves (ports,
//! listeners) as data, and the engine wires whatever they declare. This layer never imports
//! `nodes`, `control`, `servers`, `conf` or `cli` (`tests/architecture.rs` fails if it does).

pub mod catalogue;
pub mod check;
pub mod dot;
pub mod engine;
pub mod guard;
pub mod hub;
pub mod listen;
pub mod load;
pub mod model;
pub mod port;
pub mod stats;
pub mod stream_key;
#[cfg(test)]
mod test_catalogue;

pub use catalogue::Catalogue;
pub use check::{check, CheckReport, CheckedGraph, Problem, Severity};
pub use engine::Engine;
pub use listen::{listens_on, Listen, TlsFiles, Transport};
pub use load::{load_file, LoadError};
pub use model::{Edge, GraphFile, NamedNode};
pub use port::{Caps, Ports};
pub use stream_key::StreamKey;
