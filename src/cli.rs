//! The `streetcell` command line: serve, import, import-areas, and the
//! setup commands in `cli/setup.rs` (authority, organisation, token,
//! fee-schedule).

mod setup;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::domain::area::AreaLayer;
use crate::http::imports::MappingParams;
use crate::http::{AppState, Settings};
use crate::import;
use crate::register::{ImportTarget, Register, import_rows_with};
use crate::store::{Store, hash_token};

/// Command-line interface.
#[derive(Parser, Debug)]
#[command(
    name = "streetcell",
    version,
    about = "Council street assets as 5G small-cell sites"
)]
pub struct Cli {
    /// Database URL: sqlite://FILE or postgres://...
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://streetcell.db",
        global = true
    )]
    pub database_url: String,
    /// Log lines as `text` (for people) or `json` (one object a line, for
    /// log collectors).
    #[arg(long, env = "STREETCELL_LOG_FORMAT", default_value = "text", global = true, value_parser = ["text", "json"])]
    pub log_format: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Import an asset register (GeoJSON or CSV, by extension).
    Import(ImportArgs),
    /// Import a boundary layer (wards, fee zones, conservation areas).
    ImportAreas(AreaArgs),
    /// Manage bearer tokens.
    Token {
        /// Token action.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Councils using this deployment.
    Authority {
        /// Authority action.
        #[command(subcommand)]
        action: setup::AuthorityAction,
    },
    /// Operators and neutral hosts.
    Organisation {
        /// Organisation action.
        #[command(subcommand)]
        action: setup::OrganisationAction,
    },
    /// A council's published fee schedule.
    FeeSchedule {
        /// Fee-schedule action.
        #[command(subcommand)]
        action: setup::FeeScheduleAction,
    },
    /// The start-up snapshot `serve` reads and writes.
    Snapshot {
        /// Snapshot action.
        #[command(subcommand)]
        action: SnapshotAction,
    },
}

/// Snapshot actions.
#[derive(Subcommand, Debug)]
pub enum SnapshotAction {
    /// Write the snapshot now (as `serve` does when it stops).
    Write {
        /// Where (default: beside a SQLite database, `FILE.snapshot`).
        #[arg(long, env = "STREETCELL_SNAPSHOT")]
        snapshot: Option<PathBuf>,
    },
}

/// The error `streetcell import` ends with when rows were rejected (after
/// printing its report), so scripts notice; the binary exits with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0} rows were rejected")]
pub struct RowsRejected(pub usize);

/// `serve` options.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "STREETCELL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve asset data without a token.
    #[arg(long)]
    pub public_read: bool,
    /// Load the bundled Trafford demo into an empty database and print tokens.
    #[arg(long)]
    pub demo: bool,
    /// Largest document attached to an application, in bytes.
    #[arg(long, env = "STREETCELL_MAX_ATTACHMENT_BYTES", default_value_t = crate::domain::attachment::DEFAULT_MAX_BYTES)]
    pub max_attachment_bytes: usize,
    /// Largest site-search region, in square kilometres.
    #[arg(long, env = "STREETCELL_MAX_SEARCH_AREA_KM2", default_value_t = crate::domain::matching::request::DEFAULT_MAX_AREA_KM2)]
    pub max_search_area_km2: f64,
    /// Start-up snapshot: read at start-up when the database shows it is
    /// current (otherwise the database is read, and the log says why),
    /// written when the server stops. Default: beside a SQLite database
    /// (`FILE.snapshot`); none for PostgreSQL unless given.
    #[arg(long, env = "STREETCELL_SNAPSHOT")]
    pub snapshot: Option<PathBuf>,
    /// Neither read nor write a start-up snapshot.
    #[arg(long, conflicts_with = "snapshot")]
    pub no_snapshot: bool,
    /// Memory for GeoJSON features kept encoded between requests, in MiB
    /// (first come, first kept; 0 encodes every feature on every request).
    #[arg(long, env = "STREETCELL_FEATURE_CACHE_MB", default_value_t = crate::index::FeatureCache::DEFAULT_BUDGET >> 20)]
    pub feature_cache_mb: usize,
    /// Timeouts, connection cap and rate limit.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// `serve` limits (README, "Limits and operations"). Durations in seconds.
