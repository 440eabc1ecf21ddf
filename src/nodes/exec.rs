//! `Exec`: runs programs while a stream is published, as SRS's vhost `exec { publish ...; }`.
//!
//! A sink: at publish each `publish` command line is filled with the stream's variables
//! (`nodes::process_vars`), split at whitespace and run under supervision (restarted with backoff
//! if it exits); at unpublish each is stopped (SIGTERM to its process group, SIGKILL after a
//! grace period). The media itself is only drained.
//!
//! ```dhall
//! srs.node "exec" (srs.Node.Exec srs.Exec::{ publish = [ "./notify.sh [app] [stream]" ] })
//! ```

use std::time::SystemTime;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::process_vars::{split_command_line, ProcessVars};
use crate::control::process::{supervise, ProcessSpec, Supervised};
use crate::control::process_table::ProcessTable;
use crate::graph::engine::Outputs;
use crate::graph::{Caps, Ports};
use crate::media::MediaEvent;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::{NodeKind, StreamCtx};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SRS's `publish` lines: a program and its arguments, with variables.
    pub publish: Vec<String>,
    /// Child processes the graph runs at most (the smallest any node names wins; 0: the default, 64).
    pub max_processes: u64,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: Caps::any() }
    }

    fn validate(&self) -> Result<(), String> {
        if self.publish.iter().all(|line| split_command_line(line).is_empty()) {
            return Err("field `publish` names no program: give at least one command line".into());
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("publish", self.publish.join("; "))]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, _: &mut ScopePlan) -> anyhow::Result<()> {
        node.engine
            .shared::<ProcessTable>()
            .lower_limit(usize::try_from(self.max_processes).unwrap_or(usize::MAX));
        Ok(())
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    let vars = ProcessVars::for_stream(&ctx);
    let table = ctx.engine.shared::<ProcessTable>();
    let now = SystemTime::now();
    let mut children: Vec<Supervised> = Vec::new();
    for line in &config.publish {
        let mut argv = split_command_line(&vars.fill(line, now)).into_iter();
        let Some(program) = argv.next() else { continue };
        let spec = ProcessSpec {
            program,
            args: argv.collect(),
            node: ctx.name().to_owned(),
            stream: Some(ctx.key.clone()),
            stdout: None,
        };
        match supervise(&table, spec) {
            Ok(child) => children.push(child),
            Err(e) => tracing::warn!(node = ctx.name(), stream = %ctx.key, "not running `{line}`: {e}"),
        }
    }
    while let Some(event) = input.recv().await {
        if matches!(event, MediaEvent::End) {
            break;
        }
    }
    for child in children {
        child.stop().await;
    }
}
