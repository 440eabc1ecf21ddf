//! The two RTMP session roles, driven by bytes in and bytes and events out, over shared connection
//! machinery. The roles are separate types (`ServerSession`, `ClientSession`), never a flag.

mod client;
mod connection;
mod server;

pub use client::{ClientConfig, ClientEvent, ClientIntent, ClientSession};
pub use server::{PlayRequest, PublishRequest, PublishStyle, ServerConfig, ServerEvent, ServerSession};

#[cfg(test)]
mod call_tests;
#[cfg(test)]
mod peer_tests;
