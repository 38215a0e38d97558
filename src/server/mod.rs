//! The network layer: listeners, the per-connection loop, the RESP codec and reply encoder, and
//! the dispatch of each command to the command layer (DESIGN.md §2, §4).

pub mod codec;
pub mod connection;
pub mod http;
pub mod metrics;
pub mod tls;

use crate::clock::Clock;
use crate::config::Config;
use crate::state::Shared;
use crate::storage::{OpenError, Storage, StorageOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] OpenError),
    #[error("could not create server TCP listening socket {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("no address to listen on (bind)")]
    NoListener,
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("could not create the metrics endpoint's listening socket {addr}: {source}")]
    MetricsBind { addr: String, source: std::io::Error },
}

/// A server with its storage open and its sockets bound, ready to `run`.
pub struct Server {
    shared: Arc<Shared>,
    listeners: Vec<TcpListener>,
    /// `tls-port`'s listeners (empty when TLS is off), all with the same acceptor.
    tls_listeners: Vec<TcpListener>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    metrics_addr: Option<SocketAddr>,
}

/// What the storage layer needs from the configuration.
pub fn storage_options(cfg: &Config) -> StorageOptions {
    use crate::config::Compression as C;
    StorageOptions {
        dir: cfg.dir.clone(),
        databases: cfg.databases as usize,
        appendfsync: crate::commands::server::fsync_policy(cfg.appendfsync),
        hot_cache_size: cfg.hot_cache_size,
        block_cache_size: cfg.rocksdb_block_cache_size,
        memtable_budget: cfg.rocksdb_memtable_budget,
        write_buffer_size: cfg.rocksdb_write_buffer_size,
        max_write_buffer_number: cfg.rocksdb_max_write_buffer_number,
        max_background_jobs: cfg.rocksdb_max_background_jobs,
        blob_min_size: cfg.rocksdb_blob_min_size,
        compression: match cfg.rocksdb_compression {
            C::No => crate::storage::Compression::No,
            C::Lz4 => crate::storage::Compression::Lz4,
            C::Zstd => crate::storage::Compression::Zstd,
        },
        hz: cfg.hz,
        active_expire_effort: cfg.active_expire_effort,
    }
}

impl Server {
    /// Opens the data directory and binds every `bind` address on `port` (0 = any free port;
    /// all addresses then share the port the first one got). Addresses prefixed with `-` are
    /// optional, as in Redis.
    pub async fn bind(cfg: Config) -> Result<Server, StartError> {
        // The HTTP endpoint first: its probes answer while the data directory opens.
        let endpoint = Arc::new(http::Endpoint::default());
        let mut metrics_addr = None;
        if cfg.metrics_port > 0 {
            let addr = format!("{}:{}", cfg.metrics_bind, cfg.metrics_port);
            match http::bind(&cfg.metrics_bind, cfg.metrics_port).await {
                Ok(listener) => {
                    metrics_addr = listener.local_addr().ok();
                    tokio::spawn(http::serve(listener, endpoint.clone()));
                }
                // The default endpoint (nobody asked for it) must not keep the database from
                // starting, e.g. next to a redis_exporter on its port 9121; a configured one must.
                Err(source) if metrics_endpoint_is_default(&cfg) => {
                    tracing::warn!(%addr, error = %source, "can't serve /metrics on the default port; continuing without it");
                }
                Err(source) => return Err(StartError::MetricsBind { addr, source }),
            }
        }
        // Certificates before the data directory: a bad file fails the start at once.
        let tls = tls::acceptor(&cfg)?;
        let storage = Storage::open(&storage_options(&cfg), Arc::new(Clock::new()))?;
        crate::commands::server::apply_encoding_limits(&cfg, &storage);
        crate::commands::server::apply_eviction(&cfg, &storage);
        storage.saves.set_points(&cfg.save);
        // As in Redis, `port 0` with a TLS port serves TLS only (alone, 0 is any free port).
        let plain = cfg.port != 0 || tls.is_none();
        let bound = bind_all(&cfg, cfg.port, plain).and_then(|(listeners, port)| {
            let (tls_listeners, tls_port) = bind_all(&cfg, cfg.tls_port, tls.is_some())?;
            // INFO's tcp_port: the TLS port when there is no plain one, as in Redis.
            Ok((listeners, if plain { port } else { tls_port }, tls_listeners))
        });
        let (listeners, port, tls_listeners) = match bound {
            Ok(b) => b,
            Err(e) => {
                storage.close();
                return Err(e);
            }
        };
        if listeners.is_empty() && tls_listeners.is_empty() {
            storage.close();
            return Err(StartError::NoListener);
        }
        let telemetry = crate::telemetry::Telemetry::new(crate::commands::names(), &cfg);
        let shared = Arc::new(Shared::new(storage, cfg, telemetry));
        crate::state::notify::install(&shared);
        // Expiry and eviction cycles report their durations to the latency monitor.
        let weak = Arc::downgrade(&shared);
        shared.storage.set_latency_hook(Box::new(move |event, took| {
            if let Some(shared) = weak.upgrade() {
                shared.telemetry.latency_sample(event, took);
            }
        }));
        shared.tcp_port.store(port, std::sync::atomic::Ordering::Relaxed);
        crate::commands::scripting::load_stored_functions(&shared);
        endpoint.attach(shared.clone());
        Ok(Server { shared, listeners, tls_listeners, tls, metrics_addr })
    }

    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// Where `tls-port` listens (empty when TLS is off).
    pub fn tls_addrs(&self) -> Vec<SocketAddr> {
        self.tls_listeners.iter().filter_map(|l| l.local_addr().ok()).collect()
    }

