//! `srs graph check`: everything that can be known about a graph before it runs.
//!
//! Reads only node declarations (ports, listeners), never running nodes. Every problem names
//! the node or edge at fault and, where there is one, the fix.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;

use petgraph::algo::{is_cyclic_directed, kosaraju_scc};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, EdgeRef};
use petgraph::Direction;

use super::port::{Caps, Ports};
use super::{Catalogue, GraphFile, Listen, NamedNode};
use crate::media::MediaKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing, nothing to fix: a node takes only part of what an edge may carry, by design
    /// (HLS and AV1). Shown by `srs graph check` as a note, not logged by the server.
    Info,
    /// Media is lost: a node gets nothing of a kind (video or audio) the edge carries.
    Warning,
    /// The graph cannot run.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{label}: {}", self.message)
    }
}

/// A graph that passed the check, indexed for the engine.
#[derive(Debug, Clone)]
pub struct CheckedGraph<N> {
    pub file: GraphFile<N>,
    /// Node weights are indexes into `file.nodes`.
    pub dag: DiGraph<usize, ()>,
    /// What each node receives, after propagation.
    pub input_caps: Vec<Caps>,
    /// What each node emits, after propagation.
    pub output_caps: Vec<Caps>,
}

impl<N> CheckedGraph<N> {
    pub fn node(&self, index: NodeIndex) -> &NamedNode<N> {
        &self.file.nodes[self.dag[index]]
    }

    pub fn index_of(&self, name: &str) -> Option<NodeIndex> {
        self.dag.node_indices().find(|i| self.node(*i).name == name)
    }

    pub fn children(&self, index: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.dag.neighbors_directed(index, Direction::Outgoing)
    }
}

#[derive(Debug)]
pub struct CheckReport<N> {
    pub problems: Vec<Problem>,
    pub graph: Option<CheckedGraph<N>>,
}

impl<N> CheckReport<N> {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }

    pub fn is_ok(&self) -> bool {
        self.errors().next().is_none()
    }
}