#[derive(Args, Debug)]
pub struct LimitArgs {
    /// Seconds for a request head to arrive; also how long an idle
    /// keep-alive connection is kept.
    #[arg(long, env = "STREETCELL_HEADER_TIMEOUT", default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Seconds for a whole request body to arrive.
    #[arg(long, env = "STREETCELL_BODY_TIMEOUT", default_value_t = 120.0)]
    pub body_timeout: f64,
    /// Seconds for the server to produce a response.
    #[arg(long, env = "STREETCELL_REQUEST_TIMEOUT", default_value_t = 300.0)]
    pub request_timeout: f64,
    /// Seconds a response write may make no progress (the client does not
    /// read) before the connection is closed.
    #[arg(long, env = "STREETCELL_WRITE_STALL_TIMEOUT", default_value_t = 30.0)]
    pub write_stall_timeout: f64,
    /// Connections served at once; more are answered 503.
    #[arg(long, env = "STREETCELL_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Pages of over 1,000 features built or sent at once; more wait.
    #[arg(long, env = "STREETCELL_MAX_LARGE_RESPONSES", default_value_t = 64)]
    pub max_large_responses: usize,
    /// Requests a second per token (or address without one); 0 = no limit.
    #[arg(long, env = "STREETCELL_RATE_LIMIT", default_value_t = 10_000)]
    pub rate_limit: u32,
    /// Requests a token may make at once above its rate.
    #[arg(long, env = "STREETCELL_RATE_BURST", default_value_t = 20_000)]
    pub rate_burst: u32,
    /// Seconds given to requests in flight to finish on shutdown.
    #[arg(long, env = "STREETCELL_SHUTDOWN_GRACE", default_value_t = 20.0)]
    pub shutdown_grace: f64,
}

impl LimitArgs {
    /// The limits, checked.
    pub fn limits(&self) -> anyhow::Result<crate::http::limits::Limits> {
        let secs = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 86_400.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                bail!("--{name} must be a number of seconds between 0 and 86400, not {v}")
            }
        };
        if self.max_connections == 0 || self.max_large_responses == 0 {
            bail!("--max-connections and --max-large-responses must be at least 1");
        }
        Ok(crate::http::limits::Limits {
            header_read_timeout: secs("header-timeout", self.header_timeout)?,
            body_timeout: secs("body-timeout", self.body_timeout)?,
            request_timeout: secs("request-timeout", self.request_timeout)?,
            write_stall_timeout: secs("write-stall-timeout", self.write_stall_timeout)?,
            max_connections: self.max_connections,
            max_large_responses: self.max_large_responses,
            rate_per_second: self.rate_limit,
            rate_burst: self.rate_burst,
            shutdown_grace: secs("shutdown-grace", self.shutdown_grace)?,
        })
    }
}

/// `import` options.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The authority the assets belong to.
    #[arg(long)]
    pub authority: String,
    /// A `.geojson`/`.json` or `.csv` file.
    pub file: PathBuf,
    /// One kind for every row.
    #[arg(long)]
    pub kind: Option<String>,
    /// Column holding each row's kind.
    #[arg(long)]
    pub kind_field: Option<String>,
    /// Column holding the council's asset number.
    #[arg(long)]
    pub ref_field: Option<String>,
    /// CSV column of longitude or easting.
    #[arg(long)]
    pub x_field: Option<String>,
    /// CSV column of latitude or northing.
    #[arg(long)]
    pub y_field: Option<String>,
    /// EPSG:4326 (lon/lat, default) or EPSG:27700 (British National Grid).
    #[arg(long)]
    pub crs: Option<String>,
    /// Other field names: height_m:COLUMN,power_supply:COLUMN
    #[arg(long)]
    pub fields: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// merge (default): fields a row leaves out keep their stored values;
    /// replace: the file is the authority's whole register (fields left out
    /// are cleared, assets it does not list are removed or retired).
    #[arg(long, value_parser = ["merge", "replace"])]
    pub mode: Option<String>,
    /// Write every refused row (line, reason) to this CSV file; the report
    /// itself lists only the first 100 and counts the rest by reason.
    #[arg(long)]
    pub rejections: Option<PathBuf>,
}

