//! The Dhall catalogue and the Rust node types agree: every shipped graph loads with the Rust
//! types as its annotation (so a field or union tag that drifts fails here), Dhall defaults equal
//! Rust defaults, and the classic srs.conf form yields the same graph as the node-by-node form.

use std::path::Path;

use srs::graph::LoadError;
use srs::nodes::{vhost, GraphFile, NodeSpec};

fn load_file(path: &Path) -> Result<GraphFile, LoadError> {
    srs::graph::load_file::<NodeSpec>(path)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_shipped_graph_loads_against_the_rust_types() {
    for dir in ["graphs", "examples"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("directory exists") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "dhall") {
                let graph = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
                assert!(!graph.nodes.is_empty(), "{} has no nodes", path.display());
            }
        }
    }
}

#[test]
fn classic_form_yields_the_same_graph_as_the_node_form() {
    let nodes = load_file(&root().join("graphs/live.dhall")).expect("live graph loads");
    let classic = load_file(&root().join("examples/live-classic.dhall")).expect("classic graph loads");
    assert_eq!(nodes.normalized(), classic.normalized());
}

#[test]
fn classic_casters_yield_the_same_graph_as_the_node_form() {
    let nodes = load_file(&root().join("graphs/casters.dhall")).expect("casters graph loads");
    let classic = load_file(&root().join("examples/casters-classic.dhall")).expect("classic graph loads");
    assert_eq!(nodes.normalized(), classic.normalized());
}

#[test]
fn classic_dash_block_yields_the_dash_graph() {
    let nodes = load_file(&root().join("graphs/dash.dhall")).expect("dash graph loads");
    let classic = load_file(&root().join("examples/dash-classic.dhall")).expect("classic graph loads");
    assert_eq!(nodes.normalized(), classic.normalized());
}

#[test]
fn classic_dvr_block_yields_the_dvr_graph() {
    let nodes = load_file(&root().join("graphs/dvr.dhall")).expect("dvr graph loads");
    let classic = load_file(&root().join("examples/dvr-classic.dhall")).expect("classic dvr graph loads");
    assert_eq!(nodes.normalized(), classic.normalized());
}

#[test]
fn dhall_vhost_defaults_equal_srs_defaults_in_rust() {
    let dir = tempdir();
    let file = dir.join("vhost.dhall");
    let catalogue = root().join("nodes/package.dhall");
    let text = format!(
        "let srs = {}\nin srs.Graph::{{ nodes = [ srs.node \"v\" (srs.Node.Vhost srs.Vhost::{{=}}) ] }}",
        catalogue.display()
    );
    std::fs::write(&file, text).expect("temp file");
    let graph = load_file(&file).expect("loads");
    match &graph.nodes[0].node {
        NodeSpec::Vhost(config) => assert_eq!(config, &vhost::Config::default()),
        other => panic!("expected a Vhost, got {other:?}"),
    }
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("srs-test-{}-catalogue", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn readme_quotes_the_example_graph_verbatim() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let example = std::fs::read_to_string(root().join("examples/record-and-serve.dhall")).expect("example");
    assert!(
        readme.contains(&format!("```dhall\n{example}```")),
        "README must quote examples/record-and-serve.dhall"
    );
}
