//! Embeds the Dhall catalogue and the default graph, so `srs run` works from the binary alone.

use std::fmt::Write;
use std::path::Path;

fn collect(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "dhall") {
            if let Ok(relative) = path.strip_prefix(root) {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("nodes"), root, &mut files);
    files.push("graphs/live.dhall".to_owned());
    let mut code =
        String::from("/// Files embedded at build time: (path relative to the repository, contents).\n");
    code.push_str("pub const EMBEDDED: &[(&str, &str)] = &[\n");
    for file in &files {
        let _ = writeln!(
            code,
            "    ({file:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{file}\"))),"
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=nodes");
    println!("cargo:rerun-if-changed=graphs/live.dhall");
}
