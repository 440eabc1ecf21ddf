//! `srs graph dot`: the graph in Graphviz DOT, with node kinds, key settings and codec sets on edges.

use std::fmt::Write;

use petgraph::visit::EdgeRef;

use super::port::Ports;
use super::{Catalogue, CheckedGraph};

/// Renders a checked graph; `dot -Tsvg` draws it.
pub fn to_dot<N: Catalogue>(graph: &CheckedGraph<N>) -> String {
    let mut out =
        String::from("digraph srs {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for index in graph.dag.node_indices() {
        let named = graph.node(index);
        let shape = match named.node.ports() {
            Ports::Source { .. } => "invhouse",
            Ports::Transform { .. } => "box",
            Ports::Sink { .. } => "house",
            Ports::Service => "component",
        };
        let mut label = format!("{}\\n[{}]", escape(&named.name), named.node.kind_name());
        for (key, value) in named.node.summary() {
            let _ = write!(label, "\\n{key}: {}", escape(&value));
        }
        let _ = writeln!(out, "  n{} [shape={shape}, label=\"{label}\"];", index.index());
    }
    for edge in graph.dag.edge_references() {
        let caps = graph.output_caps[edge.source().index()];
        let _ = writeln!(
            out,
            "  n{} -> n{} [label=\"video {}\\naudio {}\"];",
            edge.source().index(),
            edge.target().index(),
            caps.video,
            caps.audio
        );
    }
    out.push_str("}\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
