//! `strata-server [CONFIG_FILE] [--directive value ...]`: parse the configuration, set up
//! logging, open the data directory, serve until SHUTDOWN or SIGTERM/SIGINT.

use clap::Parser;
use strata::config::{Config, LogFormat, LogLevel};
use strata::server::Server;
use strata::state::LevelSetter;
use tracing_subscriber::filter::LevelFilter;

/// jemalloc for everything, RocksDB's C++ included (the `unprefixed_malloc` feature replaces
/// `malloc` itself): under glibc's malloc each thread that meets a busy arena gets one of its
/// own (up to 8 per core), and blocks and hot-cache values freed on other threads than the
/// ones that made them leave every arena fragmented. Measured (docs/benchmarks.md, tiered):
/// RSS 253 MiB with glibc against 179 MiB with jemalloc for 192 MiB of budgets, and faster.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A disk-backed, persistent database that speaks the Redis protocol.
#[derive(Parser, Debug)]
#[command(name = "strata-server", version, about, long_about = None)]
#[command(
    override_usage = "strata-server [CONFIG_FILE] [--directive value ...]\n       strata-server conf/strata.conf --port 7000 --dir /tmp/s1"
)]
struct Cli {
    /// An optional config file followed by `--directive value` overrides, as redis-server takes them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_args(&cli.args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("*** FATAL CONFIG FILE ERROR ***\n{e}");
            return std::process::ExitCode::from(1);
        }
    };
    // A bad `user` directive or ACL file stops start-up, as in Redis.
    if let Err(e) = strata::state::acl::Acl::from_config(&config) {
        eprintln!("*** FATAL CONFIG FILE ERROR ***\n{e}");
        return std::process::ExitCode::from(1);
    }
    let set_level = match init_logging(&config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("can't open the log file {}: {e}", config.logfile);
            return std::process::ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.io_threads.max(1) as usize)
        .enable_all()
        .thread_name("strata-net")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("can't start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(config, set_level));
    // Idle blocking-pool threads would otherwise keep the process up for their keep-alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}

async fn run(config: Config, set_level: LevelSetter) -> std::process::ExitCode {
    let pidfile = config.pidfile.clone();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), dir = %config.dir.display(), "Strata is starting");
    tracing::info!(
        config_file = %config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        changed = %config.changed_from_default().join(" "),
        "Configuration loaded"
    );
    // Signals are taken from the start: a SIGTERM while the data directory opens (which can
    // take long) shuts the server down as soon as it is open (as PID 1 in a container, a
    // signal without a handler would be ignored).
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            tracing::warn!("can't install the SIGTERM/SIGINT handlers");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::warn!("Received SIGTERM scheduling shutdown..."),
            _ = int.recv() => tracing::warn!("Received SIGINT scheduling shutdown..."),
        }
        let _ = stop_tx.send(true);
        // Keep the handlers (and the sender) alive: later signals are absorbed, not fatal.
        std::future::pending::<()>().await
    });
    let server = match Server::bind(config).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("{e}");
            return std::process::ExitCode::from(1);
        }
    };
    if !pidfile.is_empty() {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!(pidfile, error = %e, "can't write the pidfile");
        }
    }
    let shared = server.shared();
    *shared.log_level_setter.lock() = Some(set_level);
    for addr in server.local_addrs() {
        tracing::info!(%addr, "Ready to accept connections tcp");
    }
    for addr in server.tls_addrs() {
        tracing::info!(%addr, "Ready to accept connections tls");
    }
    if let Some(addr) = server.metrics_addr() {
        tracing::info!(%addr, "Serving /metrics, /healthz and /readyz over HTTP");
    }
    tokio::spawn(async move {
        if stop_rx.wait_for(|stop| *stop).await.is_ok() {
            shared.request_shutdown();
        }
    });
    server.run().await;
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    std::process::ExitCode::SUCCESS
}

fn level_filter(l: LogLevel) -> LevelFilter {
    match l {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Verbose | LogLevel::Notice => LevelFilter::INFO,
        LogLevel::Warning => LevelFilter::WARN,
        LogLevel::Nothing => LevelFilter::OFF,
    }
}

fn init_logging(config: &Config) -> std::io::Result<LevelSetter> {
    use tracing_subscriber::fmt::writer::BoxMakeWriter;
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{fmt, reload, Registry};
    let writer = if config.logfile.is_empty() {
        BoxMakeWriter::new(std::io::stdout)
    } else {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&config.logfile)?;
        BoxMakeWriter::new(std::sync::Mutex::new(file))
    };
    let layer: Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync> = match config.log_format {
        LogFormat::Json => fmt::layer().json().with_writer(writer).boxed(),
        LogFormat::Text => fmt::layer().with_ansi(false).with_writer(writer).boxed(),
    };
    let (filter, handle) = reload::Layer::new(level_filter(config.loglevel));
    tracing_subscriber::registry().with(layer).with(filter).init();
    Ok(Box::new(move |l| {
        let _ = handle.modify(|f| *f = level_filter(l));
    }))
}
