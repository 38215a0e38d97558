//! Strata: a disk-backed, persistent database on RocksDB that speaks the Redis protocol.
//!
//! Layers, each calling only the one below (see docs/architecture.md):
//! `server` (sockets, RESP, dispatch) → `commands` (parse, reply) → `storage` (RocksDB).
//! Side modules: `config`, `state` (shared server state), `reply` (the reply value and its RESP2/RESP3 encoding, shared by
//! `commands` and `server`), `telemetry` (statistics, slow log, latency, MONITOR, Prometheus), `clock`, `glob`, `numeric`, `splitargs`, `error`.
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod clock;
pub mod commands;
pub mod config;
pub mod error;
pub mod fuzzing;
pub mod geohash;
pub mod glob;
pub mod hll;
pub mod numeric;
pub mod rdb;
pub mod reply;
pub mod scripting;
pub mod server;
pub mod splitargs;
pub mod state;
pub mod storage;
pub mod telemetry;
