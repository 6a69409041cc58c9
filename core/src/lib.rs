//! The Oxidis core: databases, values, expiry, the command table and the built-in command
//! families. It knows nothing of sockets: the server crate feeds it parsed commands and writes
//! out the replies it returns.
//!
//! # Organization
//! - [`types`]: values and the compact byte strings keys and small values live in.
//! - [`db`]: one database: an index over a dense vector of entries, with expiry.
//! - [`command`]: command specs, the registration table, the argument cursor, key finding.
//! - [`context`]: what a handler sees; [`dispatch`]: the one way a command runs.
//! - [`families`]: the built-in commands, one file per Redis command group.
//! - [`server`], [`client`], [`config`], [`stats`]: the state commands run against.
//! - [`memory`], [`eviction`]: counting memory and evicting keys under `maxmemory`.
//! - [`propagation`]: the stream of write commands for the AOF and replicas; [`replication`]:
//!   serving it to replicas.
//! - [`events`]: keyspace events, raised by commands, expiry and eviction.
//! - [`modules`]: extension points for run-time modules: data types, event subscriptions,
//!   blocking from other threads, configuration parameters.
//! - [`pubsub`]: channel, pattern and shard-channel subscriptions; message delivery.
//! - [`tracking`]: client-side caching: who may cache which key, and invalidations.
//! - [`errors`]: every error text a client can read.
//! - [`testing`]: an in-memory runner for unit tests.

pub mod blocking;
pub mod client;
pub mod command;
pub mod config;
pub mod context;
pub mod db;
pub mod dispatch;
pub mod errors;
pub mod events;
pub mod eviction;
pub mod families;
pub mod glob;
pub mod latency;
pub mod lazyfree;
pub mod memory;
pub mod metrics;
pub mod modules;
pub mod monitor;
pub mod oom_score;
pub mod pause;
pub mod propagation;
pub mod pubsub;
pub mod replication;
pub mod server;
pub mod slowlog;
pub mod stats;
pub mod testing;
pub mod tracking;
pub mod transactions;
pub mod types;

/// The Redis version Oxidis is compatible with, as HELLO, INFO and the config-file error
/// banner print it.
pub const REDIS_VERSION: &str = "7.0.15";

pub use command::{CommandTable, RegistrationError};
pub use context::CommandContext;
pub use dispatch::{Outcome, dispatch, dispatch_resolved, execute};
pub use errors::CommandError;
pub use server::Server;
