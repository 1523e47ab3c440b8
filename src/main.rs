//! The `streetcell` binary: parse the command line and run it.

use clap::Parser;

/// mimalloc rather than the system allocator: a page of features is one
/// ~50 KB buffer per request, and glibc's malloc spent ~7% of a loaded
/// server's time finding and merging such blocks (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Once start-up's temporaries (rows read, the decoded snapshot, the
    // bulk load's buffers) are dropped, free pages go back to the system at
    // once rather than waiting on threads that have gone idle.
    // SAFETY: `mi_collect` takes no pointers and may be called at any time.
    streetcell::cli::on_release_memory(|| unsafe { libmimalloc_sys::mi_collect(true) });
    let cli = streetcell::cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "streetcell=info,tower_http=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if cli.log_format == "json" {
        // One JSON object a line, with the request span's fields
        // (request_id, method, route) on every line of a request.
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
    match streetcell::cli::run(cli).await {
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