/// Checks a graph: names, edges, cycles, listeners, codec sets, reachability.
pub fn check<N: Catalogue>(file: &GraphFile<N>) -> CheckReport<N> {
    let mut problems = Vec::new();
    let mut error = |message: String| problems.push(Problem { severity: Severity::Error, message });

    let mut dag = DiGraph::new();
    let mut by_name: HashMap<&str, NodeIndex> = HashMap::new();
    for (i, node) in file.nodes.iter().enumerate() {
        if node.name.trim().is_empty() {
            error(format!("node #{} has an empty name: give every node a unique name", i + 1));
        }
        if by_name.insert(&node.name, dag.add_node(i)).is_some() {
            error(format!("node `{}` is defined twice: node names must be unique", node.name));
        }
        if let Err(reason) = node.node.validate() {
            error(format!("node `{}` ({}): {reason}", node.name, node.node.kind_name()));
        }
    }
    for edge in &file.edges {
        let from = by_name.get(edge.from.as_str());
        let to = by_name.get(edge.to.as_str());
        for (end, name, found) in [("from", &edge.from, from), ("to", &edge.to, to)] {
            if found.is_none() {
                error(format!(
                    "edge `{} → {}`: {end} names unknown node `{name}`{}",
                    edge.from,
                    edge.to,
                    suggest(name, file)
                ));
            }
        }
        if let (Some(&from), Some(&to)) = (from, to) {
            if dag.contains_edge(from, to) {
                continue;
            }
            check_edge_roles(file, dag[from], dag[to], &mut error);
            dag.add_edge(from, to, ());
        }
    }
    if is_cyclic_directed(&dag) {
        for scc in kosaraju_scc(&dag) {
            if scc.len() > 1 || scc.iter().any(|n| dag.contains_edge(*n, *n)) {
                let mut names: Vec<&str> = scc.iter().map(|n| file.nodes[dag[*n]].name.as_str()).collect();
                names.sort_unstable();
                error(format!(
                    "cycle through nodes {}: media must flow one way; remove one of the edges between them",
                    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    check_listeners(file, &mut error);
    check_reachability(file, &dag, &mut error);

    let mut report = CheckReport { problems, graph: None };
    if report.is_ok() {
        let (input_caps, output_caps) = propagate_caps(file, &dag, &mut report.problems);
        if report.is_ok() {
            report.graph = Some(CheckedGraph { file: file.clone(), dag, input_caps, output_caps });
        }
    }
    report
}

fn suggest<N>(name: &str, file: &GraphFile<N>) -> String {
    let close = file.nodes.iter().map(|n| n.name.as_str()).find(|candidate| {
        candidate.eq_ignore_ascii_case(name) || (name.len() > 3 && candidate.contains(name))
    });
    match close {
        Some(candidate) => format!(" (did you mean `{candidate}`?)"),
        None => {
            let names: Vec<&str> = file.nodes.iter().map(|n| n.name.as_str()).collect();
            format!(" (nodes are: {})", names.join(", "))
        }
    }
}

fn check_edge_roles<N: Catalogue>(
    file: &GraphFile<N>,
    from: usize,
    to: usize,
    error: &mut impl FnMut(String),
) {
    let (from_node, to_node) = (&file.nodes[from], &file.nodes[to]);
    for service in [from_node, to_node] {
        if service.node.ports() == Ports::Service {
            error(format!(
                "edge `{} → {}`: `{}` is a {} service and takes no media edges; remove the edge",
                from_node.name,
                to_node.name,
                service.name,
                service.node.kind_name()
            ));
        }
    }
    if matches!(from_node.node.ports(), Ports::Sink { .. }) {
        error(format!(
            "edge `{} → {}`: `{}` is a {} sink and has no output; edges must start at a source or transform",
            from_node.name,
            to_node.name,
            from_node.name,
            from_node.node.kind_name()
        ));
    }
    if matches!(to_node.node.ports(), Ports::Source { .. }) {
        error(format!(
            "edge `{} → {}`: `{}` is a {} source and takes no input; point the edge at a transform or sink",
            from_node.name,
            to_node.name,
            to_node.name,
            to_node.node.kind_name()
        ));
    }
}

fn check_listeners<N: Catalogue>(file: &GraphFile<N>, error: &mut impl FnMut(String)) {
    let mut by_port: BTreeMap<(u16, super::Transport), Vec<(Listen, &str)>> = BTreeMap::new();
    for node in &file.nodes {
        match node.node.listens() {
            Ok(listens) => {
                for listen in listens {
                    by_port
                        .entry((listen.addr.port(), listen.transport))
                        .or_default()
                        .push((listen, &node.name));
                }
            }
            Err(reason) => error(format!("node `{}` ({}): {reason}", node.name, node.node.kind_name())),
        }
    }
    for users in by_port.values() {
        for (i, (a, a_name)) in users.iter().enumerate() {
            for (b, b_name) in &users[i + 1..] {
                if !overlaps(a.addr, b.addr) {
                    continue;
                }
                if a.protocol != b.protocol {
                    error(format!(
                        "listener conflict on {}: node `{a_name}` serves {} and node `{b_name}` serves {}; \
                         give one of them another port",
                        a.addr, a.protocol, b.protocol
                    ));
                } else if a.addr != b.addr {
                    error(format!(
                        "listener conflict: node `{a_name}` listens on {} and node `{b_name}` on {}; \
                         nodes sharing a {} server must use the same address",
                        a.addr, b.addr, a.protocol
                    ));
                } else if a.tls != b.tls {
                    error(format!(
                        "listener conflict on {}: nodes `{a_name}` and `{b_name}` share an http server but \
                         differ in `tls`; give them the same `tls` (or another port)",
                        a.addr
                    ));
                } else if a.exclusive_role.is_some() && a.exclusive_role == b.exclusive_role {
                    error(format!(
                        "listener conflict on {}: nodes `{a_name}` and `{b_name}` both take the {} role; \
                         keep one (route by vhost with `vhost` nodes after it)",
                        a.addr,
                        a.exclusive_role.unwrap_or_default()
                    ));
                }
            }
        }
    }
}

fn overlaps(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn check_reachability<N: Catalogue>(
    file: &GraphFile<N>,
    dag: &DiGraph<usize, ()>,
    error: &mut impl FnMut(String),
) {
    let mut reached = vec![false; file.nodes.len()];
    for start in dag.node_indices() {
        if matches!(file.nodes[dag[start]].node.ports(), Ports::Source { .. }) {
            let mut dfs = Dfs::new(dag, start);
            while let Some(n) = dfs.next(dag) {
                reached[dag[n]] = true;
            }
        }
    }
    for index in dag.node_indices() {
        let node = &file.nodes[dag[index]];
        if reached[dag[index]] || node.node.ports() == Ports::Service {
            continue;
        }
        let has_input = dag.edges_directed(index, Direction::Incoming).next().is_some();
        let what = if has_input { "is not reachable from any source" } else { "has no input edge" };
        error(format!(
            "node `{}` ({}) {what}: add an edge from a source (e.g. an `RtmpIn` node) to it, or remove it",
            node.name,
            node.node.kind_name()
        ));
    }
}

/// Propagates codec sets in topological order; what each edge into a node loses is reported by
/// [`check_edge_caps`].
fn propagate_caps<N: Catalogue>(
    file: &GraphFile<N>,
    dag: &DiGraph<usize, ()>,
    problems: &mut Vec<Problem>,
) -> (Vec<Caps>, Vec<Caps>) {
    let mut input = vec![Caps::default(); dag.node_count()];
    let mut output = vec![Caps::default(); dag.node_count()];
    let order = petgraph::algo::toposort(dag, None).unwrap_or_default();
    for index in order {
        let node = &file.nodes[dag[index]];
        let ports = node.node.ports();
        let mut incoming = Caps::default();
        for edge in dag.edges_directed(index, Direction::Incoming) {
            incoming = incoming.union(output[edge.source().index()]);
        }
        input[index.index()] = incoming;
        if let Some(accepts) = ports.accepts() {
            for edge in dag.edges_directed(index, Direction::Incoming) {
                let carried = output[edge.source().index()];
                let upstream = &file.nodes[dag[edge.source()]].name;
                check_edge_caps(upstream, node, carried, accepts, problems);
            }
        }
        output[index.index()] = ports.output(incoming).unwrap_or_default();
    }
    (input, output)
}

/// What a node loses of what one edge may carry, per media kind: a narrower codec set is a note
/// (the node takes what it can, by design); a kind it takes none of is a warning (that kind is
/// lost); nothing usable at all is an error.
fn check_edge_caps<N: Catalogue>(
    upstream: &str,
    node: &NamedNode<N>,
    carried: Caps,
    accepts: Caps,
    problems: &mut Vec<Problem>,
) {
    let mut usable = 0;
    let mut partial = Vec::new();
    for kind in [MediaKind::Video, MediaKind::Audio] {
        let (have, want) = (carried.get(kind), accepts.get(kind));
        if have.is_empty() {
            continue;
        }
        let common = have.intersection(want);
        if !common.is_empty() {
            usable += 1;
        }
        if common != have {
            partial.push((kind, have, want, common.is_empty()));
        }
    }
    if carried.is_empty() {
        return;
    }
    let edge = format!("{upstream} → {}", node.name);
    for (kind, have, want, lost) in &partial {
        let fix = match (kind, want.is_empty()) {
            (_, true) => format!("its {kind} is dropped"),
            (MediaKind::Audio, false) if want.contains(crate::media::Codec::Opus) => {
                "insert an `aac_to_opus` node for AAC".to_owned()
            }
            (_, false) if *lost => format!("no {kind} reaches it"),
            (_, false) => format!("only {want} {kind} is carried"),
        };
        let severity = match (usable, lost) {
            (0, _) => Severity::Error,
            (_, true) => Severity::Warning,
            (_, false) => Severity::Info,
        };
        problems.push(Problem {
            severity,
            message: format!(
                "node `{}` ({}) takes {kind} {want} but edge `{edge}` may carry {kind} {have}: {fix}",
                node.name,
                node.node.kind_name()
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::test_catalogue::TestNode;
    use crate::media::Codec;

    fn http_sink(name: &str) -> NamedNode<TestNode> {
        NamedNode { name: name.into(), node: TestNode::http_sink("8080") }
    }

    #[test]
    fn http_nodes_sharing_an_address_must_agree_on_tls() {
        let plain = http_sink("rtc");
        let tls = Some(crate::graph::TlsFiles { cert: "a.crt".into(), key: "a.key".into() });
        let secure =
            NamedNode { name: "secure".into(), node: TestNode::HttpSink { listen: "8080".into(), tls } };
        let file = GraphFile { nodes: vec![plain, secure], edges: vec![] };
        let mut problems = Vec::new();
        check_listeners(&file, &mut |message| problems.push(message));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("`rtc` and `secure`") && problems[0].contains("`tls`"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn disjoint_codecs_are_an_error_with_the_fix() {
        let mut problems = Vec::new();
        let node = http_sink("rtc");
        check_edge_caps(
            "live",
            &node,
            Caps::new(&[], &[Codec::Aac]),
            Caps::new(&[], &[Codec::Opus]),
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].severity, Severity::Error);
        assert!(problems[0].message.contains("edge `live → rtc` may carry audio {AAC}"), "{}", problems[0]);
        assert!(problems[0].message.contains("insert an `aac_to_opus` node"), "{}", problems[0]);
    }

    #[test]
    fn service_nodes_need_no_edges_and_take_none() {
        let api = NamedNode { name: "api".into(), node: TestNode::HttpService { listen: "1985".into() } };
        let alone = GraphFile { nodes: vec![api.clone()], edges: vec![] };
        assert!(check(&alone).is_ok(), "{:?}", check(&alone).problems);
        let wired = GraphFile {
            nodes: vec![api, http_sink("rtc")],
            edges: vec![super::super::Edge { from: "api".into(), to: "rtc".into() }],
        };
        let report = check(&wired);
        assert!(
            report.errors().any(|p| p.message.contains("service and takes no media edges")),
            "{:?}",
            report.problems
        );
    }

    #[test]
    fn a_narrower_codec_set_is_a_note() {
        let mut problems = Vec::new();
        let node = http_sink("rtc");
        let carried = Caps::new(&[Codec::H264, Codec::Av1], &[Codec::Aac]);
        let accepts = Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]);
        check_edge_caps("live", &node, carried, accepts, &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].severity, Severity::Info);
        assert!(problems[0].message.contains("video {H264, H265}"), "{}", problems[0]);
        assert!(problems[0].to_string().starts_with("note: "), "{}", problems[0]);
    }

    #[test]
    fn a_kind_the_node_takes_none_of_is_a_warning() {
        let mut problems = Vec::new();
        let node = http_sink("mp3");
        let carried = Caps::new(&[Codec::H264], &[Codec::Aac, Codec::Mp3]);
        let accepts = Caps::new(&[], &[Codec::Mp3]);
        check_edge_caps("live", &node, carried, accepts, &mut problems);
        let severities: Vec<Severity> = problems.iter().map(|p| p.severity).collect();
        assert_eq!(severities, [Severity::Warning, Severity::Info], "{problems:?}");
        assert!(problems[0].message.contains("its video is dropped"), "{}", problems[0]);

        // A kind whose codecs are all foreign to the node is lost as well.
        let mut problems = Vec::new();
        let carried = Caps::new(&[Codec::Av1], &[Codec::Aac]);
        let accepts = Caps::new(&[Codec::H264], &[Codec::Aac]);
        check_edge_caps("live", &node, carried, accepts, &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].severity, Severity::Warning);
        assert!(problems[0].message.contains("no video reaches it"), "{}", problems[0]);
    }

    #[test]
    fn the_default_shape_of_graph_checks_without_warnings() {
        // A source of every codec into a router, then an H.264/H.265 + AAC/MP3 sink: the sink
        // narrows both kinds (notes), loses none.
        let file = GraphFile {
            nodes: vec![
                NamedNode { name: "in".into(), node: TestNode::Source },
                NamedNode { name: "vhost".into(), node: TestNode::Router("__defaultVhost__".into()) },
                http_sink("flv"),
            ],
            edges: vec![
                super::super::Edge { from: "in".into(), to: "vhost".into() },
                super::super::Edge { from: "vhost".into(), to: "flv".into() },
            ],
        };
        let report = check(&file);
        assert!(report.is_ok(), "{:?}", report.problems);
        assert!(!report.problems.is_empty(), "the narrowing is still reported");
        assert!(report.problems.iter().all(|p| p.severity == Severity::Info), "{:?}", report.problems);
    }
}
