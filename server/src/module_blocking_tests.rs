//! A module-style command that blocks its client and is answered from another thread (#9),
//! driven through the real connection loop over an in-memory stream: the reply arrives when
//! the worker thread completes the handle, or the module's timeout reply when it does not.

use std::sync::Arc;
use std::time::Duration;

use oxidis_core::client::Peer;
use oxidis_core::command::{Args, Arity, CommandResult, CommandSpec};
use oxidis_core::config::Config;
use oxidis_core::modules::block_client;
use oxidis_core::{CommandContext, CommandTable, Server};
use oxidis_protocol::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::shared::Shared;

/// `TEST.BGWORK ms`: a worker thread answers `+done after <ms>` after `ms` milliseconds
/// (`-1`: never); the client gives up after 300 ms with the module's null reply.
fn bgwork(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let delay = args.next_i64()?;
    let (handle, reply) = block_client(ctx, Some(Duration::from_millis(300)), Frame::Null)?;
    if let Ok(ms) = u64::try_from(delay) {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            let _ = handle.complete(Frame::Simple(format!("done after {ms}").into()));
        });
    }
    Ok(reply)
}

fn shared() -> Arc<Shared> {
    let mut table = CommandTable::with_builtins();
    table
        .register(CommandSpec::new("test.bgwork", Arity::Exact(2), bgwork))
        .expect("registers");
    Shared::new(Server::with_table(Config::default(), table))
}

async fn read_reply(stream: &mut tokio::io::DuplexStream) -> String {
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("a reply in time")
        .expect("reads");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn a_blocked_client_gets_the_worker_reply_or_the_timeout_reply() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let shared = shared();
        let (mut client, server_side) = tokio::io::duplex(4096);
        let task = tokio::spawn(crate::connection::serve(
            Arc::clone(&shared),
            server_side,
            Peer::Internal,
        ));
        client
            .write_all(b"TEST.BGWORK 50\r\n")
            .await
            .expect("writes");
        assert_eq!(read_reply(&mut client).await, "+done after 50\r\n");
        assert_eq!(shared.server.lock().blocked.len(), 0);
        // Never answered: the timeout reply, and a late completion is refused.
        client
            .write_all(b"TEST.BGWORK -1\r\n")
            .await
            .expect("writes");
        assert_eq!(read_reply(&mut client).await, "$-1\r\n");
        // Answered after the timeout: the client has moved on and sees only its own replies.
        client
            .write_all(b"TEST.BGWORK 500\r\nPING\r\n")
            .await
            .expect("writes");
        let mut got = String::new();
        while !got.ends_with("+PONG\r\n") {
            got.push_str(&read_reply(&mut client).await);
        }
        assert_eq!(got, "$-1\r\n+PONG\r\n");
        tokio::time::sleep(Duration::from_millis(400)).await;
        client.write_all(b"PING\r\n").await.expect("writes");
        assert_eq!(read_reply(&mut client).await, "+PONG\r\n");
        drop(client);
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
    });
}
