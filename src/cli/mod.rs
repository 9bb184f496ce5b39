//! Command line: one file per subcommand, each with its `Args` and `run`.
//!
//! Arguments are turned into validated options before any evidence is read,
//! so a typo in `--since` fails in milliseconds, not after an hour of
//! parsing. Exit codes: 0 success, 2 error, 3 finished but some input was
//! damaged or unreadable (results are partial; the outputs say which).

mod common;
mod detect;
mod generate;
mod ingest;
mod logger;
mod query;
mod scope;
mod sweep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use common::{GlobalArgs, InputArgs};

/// Offline forensic engine for REST-API incidents.
///
/// Reads exported access logs (nginx/Apache), API-gateway JSON lines and AWS
/// CloudTrail, plain or gzip'd, in any mix, and answers the questions of an
/// incident response with evidence: file and line for every finding.
#[derive(Parser)]
#[command(name = "breachscope", version, max_term_width = 100)]
#[command(after_help = "Exit status: 0 success, 2 error, 3 some input was damaged or unreadable.")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    Scope(scope::Args),
    Detect(detect::Args),
    Ingest(ingest::Args),
    Sweep(sweep::Args),
    Query(query::Args),
    Generate(generate::Args),
}

/// Exit status when an input was damaged or could not be read.
pub const EXIT_INCOMPLETE: u8 = 3;
/// Exit status on error.
pub const EXIT_ERROR: u8 = 2;

/// Parses the command line, runs the command, and maps errors to one line on
/// stderr and exit status 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logger::init(&cli.global);
    if let Err(e) = cli.global.configure_threads() {
        eprintln!("breachscope: error: {e:#}");
        return ExitCode::from(EXIT_ERROR);
    }
    let result = match cli.command {
        Command::Scope(args) => scope::run(args, &cli.global),
        Command::Detect(args) => detect::run(args, &cli.global),
        Command::Ingest(args) => ingest::run(args, &cli.global),
        Command::Sweep(args) => sweep::run(args, &cli.global),
        Command::Query(args) => query::run(args, &cli.global),
        Command::Generate(args) => generate::run(args, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let text = format!("{e:#}");
            eprintln!(
                "breachscope: error: {}",
                crate::report::escape::for_terminal(&text)
            );
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
