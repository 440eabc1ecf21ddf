//! Loading a graph file: Dhall evaluated by serde_dhall, typed against the Rust node types.
//!
//! Remote imports are refused before evaluation: serde_dhall without its network feature
//! panics on them, and a graph must never depend on the network to start.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Catalogue, GraphFile};

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
pub fn load_file<N: Catalogue>(path: &Path) -> Result<GraphFile<N>, LoadError> {
    refuse_remote_imports(path, &mut HashSet::new())?;
    load_unchecked(path)
}

/// Evaluates Dhall source text given inline (an embedded default graph); `base` is the directory
/// its relative imports are resolved against.
pub fn load_text<N: Catalogue>(text: &str, base: &Path) -> Result<GraphFile<N>, LoadError> {
    let path = base.join(".inline-graph.dhall");
    for import in scan_imports(text) {
        match import {
            Import::Remote(url) => return Err(LoadError::RemoteImport { path, url }),
            Import::Local(rel) => refuse_remote_imports(&base.join(rel), &mut HashSet::new())?,
        }
    }
    let text = text.to_owned();
    let result = std::panic::catch_unwind(|| {
        serde_dhall::from_str(&text)
            .static_type_annotation()
            .imports(true)
            .parse::<GraphFile<N>>()
            .map_err(|e| e.to_string())
    });
    finish(path, result)
}

fn load_unchecked<N: Catalogue>(path: &Path) -> Result<GraphFile<N>, LoadError> {
    let owned = path.to_owned();
    let result = std::panic::catch_unwind(move || {
        serde_dhall::from_file(&owned)
            .static_type_annotation()
            .parse::<GraphFile<N>>()
            .map_err(|e| e.to_string())
    });
    finish(path.to_owned(), result)
}

fn finish<N>(
    path: PathBuf,
    result: std::thread::Result<Result<GraphFile<N>, String>>,
) -> Result<GraphFile<N>, LoadError> {
    match result {
        Ok(Ok(graph)) => Ok(graph),
        Ok(Err(e)) => {
            let reason = describe_dhall_error(&path, &e);
            Err(LoadError::Dhall { path, reason })
        }
        Err(_) => Err(LoadError::Dhall { path, reason: "the Dhall evaluator failed on this file".into() }),
    }
}

/// serde_dhall reports a type mismatch as two whole record types; name the fields that differ.
fn describe_dhall_error(path: &Path, text: &str) -> String {
    let text = text.trim().replace("<current file>", &path.display().to_string());
    let Some(first_line) = text.lines().next() else { return text };
    let Some((_, types)) = first_line.split_once("annot mismatch: ") else { return text };
    let Some((found, wanted)) = types.split_once(" != ") else { return text };
    let (found, wanted) = (field_names(found), field_names(wanted));
    let extra: Vec<&String> = found.iter().filter(|f| !wanted.contains(f)).collect();
    let missing: Vec<&String> = wanted.iter().filter(|f| !found.contains(f)).collect();
    let mut hints = Vec::new();
    for field in &extra {
        let close = missing.iter().find(|m| m.starts_with(field.as_str()) || field.starts_with(m.as_str()));
        match close {
            Some(m) => hints.push(format!("field `{field}` is unknown (did you mean `{m}`?)")),
            None => hints.push(format!("field `{field}` is unknown")),
        }
    }
    for field in &missing {
        if !hints.iter().any(|h| h.contains(&format!("`{field}`?"))) {
            hints.push(format!("field `{field}` is missing"));
        }
    }
    if hints.is_empty() {
        return text;
    }
    format!("{}\n{text}", hints.join("; "))
}

/// Field names (`name :`) appearing in a printed Dhall type.
fn field_names(printed: &str) -> Vec<String> {
    let mut names: Vec<String> = printed
        .split(['{', ',', '|', '<'])
        .filter_map(|part| part.trim().split_once(" :").map(|(name, _)| name.trim().to_owned()))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    names.sort();
    names.dedup();
    names
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
        } else if let Some(after) = rest.strip_prefix("''") {
            i += 2 + after.find("''").map_or(after.len(), |end| end + 2);
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
