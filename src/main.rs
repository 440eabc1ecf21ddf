//! The `srs` binary: parses the command line and hands over to `srs::cli`.

fn main() -> std::process::ExitCode {
    srs::cli::main()
}
