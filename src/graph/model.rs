//! The graph as loaded from Dhall: named nodes and edges. The Rust twin of `nodes/Graph.dhall`,
//! over any node catalogue `N` (the twin of `nodes/Node.dhall`).

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

/// A graph file: the template every live stream is instantiated from.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct GraphFile<N> {
    pub nodes: Vec<NamedNode<N>>,
    pub edges: Vec<Edge>,
}

/// One node of the graph, with the name edges use to refer to it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct NamedNode<N> {
    pub name: String,
    pub node: N,
}

/// Media flows from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, StaticType)]
pub struct Edge {
    pub from: String,
    pub to: String,
}

impl<N: Clone> GraphFile<N> {
    /// The same graph with nodes and edges in a canonical order, to compare two spellings of one graph.
    pub fn normalized(&self) -> GraphFile<N> {
        let mut nodes = self.nodes.clone();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let mut edges = self.edges.clone();
        edges.sort();
        edges.dedup();
        GraphFile { nodes, edges }
    }

    pub fn node(&self, name: &str) -> Option<&NamedNode<N>> {
        self.nodes.iter().find(|n| n.name == name)
    }
}
