//! The `breachscope` binary: everything lives in the library.

// Parsing allocates and frees column buffers of a few megabytes per chunk on
// every thread; glibc's allocator hands those back to the kernel each time,
// and faulting them in again cost more system time than the parse itself.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its v2 header numbers it 15).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Return freed memory to the system at once rather than after 10 ms:
    // parsed chunks are freed while the frame they are copied into fills,
    // and with the delay the two add up (peak resident memory on 13 M
    // lines: 1.1 GB -> 1.5 GB). Decoded chunk buffers are recycled, so
    // little memory is freed and faulted in again before that. The
    // variable MIMALLOC_PURGE_DELAY, when set, still decides.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option before any thread is started.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    // Nearly all of this process's memory is written once: parsed chunks,
    // then the frame. A transparent huge page is zeroed whole when first
    // touched, and in a virtual machine that hands freed memory back to its
    // host each fresh 2 MB page is also faulted in by the host: on the
    // project's VM, system time of `scope` over 13 M lines fell from 3.1-4.5 s
    // to 0.9-1.3 s with huge pages off, and user time did not rise. mimalloc
    // asks for huge pages on its arenas; MIMALLOC_ALLOW_THP, when set, still
    // decides.
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        disable_huge_pages();
    }
    breachscope::cli::main()
}

/// Turns transparent huge pages off for this process, whatever its memory
/// asked for with `madvise`.
#[cfg(target_os = "linux")]
fn disable_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only a
    // flag of this process. It can fail only on kernels older than 3.15,
    // which leaves huge pages as they were.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn disable_huge_pages() {}
