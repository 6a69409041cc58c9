//! INFO replication's fields and ROLE's reply, for both roles.

use oxidis_protocol::Frame;

use super::{
    LinkState, Replication, backlog_size, config_number, config_yes, good_replicas,
    online_replicas, replica_count, state_ref,
};
use crate::server::Server;

/// INFO replication's fields, in Redis's order.
pub fn info_fields(server: &Server) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut field = |name: &str, value: String| out.push((name.to_string(), value));
    let default = Replication::new();
    let state = state_ref(server).unwrap_or(&default);
    let now_s = server.now_ms() / 1000;
    if let Some((host, port)) = &server.config.replicaof {
        field("role", "slave".into());
        field("master_host", host.clone());
        field("master_port", port.to_string());
        let up = state.link == LinkState::Connected;
        field("master_link_status", if up { "up" } else { "down" }.into());
        let last_io = if state.master_client.is_some() {
            now_s.saturating_sub(state.last_io_ms / 1000).to_string()
        } else {
            "-1".into()
        };
        field("master_last_io_seconds_ago", last_io);
        let syncing = state.link == LinkState::Transfer;
        field("master_sync_in_progress", u8::from(syncing).to_string());
        field("slave_read_repl_offset", state.read_offset.to_string());
        field("slave_repl_offset", state.offset.to_string());
        if syncing {
            let total = state.transfer_size;
            let read = i64::try_from(state.transfer_read).unwrap_or(i64::MAX);
            let perc = if total > 0 {
                read as f64 / total as f64 * 100.0
            } else {
                0.0
            };
            field("master_sync_total_bytes", total.to_string());
            field("master_sync_read_bytes", read.to_string());
            field("master_sync_left_bytes", (total - read).to_string());
            field("master_sync_perc", format!("{perc:.2}"));
            field(
                "master_sync_last_io_seconds_ago",
                now_s.saturating_sub(state.last_io_ms / 1000).to_string(),
            );
        }
        if !up {
            let down = if state.down_since_ms == 0 {
                "-1".to_string()
            } else {
                now_s.saturating_sub(state.down_since_ms / 1000).to_string()
            };
            field("master_link_down_since_seconds", down);
        }
        let number = |name: &str| config_number(server, name).unwrap_or(0).to_string();
        field("slave_priority", number("replica-priority"));
        let flag = |name: &str| u8::from(config_yes(server, name)).to_string();
        field("slave_read_only", flag("replica-read-only"));
        field("replica_announced", flag("replica-announced"));
    } else {
        field("role", "master".into());
    }
    let replicas = online_replicas(server);
    field("connected_slaves", replica_count(server).to_string());
    let min_write = server.config.min_replicas_to_write;
    let max_lag = server.config.min_replicas_max_lag;
    if min_write > 0 && max_lag > 0 {
        field(
            "min_slaves_good_slaves",
            good_replicas(server, max_lag).to_string(),
        );
    }
    for (i, (ip, port, offset, lag)) in replicas.iter().enumerate() {
        field(
            &format!("slave{i}"),
            format!("ip={ip},port={port},state=online,offset={offset},lag={lag}"),
        );
    }
    field("master_failover_state", "no-failover".into());
    field("master_replid", server.replication_id.clone());
    field(
        "master_replid2",
        state.replid2.clone().unwrap_or_else(|| "0".repeat(40)),
    );
    field("master_repl_offset", state.offset.to_string());
    field("second_repl_offset", state.second_offset.to_string());
    field(
        "repl_backlog_active",
        u8::from(state.has_backlog()).to_string(),
    );
    field("repl_backlog_size", backlog_size(server).to_string());
    field(
        "repl_backlog_first_byte_offset",
        state.backlog_first_offset().to_string(),
    );
    field("repl_backlog_histlen", state.backlog_len().to_string());
    out
}

/// ROLE's reply.
pub fn role(server: &Server) -> Frame {
    let default = Replication::new();
    let state = state_ref(server).unwrap_or(&default);
    let offset = |n: u64| Frame::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    match &server.config.replicaof {
        None => {
            let replicas = online_replicas(server)
                .into_iter()
                .map(|(ip, port, ack, _)| {
                    Frame::Array(vec![
                        Frame::bulk(ip.as_bytes()),
                        Frame::bulk(port.to_string().as_bytes()),
                        Frame::bulk(ack.to_string().as_bytes()),
                    ])
                })
                .collect();
            Frame::Array(vec![
                Frame::bulk(b"master"),
                offset(state.offset),
                Frame::Array(replicas),
            ])
        }
        Some((host, port)) => {
            let link = match state.link {
                LinkState::Connect => "connect",
                LinkState::Connecting => "connecting",
                LinkState::Handshake => "handshake",
                LinkState::Transfer => "sync",
                LinkState::Connected => "connected",
            };
            let processed = if state.master_client.is_some() {
                offset(state.offset)
            } else {
                Frame::Integer(-1)
            };
            Frame::Array(vec![
                Frame::bulk(b"slave"),
                Frame::bulk(host.as_bytes()),
                Frame::Integer(i64::from(*port)),
                Frame::bulk(link.as_bytes()),
                processed,
            ])
        }
    }
}
