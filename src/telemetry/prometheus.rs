//! Prometheus text exposition of the telemetry and server state (`/metrics`).
