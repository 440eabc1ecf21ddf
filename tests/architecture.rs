//! The layer rules of ARCHITECTURE.md, checked on the source: each layer of `src/` names only the
//! layers below it. A `crate::<layer>` path anywhere in a file (a `use` line, a grouped
//! `use crate::{..}` or a path written inline) counts as an import of that layer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const LAYERS: &[&str] = &["media", "codec", "graph", "control", "servers", "nodes", "conf", "bench", "cli"];

/// Which layers each layer may import (besides itself).
fn allowed(layer: &str) -> &'static [&'static str] {
    match layer {
        "media" => &[],
        "codec" => &["media"],
        // The engine is generic over the node catalogue it is handed: it names no node kind,
        // protocol, server or control-plane part.
        "graph" => &["media"],
        "control" => &["media", "codec", "graph"],
        "servers" => &["media", "codec", "graph"],
        "nodes" => &["media", "codec", "graph", "control", "servers"],
        "conf" => &["media", "codec", "graph", "control", "nodes"],
        "bench" => &["media", "codec"],
        _ => LAYERS,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layers a source text names through `crate::`, with the line of each.
fn imported_layers(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                // `crate::{a, b::c}`: every first segment in the group (on this line).
                Some(group) => group.split(['}', ',']).map(|part| part.trim()).collect(),
                None => vec![rest],
            };
            for name in names {
                let layer: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if LAYERS.contains(&layer.as_str()) {
                    found.push((layer, number + 1));
                }
            }
        }
    }
    found
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut files = 0;
    for layer in LAYERS {
        let mut paths = Vec::new();
        rust_files(&src.join(layer), &mut paths);
        for path in paths {
            files += 1;
            let text = std::fs::read_to_string(&path).expect("source is readable");
            for (imported, line) in imported_layers(&text) {
                if imported != *layer && !allowed(layer).contains(&imported.as_str()) {
                    let shown = path.strip_prefix(&src).unwrap_or(&path).display().to_string();
                    violations.push(format!("src/{shown}:{line}: `{layer}` imports `{imported}`"));
                }
            }
        }
    }
    assert!(files > 100, "only {files} source files found under {}", src.display());
    assert!(violations.is_empty(), "layer rules broken:\n{}", violations.join("\n"));
}

#[test]
fn the_scanner_sees_every_spelling_of_an_import() {
    let text = "use crate::nodes::vhost;\nuse crate::{media, servers::http};\nlet x = crate::control::hooks::f(); // crate::cli\n";
    let layers: BTreeSet<(String, usize)> = imported_layers(text).into_iter().collect();
    let expected: BTreeSet<(String, usize)> =
        [("nodes", 1), ("media", 2), ("servers", 2), ("control", 3)].map(|(l, n)| (l.to_owned(), n)).into();
    assert_eq!(layers, expected);
}
