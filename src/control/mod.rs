//! The control plane: the registry of clients, SRS's HTTP callbacks, security rules, the API's
//! JSON, metrics and reload.
//!
//! Nodes call in here (register a connection, check security, run hooks); the `HttpApi` node
//! serves what is here. Nothing on the frame path waits on this module except the blocking
//! hooks at connect, publish and play, as in SRS.

pub mod admission;
pub mod api;
pub mod hooks;
pub mod http_client;
pub mod kbps;
pub mod metrics;
pub mod process;
pub mod process_table;
pub mod registry;
pub mod reload;
pub mod security;
