//! `EdgePush`: SRS's edge `cluster { mode remote; origin a b; }` for publishers. A stream
//! published to the edge is pushed to the first origin that takes it (`Forward`'s machinery:
//! bounded queue, reconnects), the next origin at once when one fails. Streams the edge itself
//! pulls from an origin (`EdgePull`) are never pushed back.
//!
//! ```dhall
//! srs.node "edge_push" (srs.Node.EdgePush srs.EdgePush::{ origin = [ "10.0.0.1:1935" ] })
//! ```

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::edge_pull::{origin_url, validate_origins};
use crate::control::registry::Registry;
use crate::graph::engine::Outputs;
use crate::graph::Ports;
use crate::media::MediaEvent;
use crate::nodes::{NodeKind, NodeSpec, StreamCtx};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SRS's `origin`: `host:port` of each origin, tried in order.
    pub origin: Vec<String>,
    /// SRS's `token_traverse`: a publisher is admitted only if an origin accepts an RTMP connect
    /// with its URL and parameters (the origin's `on_connect` decides).
    pub token_traverse: bool,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: super::rtmp_in::rtmp_caps() }
    }

    fn validate(&self) -> Result<(), String> {
        validate_origins(&self.origin)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("origin", self.origin.join(" "))]
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    let source = ctx.path.first().map(|node| ctx.engine.spec(*node));
    if matches!(source, Some(NodeSpec::EdgePull(_))) {
        // Pulled from an origin: it is there already.
        while input.recv().await.is_some() {}
        return;
    }
    let registry = ctx.engine.shared::<Registry>();
    let param = registry.publisher_info(&ctx.key).unwrap_or_default().param;
    let urls = config.origin.iter().map(|origin| origin_url(origin, &ctx.key, &param)).collect();
    super::forward::push(ctx, vec![urls], input).await;
}