/// `import-areas` options.
#[derive(Args, Debug)]
pub struct AreaArgs {
    /// The authority the areas belong to.
    #[arg(long)]
    pub authority: String,
    /// ward, fee_zone or conservation_area.
    #[arg(long)]
    pub layer: String,
    /// Property holding each area's name.
    #[arg(long, default_value = "name")]
    pub name_field: String,
    /// A GeoJSON file of polygons.
    pub file: PathBuf,
}

/// Token actions.
#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Create a token and print it (alone) on stdout.
    Create {
        /// admin, staff or operator.
        #[arg(long)]
        role: String,
        /// Authority code (staff tokens).
        #[arg(long)]
        authority: Option<String>,
        /// Organisation slug (operator tokens).
        #[arg(long)]
        organisation: Option<String>,
        /// Who or what the token is for.
        #[arg(long)]
        name: String,
        /// When the token stops working (RFC 3339, e.g. 2027-03-31T23:59:59Z).
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its number (from `token list`); running servers
    /// refuse it within a second.
    Revoke {
        /// The token's number.
        id: i64,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = Store::connect(&cli.database_url)
        .await
        .with_context(|| format!("opening database {}", redact(&cli.database_url)))?;
    match cli.command {
        Command::Serve(args) => {
            let snapshot =
                snapshot_path(&cli.database_url, args.snapshot.clone(), args.no_snapshot);
            serve(store, args, snapshot).await
        }
        Command::Import(args) => import_file(store, args).await,
        Command::ImportAreas(args) => import_areas(store, args).await,
        Command::Token { action } => setup::token(&store, action).await,
        Command::Authority { action } => setup::authority(&store, action).await,
        Command::Organisation { action } => setup::organisation(&store, action).await,
        Command::FeeSchedule { action } => setup::fee_schedule(&store, action).await,
        Command::Snapshot {
            action: SnapshotAction::Write { snapshot },
        } => {
            let Some(path) = snapshot_path(&cli.database_url, snapshot, false) else {
                bail!("give --snapshot: a PostgreSQL database has no default snapshot file");
            };
            write_snapshot(store, &path).await
        }
    }
}

/// The start-up snapshot file: `explicit`, or beside a SQLite database
/// file; none when `none` is set, for PostgreSQL without `explicit`, and
/// for an in-memory SQLite database.
pub fn snapshot_path(database_url: &str, explicit: Option<PathBuf>, none: bool) -> Option<PathBuf> {
    if none {
        return None;
    }
    if explicit.is_some() {
        return explicit;
    }
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let file = file.split('?').next().unwrap_or_default();
    if file.is_empty() || file.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(format!("{file}.snapshot")))
}

