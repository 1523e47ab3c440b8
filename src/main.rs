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
        .init();
    match streetcell::cli::run(streetcell::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
