//! The `breachscope` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    breachscope::cli::main()
}
