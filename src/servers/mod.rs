//! Graph-scoped I/O shared by nodes: listeners, the HTTP server, connection ids.
//!
//! Nodes never bind sockets: they declare `Listen`s, and the server for an address is started
//! once here with every node that named it.

pub mod http;
pub mod tcp;
