//! The `srs` binary: parses the command line and hands over to `srs::cli`.

/// mimalloc rather than glibc's malloc: glibc keeps memory freed by one thread's arena after a
/// burst of players leaves, so the server never shrank back to idle; mimalloc returns it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    srs::cli::main()
}
