//! The srs.conf reader: SRS's nginx-like syntax to a tree of [`Directive`]s, sans-IO.
//!
//! Rules (SRS `SrsConfDirective::read_token`): `name args...;` is a directive and must end on
//! its line; `name args { ... }` is a block; `#` at the start of a word comments to the end of
//! the line; `"..."` and `'...'` quote a word (no escapes) and must be followed by a space, `;`
//! or `{`; `include path...;` parses the named files in place, paths relative to the including
//! file. Files are read through [`SourceReader`], so tests parse from memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{ConfError, Origin};

/// Deepest block nesting accepted (SRS's deepest is 4).
const MAX_BLOCK_DEPTH: usize = 32;
/// Deepest include chain accepted: an include cycle stops here.
const MAX_INCLUDE_DEPTH: usize = 16;

/// One directive: `name args;` or a block `name args { children }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    /// Directives inside the braces; empty for a plain directive.
    pub children: Vec<Directive>,
    /// Written with braces (a block), even if empty.
    pub is_block: bool,
    pub origin: Origin,
}

impl Directive {
    /// The first argument, or "" (SRS's `arg0()`).
    pub fn arg0(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or_default()
    }

    /// The first child named `name` (SRS's getters read the first match).
    pub fn child(&self, name: &str) -> Option<&Directive> {
        self.children.iter().find(|d| d.name == name)
    }
}

/// Where included files come from: the file system, or memory in tests.
pub trait SourceReader {
    fn read(&self, path: &Path) -> std::io::Result<String>;
}

/// Reads from the file system.
pub struct FileSystem;

impl SourceReader for FileSystem {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

impl<F: Fn(&Path) -> std::io::Result<String>> SourceReader for F {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        self(path)
    }
}

/// Parses the file at `path` (and what it includes) into its top-level directives.
pub fn parse_file(path: &Path, reader: &dyn SourceReader) -> Result<Vec<Directive>, ConfError> {
    let text = reader
        .read(path)
        .map_err(|e| ConfError::Read { path: path.display().to_string(), reason: e.to_string() })?;
    parse_text(&text, path, reader)
}

/// Parses `text` as if read from `path` (messages name it; includes resolve from its directory).
pub fn parse_text(text: &str, path: &Path, reader: &dyn SourceReader) -> Result<Vec<Directive>, ConfError> {
    Parser { reader, include_depth: 0 }.file(text, path)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Semicolon,
    Open,
    Close,
    Newline,
}

/// Splits one file's text into tokens with their line numbers.
fn tokenize(text: &str, file: &Arc<PathBuf>) -> Result<Vec<(Token, usize)>, ConfError> {
    let at = |line: usize| Origin::File { path: Arc::clone(file), line };
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                tokens.push((Token::Newline, line));
                line += 1;
            }
            ' ' | '\t' | '\r' => {}
            ';' => tokens.push((Token::Semicolon, line)),
            '{' => tokens.push((Token::Open, line)),
            '}' => tokens.push((Token::Close, line)),
            '#' => while chars.next_if(|&c| c != '\n').is_some() {},
            '"' | '\'' => {
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\n') | None => {
                            return Err(ConfError::syntax(
                                at(line),
                                format!("quote {c} is not closed on its line"),
                            ));
                        }
                        Some(other) => word.push(other),
                    }
                }
                if chars.peek().is_some_and(|&n| !matches!(n, ' ' | '\t' | '\r' | '\n' | ';' | '{')) {
                    return Err(ConfError::syntax(
                        at(line),
                        format!("a quoted word must be followed by a space, `;` or `{{`: {c}{word}{c}"),
                    ));
                }
                tokens.push((Token::Word(word), line));
            }
            _ => {
                let mut word = String::from(c);
                while let Some(n) =
                    chars.next_if(|&n| !matches!(n, ' ' | '\t' | '\r' | '\n' | ';' | '{' | '}'))
                {
                    word.push(n);
                }
                tokens.push((Token::Word(word), line));
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    reader: &'a dyn SourceReader,
    include_depth: usize,
}

