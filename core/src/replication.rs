//! The master side of replication: replicas attached with SYNC or PSYNC receive a snapshot of
//! the dataset, then the propagation stream ([`crate::propagation`]) as it grows.
//!
//! A replica is a client with [`Client::replica`] set. After every batch of commands the server
//! crate calls [`drain`], which takes the new part of the stream, sends it to each replica
//! through its connection and returns it for the append-only file.
//!
//! [`Client::replica`]: crate::client::Client::replica

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::server::Server;

/// Takes what the propagation stream gained since the last call, sends it to every replica and
/// returns it (for the AOF). Empty when nothing was propagated.
pub fn drain(server: &mut Server) -> Bytes {
    let stream = server.propagation.take_stream();
    if stream.is_empty() {
        return stream;
    }
    for client in server.clients.iter().filter(|c| c.replica) {
        if let Some(handle) = &client.handle {
            handle.push(Frame::Raw(stream.clone()));
        }
    }
    stream
}

/// Number of attached replicas.
pub fn replica_count(server: &Server) -> usize {
    server.clients.iter().filter(|c| c.replica).count()
}

/// Collects propagated commands exactly while someone consumes them: an append-only file or
/// at least one replica.
pub fn update_propagation(server: &mut Server) {
    let wanted = server.config.appendonly || replica_count(server) > 0;
    server.propagation.set_enabled(wanted);
}