async fn write_snapshot(store: Store, path: &Path) -> anyhow::Result<()> {
    let (register, _) = Register::load_with_snapshot(store, path).await?;
    let n = register.write_snapshot(path).await?;
    register.close().await;
    println!("wrote {n} assets to {}", path.display());
    Ok(())
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

/// How the binary returns freed memory to the system: its allocator's call,
/// set by `main.rs` (the library does not choose the allocator).
static RELEASE_MEMORY: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets what [`release_memory`] calls (the first setting holds).
pub fn on_release_memory(release: fn()) {
    let _ = RELEASE_MEMORY.set(release);
}

/// Returns freed memory to the system, if the binary said how.
fn release_memory() {
    if let Some(release) = RELEASE_MEMORY.get() {
        release();
    }
}

async fn serve(store: Store, args: ServeArgs, snapshot: Option<PathBuf>) -> anyhow::Result<()> {
    crate::index::FeatureCache::process().set_budget(args.feature_cache_mb.saturating_mul(1 << 20));
    let mut demo_tokens = None;
    if args.demo {
        demo_tokens = crate::demo::load_if_empty(&store).await?;
    }
    let register = Arc::new(match &snapshot {
        Some(path) => Register::load_with_snapshot(store, path).await?.0,
        None => Register::load(store).await?,
    });
    release_memory();
    let settings = Settings {
        public_read: args.public_read,
        admin_token_hash: std::env::var("STREETCELL_ADMIN_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .map(|t| hash_token(&t)),
        max_attachment_bytes: args.max_attachment_bytes,
        limits: args.limits.limits()?,
        site_search_limits: crate::domain::matching::Limits {
            max_area_km2: args.max_search_area_km2,
        },
    };
    let state = AppState::new(Arc::clone(&register), settings);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let stop = shutdown_signal();
    tracing::info!(%addr, assets = register.assets().snapshot().len(), "serving");
    println!("Streetcell listening on http://{addr}/");
    if let Some(tokens) = demo_tokens {
        println!("Demo tokens (keep them; they are not shown again):");
        for (role, token) in tokens {
            println!("  {role:<28} {token}");
        }
        println!(
            "Try: curl -H 'Authorization: Bearer <token>' 'http://{addr}/v1/assets/nearest?lon=-2.3522&lat=53.3881&k=5'"
        );
    }
    // Pick up writes made by other processes (CLI imports, other replicas).
    let poller = {
        let register = Arc::clone(&register);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for n in 0u64.. {
                tick.tick().await;
                if let Err(e) = register.catch_up().await {
                    tracing::warn!(error = %e, "catching up with the change log failed");
                }
                // Approvals not installed by their install-by day lapse; the
                // rule works in whole days, so once a minute is plenty.
                if n % 60 == 0 {
                    let today = time::OffsetDateTime::now_utc().date();
                    match register.lapse_overdue(today).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(lapsed = n, "approvals lapsed"),
                        Err(e) => tracing::warn!(error = %e, "lapsing approvals failed"),
                    }
                }
            }
        })
    };
    crate::http::serve::serve(listener, state, stop).await?;
    poller.abort();
    if let Some(path) = &snapshot {
        match register.write_snapshot(path).await {
            Ok(n) => {
                tracing::info!(snapshot = %path.display(), assets = n, "wrote the start-up snapshot")
            }
            Err(e) => {
                tracing::warn!(snapshot = %path.display(), error = %e, "writing the start-up snapshot failed")
            }
        }
    }
    register.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. SIGTERM is listened for from the call on
/// (not from the first poll), so a stop sent as soon as the server says it
/// is listening is a graceful one too.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
    }
}

fn is_csv(path: &Path) -> anyhow::Result<bool> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("csv") => Ok(true),
        Some("geojson") | Some("json") => Ok(false),
        _ => bail!(
            "{}: expected a .csv, .geojson or .json file",
            path.display()
        ),
    }
}