impl Parser<'_> {
    fn file(&mut self, text: &str, path: &Path) -> Result<Vec<Directive>, ConfError> {
        let file = Arc::new(path.to_owned());
        let tokens = tokenize(text, &file)?;
        let mut position = 0;
        self.block(&tokens, &mut position, &file, None, 0)
    }

    /// Reads directives until the `}` closing the block opened at `open` (or the end of file).
    fn block(
        &mut self,
        tokens: &[(Token, usize)],
        position: &mut usize,
        file: &Arc<PathBuf>,
        open: Option<(&str, usize)>,
        depth: usize,
    ) -> Result<Vec<Directive>, ConfError> {
        let at = |line: usize| Origin::File { path: Arc::clone(file), line };
        let mut directives = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut start_line = 0;
        let missing_semicolon = |words: &[String], line: usize| {
            ConfError::syntax(at(line), format!("missing `;` after `{}`", words.join(" ")))
        };
        while let Some((token, line)) = tokens.get(*position) {
            *position += 1;
            match token {
                Token::Word(word) => {
                    if words.is_empty() {
                        start_line = *line;
                    }
                    words.push(word.clone());
                }
                Token::Newline if words.is_empty() => {}
                Token::Newline | Token::Close if !words.is_empty() => {
                    return Err(missing_semicolon(&words, start_line));
                }
                Token::Semicolon if words.is_empty() => {
                    return Err(ConfError::syntax(at(*line), "unexpected `;` without a directive".into()));
                }
                Token::Semicolon => {
                    let name = words.remove(0);
                    let args = std::mem::take(&mut words);
                    if name == "include" {
                        directives.extend(self.include(&args, file, start_line)?);
                    } else {
                        let origin = at(start_line);
                        directives.push(Directive {
                            name,
                            args,
                            children: Vec::new(),
                            is_block: false,
                            origin,
                        });
                    }
                }
                Token::Open if words.is_empty() => {
                    return Err(ConfError::syntax(
                        at(*line),
                        "`{` without a directive name before it".into(),
                    ));
                }
                Token::Open => {
                    if depth >= MAX_BLOCK_DEPTH {
                        return Err(ConfError::syntax(at(*line), "blocks nested too deeply".into()));
                    }
                    let name = words.remove(0);
                    let args = std::mem::take(&mut words);
                    let children =
                        self.block(tokens, position, file, Some((&name, start_line)), depth + 1)?;
                    let origin = at(start_line);
                    directives.push(Directive { name, args, children, is_block: true, origin });
                }
                Token::Close if open.is_some() => return Ok(directives),
                Token::Close | Token::Newline => {
                    return Err(ConfError::syntax(at(*line), "unexpected `}` without an open block".into()));
                }
            }
        }
        if !words.is_empty() {
            return Err(missing_semicolon(&words, start_line));
        }
        if let Some((name, line)) = open {
            return Err(ConfError::syntax(at(line), format!("block `{name}` is not closed: missing `}}`")));
        }
        Ok(directives)
    }

    fn include(
        &mut self,
        args: &[String],
        file: &Arc<PathBuf>,
        line: usize,
    ) -> Result<Vec<Directive>, ConfError> {
        let at = Origin::File { path: Arc::clone(file), line };
        if args.is_empty() {
            return Err(ConfError::syntax(at, "`include` needs a file name".into()));
        }
        if self.include_depth >= MAX_INCLUDE_DEPTH {
            return Err(ConfError::syntax(at, "includes nested too deeply (an include cycle?)".into()));
        }
        let base = file.parent().unwrap_or(Path::new(""));
        let mut directives = Vec::new();
        for arg in args {
            let path = base.join(arg);
            let text = self
                .reader
                .read(&path)
                .map_err(|e| ConfError::syntax(at.clone(), format!("include `{}`: {e}", path.display())))?;
            self.include_depth += 1;
            let included = self.file(&text, &path);
            self.include_depth -= 1;
            directives.extend(included?);
        }
        Ok(directives)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(text: &str) -> Result<Vec<Directive>, String> {
        let files: HashMap<PathBuf, String> = HashMap::new();
        parse_with(text, files)
    }

    fn parse_with(text: &str, files: HashMap<PathBuf, String>) -> Result<Vec<Directive>, String> {
        let reader = move |path: &Path| {
            files.get(path).cloned().ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        };
        parse_text(text, Path::new("conf/srs.conf"), &reader).map_err(|e| e.to_string())
    }

    fn shape(directives: &[Directive]) -> String {
        directives
            .iter()
            .map(|d| {
                let mut text = d.name.clone();
                for arg in &d.args {
                    text.push_str(&format!(" [{arg}]"));
                }
                if d.is_block {
                    text.push_str(&format!(" {{{}}}", shape(&d.children)));
                }
                text
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn directives_blocks_and_arguments() {
        let tree =
            parse("listen 1935 1936;\nvhost __defaultVhost__ {\n  play { gop_cache off; }\n}\n").unwrap();
        assert_eq!(shape(&tree), "listen [1935] [1936]; vhost [__defaultVhost__] {play {gop_cache [off]}}");
        assert_eq!(tree[1].origin.to_string(), "conf/srs.conf:2");
        assert_eq!(tree[1].children[0].children[0].origin.to_string(), "conf/srs.conf:3");
    }

    #[test]
    fn comments_run_to_the_end_of_line_only_at_a_word_start() {
        let tree = parse("# header\nlisten 1935; # trailing\nmount a#b;\n").unwrap();
        assert_eq!(shape(&tree), "listen [1935]; mount [a#b]");
    }

    #[test]
    fn quoted_words_keep_spaces_and_need_a_separator_after() {
        let tree = parse("dir \"my dir\" 'x;y';\n").unwrap();
        assert_eq!(tree[0].args, ["my dir", "x;y"]);
        let error = parse("dir \"a\"b;\n").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:1:") && error.contains("followed by"), "{error}");
        let error = parse("dir \"open\n\";").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:1:") && error.contains("not closed"), "{error}");
    }

    #[test]
    fn a_newline_inside_a_directive_is_a_missing_semicolon() {
        let error = parse("listen 1935;\nchunk_size 60000\nmax_connections 10;\n").unwrap_err();
        assert_eq!(error, "conf/srs.conf:2: missing `;` after `chunk_size 60000`");
        let error = parse("vhost x\n{\n}\n").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:1: missing `;`"), "{error}");
        let error = parse("listen 1935").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:1: missing `;`"), "{error}");
        let error = parse("vhost x { enabled on }\n").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:1: missing `;` after `enabled on`"), "{error}");
    }

    #[test]
    fn unclosed_and_stray_braces() {
        let error = parse("listen 1935;\nvhost a {\n  play {\n  }\n").unwrap_err();
        assert_eq!(error, "conf/srs.conf:2: block `vhost` is not closed: missing `}`");
        let error = parse("listen 1935;\n}\n").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:2: unexpected `}`"), "{error}");
        let error = parse("{ }\n").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:1: `{` without"), "{error}");
        let error = parse("listen 1935;;\n").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:1: unexpected `;`"), "{error}");
        let deep = "a {".repeat(40) + &"}".repeat(40);
        assert!(parse(&deep).unwrap_err().contains("too deeply"));
    }

    #[test]
    fn empty_blocks_and_blank_files() {
        assert_eq!(shape(&parse("").unwrap()), "");
        assert_eq!(shape(&parse("\n\n# only a comment\n").unwrap()), "");
        assert_eq!(shape(&parse("http_api {}\n").unwrap()), "http_api {}");
    }

    #[test]
    fn include_is_parsed_in_place_relative_to_the_including_file() {
        let mut files = HashMap::new();
        files.insert(PathBuf::from("conf/vhosts/a.conf"), "vhost a {\n  include b.conf;\n}\n".to_owned());
        files.insert(PathBuf::from("conf/vhosts/b.conf"), "min_latency on;\n".to_owned());
        let tree = parse_with("listen 1935;\ninclude vhosts/a.conf;\nchunk_size 4096;\n", files).unwrap();
        assert_eq!(shape(&tree), "listen [1935]; vhost [a] {min_latency [on]}; chunk_size [4096]");
        assert_eq!(tree[1].origin.to_string(), "conf/vhosts/a.conf:1");
        assert_eq!(tree[1].children[0].origin.to_string(), "conf/vhosts/b.conf:1");
    }

    #[test]
    fn include_errors_name_the_including_line_or_the_included_file() {
        let error = parse("listen 1935;\ninclude missing.conf;\n").unwrap_err();
        assert!(error.starts_with("conf/srs.conf:2: include `conf/missing.conf`"), "{error}");
        let mut files = HashMap::new();
        files.insert(PathBuf::from("conf/bad.conf"), "\nlisten 1935\n".to_owned());
        let error = parse_with("include bad.conf;\n", files).unwrap_err();
        assert!(error.starts_with("conf/bad.conf:2: missing `;`"), "{error}");
        let mut files = HashMap::new();
        files.insert(PathBuf::from("conf/loop.conf"), "include loop.conf;\n".to_owned());
        assert!(parse_with("include loop.conf;\n", files).unwrap_err().contains("too deeply"));
    }
}
