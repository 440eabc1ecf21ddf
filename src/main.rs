//! The `srs` binary: parses the command line and hands over to `srs::cli`.

/// mimalloc rather than glibc's malloc: glibc keeps memory freed by one thread's arena after a
/// burst of players leaves, so the server never shrank back to idle; mimalloc returns it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Run by server workers when they go idle: hands the pages other threads freed back to the system
/// (mimalloc collects a thread's heap only when that thread allocates, which an idle worker does not).
fn collect_freed_memory() {
    // SAFETY: `mi_collect` takes no pointers and only walks the calling thread's own heap.
    unsafe { libmimalloc_sys::mi_collect(false) };
}

/// No transparent huge pages for this process. mimalloc asks for them on its segments, and the
/// kernel's khugepaged then fills whole 2 MiB pages around the few small blocks still in use: after
/// a burst of players left, an idle server's memory grew by tens of megabytes instead of shrinking.
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on this process.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

/// The open-file limit up to its hard limit: every connection is a file descriptor, and the
/// usual soft limit (1024) would refuse connections long before memory runs short.
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write the plain struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn main() -> std::process::ExitCode {
    disable_transparent_huge_pages();
    raise_open_file_limit();
    srs::cli::runtime::set_worker_idle_hook(collect_freed_memory);
    srs::cli::main()
}