    /// Where the HTTP endpoint listens (None when `metrics-port` is 0).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Serves until shutdown is requested (SHUTDOWN, or `Shared::request_shutdown` from a
    /// signal handler), then closes every connection and the storage cleanly.
    pub async fn run(self) {
        let shared = self.shared;
        let tracker = tokio_util_like::TaskCounter::default();
        for listener in self.listeners {
            tokio::spawn(accept_loop(listener, None, shared.clone(), tracker.clone()));
        }
        for listener in self.tls_listeners {
            tokio::spawn(accept_loop(listener, self.tls.clone(), shared.clone(), tracker.clone()));
        }
        tokio::spawn(sample_rates(shared.clone()));
        shared.accepting.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut rx = shared.shutdown.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
        tracing::warn!("Shutting down: closing clients");
        shared.clients.kill_all();
        tracker.wait_idle(Duration::from_secs(5)).await;
        let storage = shared.storage.clone();
        let _ = tokio::task::spawn_blocking(move || storage.close()).await;
        tracing::warn!("Strata is now ready to exit, bye bye...");
    }
}

/// Whether `metrics-port` and `metrics-bind` are both left at their defaults.
fn metrics_endpoint_is_default(cfg: &Config) -> bool {
    let default = Config::default();
    cfg.metrics_port == default.metrics_port && cfg.metrics_bind == default.metrics_bind
}

/// Samples the counters behind INFO's instantaneous rates every 100 ms, as Redis's cron does.
async fn sample_rates(shared: Arc<Shared>) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    // After a stall, no burst of samples a few µs apart (they would read as 0 or as spikes).
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop = shared.shutdown.subscribe();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let st = &shared.stats;
        shared.telemetry.rates.sample([
            st.total_commands_processed.load(Relaxed),
            st.total_net_input_bytes.load(Relaxed),
            st.total_net_output_bytes.load(Relaxed),
        ]);
    }
}

/// Binds every `bind` address on `port` (when `wanted`; else none). Addresses prefixed with
/// `-` are optional. Returns the listeners and the port they got (the first one's for port 0).
fn bind_all(cfg: &Config, mut port: u16, wanted: bool) -> Result<(Vec<TcpListener>, u16), StartError> {
    let mut listeners = Vec::new();
    if !wanted {
        return Ok((listeners, 0));
    }
    for addr in &cfg.bind {
        let (optional, host) = match addr.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, addr.as_str()),
        };
        let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        match listen(&target, cfg.tcp_backlog) {
            Ok(l) => {
                if port == 0 {
                    port = l.local_addr().map(|a| a.port()).unwrap_or(0);
                }
                listeners.push(l);
            }
            Err(e) if optional => tracing::warn!(addr = %target, error = %e, "skipping optional bind address"),
            Err(source) => return Err(StartError::Bind { addr: target, source }),
        }
    }
    Ok((listeners, port))
}

/// Binds with the configured backlog (`tcp-backlog`) and SO_REUSEADDR, as Redis does.
fn listen(target: &str, backlog: u32) -> std::io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let addr: SocketAddr = target.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{target} resolves to no address"))
    })?;
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog.max(1))
}

/// How long a TLS client may take to complete its handshake.
const TLS_HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    tracker: tokio_util_like::TaskCounter,
) {
    let mut stop = shared.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (stream, addr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let guard = tracker.enter();
        let shared = shared.clone();
        let Some(acceptor) = tls.clone() else {
            let id = shared.clients.next_id();
            tokio::spawn(async move {
                connection::serve(shared, tls::Stream::Plain(stream), addr, id).await;
                drop(guard);
            });
            continue;
        };
        tokio::spawn(async move {
            // The handshake runs in the client's own task, so a slow or failing one delays
            // nobody; it is bounded in time and gives way to shutdown.
            let _ = stream.set_nodelay(true);
            let mut stop = shared.shutdown.subscribe();
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_LIMIT, acceptor.accept(stream));
            let stream = tokio::select! {
                r = handshake => match r {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%addr, error = %e, "Error accepting a client connection (TLS handshake)");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%addr, "Error accepting a client connection: TLS handshake timed out");
                        return;
                    }
                },
                _ = stop.wait_for(|s| *s) => return,
            };
            let id = shared.clients.next_id();
            connection::serve(shared, tls::Stream::Tls(Box::new(stream)), addr, id).await;
            drop(guard);
        });
    }
}

/// Counting live connection tasks so shutdown can wait for them.
mod tokio_util_like {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[derive(Clone, Default)]
    pub struct TaskCounter(Arc<(AtomicUsize, tokio::sync::Notify)>);

    pub struct Guard(TaskCounter);

    impl TaskCounter {
        pub fn enter(&self) -> Guard {
            self.0 .0.fetch_add(1, Ordering::SeqCst);
            Guard(self.clone())
        }

        pub async fn wait_idle(&self, limit: Duration) {
            let deadline = tokio::time::Instant::now() + limit;
            while self.0 .0.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
                // A short slice, so a wake-up between the check and the wait is never lost.
                let _ = tokio::time::timeout(Duration::from_millis(20), self.0 .1.notified()).await;
            }
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            self.0 .0 .0.fetch_sub(1, Ordering::SeqCst);
            self.0 .0 .1.notify_waiters();
        }
    }
}
