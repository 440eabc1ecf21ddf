//! The engine, protocol-agnostic: graph files, checking, drawing, hubs, stream lifetimes.
//!
//! Nothing here names a protocol: nodes describe themselves (ports, listeners) as data,
//! and the engine wires whatever they declare.

pub mod check;
pub mod dot;
pub mod engine;
pub mod hub;
pub mod listen;
pub mod load;
pub mod model;
pub mod port;
pub mod stats;
pub mod stream_key;

pub use check::{check, CheckReport, CheckedGraph, Problem, Severity};
pub use engine::Engine;
pub use listen::{Listen, TlsFiles, Transport};
pub use load::{load_file, LoadError};
pub use model::{Edge, GraphFile, NamedNode};
pub use port::{Caps, Ports};
pub use stream_key::StreamKey;
