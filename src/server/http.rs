//! The HTTP endpoint on `metrics-port`: `/metrics` (Prometheus text), `/healthz` (200 while
//! the process serves HTTP at all: the liveness probe) and `/readyz` (200 once the data
//! directory is open and commands are accepted, 503 before that and from the moment shutdown
//! starts: the readiness probe). It is bound before the data directory is opened, so probes
//! see "alive, not ready" during a long open rather than a refused connection.

use super::metrics::Exporter;
use crate::state::Shared;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;

/// What the endpoint serves from: the shared state once the server has it.
#[derive(Default)]
pub struct Endpoint {
    shared: OnceLock<Arc<Shared>>,
    exporter: Exporter,
}

impl Endpoint {
    /// The server is up: `/metrics` and `/readyz` answer from `shared` from now on.
    pub fn attach(&self, shared: Arc<Shared>) {
        let _ = self.shared.set(shared);
    }
}

/// Binds the endpoint's listener (a start-up error if the port is taken, as for `port`).
pub async fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    TcpListener::bind(target).await
}

/// Serves HTTP/1.1 on `listener` until the runtime stops.
pub async fn serve(listener: TcpListener, endpoint: Arc<Endpoint>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let endpoint = endpoint.clone();
                async move { Ok::<_, Infallible>(respond(&endpoint, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics endpoint: connection error");
            }
        });
    }
}

async fn respond(endpoint: &Arc<Endpoint>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" => match endpoint.shared.get() {
            Some(s) if s.is_ready() => text(StatusCode::OK, "ready\n"),
            Some(s) if *s.shutdown.borrow() => text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
            _ => text(StatusCode::SERVICE_UNAVAILABLE, "starting\n"),
        },
        "/metrics" => {
            if endpoint.shared.get().is_none() {
                return text(StatusCode::SERVICE_UNAVAILABLE, "starting\n");
            }
            // Reading RocksDB's properties and the data directory's sizes: off the network threads.
            let e = endpoint.clone();
            let page = tokio::task::spawn_blocking(move || e.shared.get().map(|s| e.exporter.render(s))).await;
            match page {
                Ok(Some(body)) => Response::builder()
                    .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
                    .body(Full::new(Bytes::from(body)))
                    .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
                _ => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "not found: try /metrics, /healthz or /readyz\n"),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}
