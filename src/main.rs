//! The `breachscope` binary: everything lives in the library.

// Parsing allocates and frees column buffers of a few megabytes per chunk on
// every thread; glibc's allocator hands those back to the kernel each time,
// and faulting them in again cost more system time than the parse itself.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    breachscope::cli::main()
}