async fn import_file(store: Store, args: ImportArgs) -> anyhow::Result<()> {
    if store.authority(&args.authority).await?.is_none() {
        bail!(
            "authority {:?} does not exist (create it first)",
            args.authority
        );
    }
    let csv = is_csv(&args.file)?;
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let mapping = MappingParams {
        kind: args.kind,
        kind_field: args.kind_field,
        ref_field: args.ref_field,
        x_field: args.x_field,
        y_field: args.y_field,
        crs: args.crs,
        fields: args.fields,
        mode: args.mode,
    };
    let mode = mapping.mode().map_err(anyhow::Error::msg)?;
    let mapping = mapping.into_mapping().map_err(anyhow::Error::msg)?;
    // Rows are parsed as they are written (see `import_rows_with`), so the
    // bar's length is counted up front: a CSV file's lines after the header
    // (exact unless cells span lines or lines are blank), GeoJSON's features.
    let (rows, expected): (Box<dyn Iterator<Item = import::ParsedRow> + Send>, usize) = if csv {
        let rows = import::csv_rows(&bytes, &mapping)?;
        (Box::new(rows), csv_line_count(&bytes).saturating_sub(1))
    } else {
        let rows = import::geojson_rows(&bytes, &mapping)?;
        let n = rows.size_hint().0;
        (Box::new(rows), n)
    };
    let bar = ProgressBar::new(expected as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    if args.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    // Every refused row, for --rejections (the report keeps the first 100).
    let refused = std::sync::Mutex::new(Vec::new());
    let keep_refused = args.rejections.is_some();
    let rows = rows.inspect(|r| {
        if let (true, Err(reason)) = (keep_refused, &r.outcome) {
            refused
                .lock()
                .expect("refused rows")
                .push((r.line, reason.clone()));
        }
    });
    store.prepare_bulk_import().await?;
    let report = import_rows_with(
        ImportTarget::Store(&store),
        &args.authority,
        mode,
        rows,
        &|n| {
            if n as u64 > bar.length().unwrap_or(0) {
                bar.set_length(n as u64);
            }
            bar.set_position(n as u64)
        },
    )
    .await?;
    if let Some(path) = &args.rejections {
        write_rejections(path, &refused.into_inner().expect("refused rows"))?;
    }
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{}: {} inserted, {} updated, {} rejected",
            args.file.display(),
            report.inserted,
            report.updated,
            report.rejected_total
        );
        for (field, n) in &report.cleared_fields {
            println!("  {field} cleared on {n} assets (the file left it out; --mode replace)");
        }
        if report.removed + report.retired + report.absent_kept > 0 {
            println!(
                "  assets not in the file: {} removed, {} retired (held by applications; now unavailable), {} kept (rows were rejected)",
                report.removed, report.retired, report.absent_kept
            );
        }
        for r in report.rejected.iter().take(20) {
            println!("  line {}: {}", r.line, r.reason);
        }
        if report.rejected_total > 20 {
            println!(
                "  ... and {} more (--rejections FILE writes them all as CSV)",
                report.rejected_total - 20
            );
            for (reason, n) in &report.rejected_by_reason {
                println!("  {n:>8} × {reason}");
            }
        }
    }
    if !report.rejected.is_empty() {
        return Err(RowsRejected(report.rejected.len()).into());
    }
    Ok(())
}

/// Every refused row of a parsed file as CSV: `line,reason`.
fn write_rejections(path: &Path, rows: &[(u64, String)]) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("creating {}", path.display()))?;
    w.write_record(["line", "reason"])?;
    for (line, reason) in rows {
        w.write_record([line.to_string().as_str(), reason])?;
    }
    w.flush()?;
    Ok(())
}

/// Lines of a text: line breaks, plus one for a last line without one.
fn csv_line_count(bytes: &[u8]) -> usize {
    let breaks = bytes.iter().filter(|&&b| b == b'\n').count();
    breaks + usize::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

async fn import_areas(store: Store, args: AreaArgs) -> anyhow::Result<()> {
    let layer: AreaLayer = args.layer.parse().map_err(anyhow::Error::msg)?;
    if store.authority(&args.authority).await?.is_none() {
        bail!(
            "authority {:?} does not exist (create it first)",
            args.authority
        );
    }
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let parsed = import::parse_areas_geojson(&bytes, &args.name_field)?;
    let mut good = Vec::new();
    for a in parsed {
        match a.outcome {
            Ok(area) => good.push(area),
            Err(reason) => eprintln!("  feature {}: {reason}", a.line),
        }
    }
    store.replace_areas(&args.authority, layer, &good).await?;
    println!(
        "{}: {} {} areas loaded",
        args.file.display(),
        good.len(),
        layer
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_sits_beside_a_sqlite_file_and_nowhere_by_default_for_postgres() {
        let path = |url: &str| snapshot_path(url, None, false);
        assert_eq!(
            path("sqlite://streetcell.db"),
            Some("streetcell.db.snapshot".into())
        );
        assert_eq!(
            path("sqlite:///srv/sc.db?mode=rwc"),
            Some("/srv/sc.db.snapshot".into())
        );
        assert_eq!(
            path("sqlite:data/sc.db"),
            Some("data/sc.db.snapshot".into())
        );
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path("postgres://u@h/db"), None);
        let chosen = Some(PathBuf::from("/var/sc.snap"));
        assert_eq!(
            snapshot_path("postgres://u@h/db", chosen.clone(), false),
            chosen
        );
        assert_eq!(snapshot_path("sqlite://a.db", chosen, true), None);
    }
}
