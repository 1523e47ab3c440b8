//! The `streetcell` binary: parse the command line and run it.

use clap::Parser;

/// mimalloc rather than the system allocator: a page of features is one
/// ~50 KB buffer per request, and glibc's malloc spent ~7% of a loaded
/// server's time finding and merging such blocks (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "streetcell=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match streetcell::cli::run(streetcell::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Distinct from a failure to run: the report is printed and the
            // good rows landed, but a script should notice the rest.
            if e.is::<streetcell::cli::RowsRejected>() {
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
