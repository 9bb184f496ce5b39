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
    breachscope::cli::main()
}
