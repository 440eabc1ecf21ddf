//! Loading a graph file: Dhall evaluated by serde_dhall, typed against the Rust node types.
//!
//! Remote imports are refused before evaluation: serde_dhall without its network feature
//! panics on them, and a graph must never depend on the network to start.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::GraphFile;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: remote import `{url}` refused: graph files may import local files only")]
    RemoteImport { path: PathBuf, url: String },
    #[error("{path}: {reason}")]
    Dhall { path: PathBuf, reason: String },
}

/// Loads and typechecks a graph file.
pub fn load_file(path: &Path) -> Result<GraphFile, LoadError> {
    refuse_remote_imports(path, &mut HashSet::new())?;
    load_unchecked(path)
}

/// Evaluates Dhall source text given inline (an embedded default graph); `base` is the directory
/// its relative imports are resolved against.
pub fn load_text(text: &str, base: &Path) -> Result<GraphFile, LoadError> {
    let path = base.join(".inline-graph.dhall");
    for import in scan_imports(text) {
        match import {
            Import::Remote(url) => return Err(LoadError::RemoteImport { path, url }),
            Import::Local(rel) => refuse_remote_imports(&base.join(rel), &mut HashSet::new())?,
        }
    }
    let text = text.to_owned();
    let result = std::panic::catch_unwind(|| {
        serde_dhall::from_str(&text).static_type_annotation().imports(true).parse::<GraphFile>()
    });
    finish(path, result)
}

fn load_unchecked(path: &Path) -> Result<GraphFile, LoadError> {
    let owned = path.to_owned();
    let result = std::panic::catch_unwind(move || {
        serde_dhall::from_file(&owned).static_type_annotation().parse::<GraphFile>()
    });
    finish(path.to_owned(), result)
}

fn finish(
    path: PathBuf,
    result: std::thread::Result<serde_dhall::Result<GraphFile>>,
) -> Result<GraphFile, LoadError> {
    match result {
        Ok(Ok(graph)) => Ok(graph),
        Ok(Err(e)) => Err(LoadError::Dhall { path, reason: describe_dhall_error(&e.to_string()) }),
        Err(_) => Err(LoadError::Dhall { path, reason: "the Dhall evaluator failed on this file".into() }),
    }
}

/// serde_dhall reports a type mismatch against the whole graph type; say what that means.
fn describe_dhall_error(text: &str) -> String {
    let text = text.trim().to_owned();
    if text.contains("annot_mismatch") || text.contains("Type error: annot") || text.contains("type mismatch")
    {
        return format!(
            "{text}\n(the graph does not have the type the server expects: build nodes with the catalogue's \
             constructors, `srs.RtmpIn::{{ ... }}`, so that Dhall names the field at fault)"
        );
    }
    text
}

enum Import {
    Local(String),
    Remote(String),
}

fn refuse_remote_imports(path: &Path, seen: &mut HashSet<PathBuf>) -> Result<(), LoadError> {
    let canonical =
        path.canonicalize().map_err(|e| LoadError::Read { path: path.into(), reason: e.to_string() })?;
    if !seen.insert(canonical.clone()) {
        return Ok(());
    }
    let text = std::fs::read_to_string(&canonical)
        .map_err(|e| LoadError::Read { path: path.into(), reason: e.to_string() })?;
    let dir = canonical.parent().unwrap_or(Path::new("/")).to_owned();
    for import in scan_imports(&text) {
        match import {
            Import::Remote(url) => return Err(LoadError::RemoteImport { path: path.into(), url }),
            Import::Local(rel) => {
                let target = dir.join(&rel);
                if target.is_file() {
                    refuse_remote_imports(&target, seen)?;
                }
            }
        }
    }
    Ok(())
}

/// Finds import-looking tokens outside comments and text literals.
fn scan_imports(text: &str) -> Vec<Import> {
    let bytes = text.as_bytes();
    let mut imports = Vec::new();
    let mut i = 0;
    let mut block_depth = 0usize;
    while i < bytes.len() {
        let rest = &text[i..];
        if block_depth > 0 {
            if rest.starts_with("{-") {
                block_depth += 1;
                i += 2;
            } else if rest.starts_with("-}") {
                block_depth -= 1;
                i += 2;
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
            continue;
        }
        if rest.starts_with("--") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("{-") {
            block_depth = 1;
            i += 2;
        } else if rest.starts_with("''") {
            i += 2 + rest[2..].find("''").map_or(rest.len() - 2, |end| end + 2);
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => break,
                    _ => j += 1,
                }
            }
            i += (j + 1).min(rest.len());
        } else if rest.starts_with("http://") || rest.starts_with("https://") {
            imports.push(Import::Remote(token(rest).to_owned()));
            i += token(rest).len();
        } else if (rest.starts_with("./") || rest.starts_with("../")) && boundary_before(bytes, i) {
            imports.push(Import::Local(token(rest).to_owned()));
            i += token(rest).len();
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    imports
}

fn token(text: &str) -> &str {
    let end = text
        .find(|c: char| c.is_whitespace() || c == ')' || c == ',' || c == ']' || c == '}')
        .unwrap_or(text.len());
    &text[..end]
}

fn boundary_before(bytes: &[u8], i: usize) -> bool {
    i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b'[' | b',' | b'=' | b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_imports_outside_strings_and_comments() {
        let text = r#"let srs = ../nodes/package.dhall -- https://in.comment
            {- http://in.block {- nested -} -}
            in { url = "https://in.string", x = ./local.dhall, y = https://evil.example/x.dhall }"#;
        let found: Vec<String> = scan_imports(text)
            .into_iter()
            .map(|i| match i {
                Import::Local(p) => format!("local {p}"),
                Import::Remote(u) => format!("remote {u}"),
            })
            .collect();
        assert_eq!(
            found,
            ["local ../nodes/package.dhall", "local ./local.dhall", "remote https://evil.example/x.dhall"]
        );
    }
}
