//! Error texts of replication: REPLICAOF, PSYNC and the gates a replica applies.

/// A write on a replica with `replica-read-only yes`.
pub const READONLY: &str = "READONLY You can't write against a read only replica.";

/// A command without the `stale` flag while the link is down and
/// `replica-serve-stale-data no`.
pub const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/// A write while fewer replicas than `min-replicas-to-write` are good.
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";

/// REPLICAOF host port from a client that is itself a replica.
pub const REPLICA_CANNOT_REPLICAOF: &str = "ERR Command is not valid when client is a replica.";

/// REPLICAOF with a port outside 0..=65535 or not a number.
pub const INVALID_MASTER_PORT: &str = "ERR Invalid master port";

/// SYNC or PSYNC to a replica whose own link is down.
pub const NO_MASTER_LINK: &str = "NOMASTERLINK Can't SYNC while not connected with my master";

/// WAIT on a replica.
pub const WAIT_ON_REPLICA: &str = "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.";
