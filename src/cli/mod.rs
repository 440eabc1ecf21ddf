//! The command line: `srs run`, `srs graph check|dot`, `srs remux`.

use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
