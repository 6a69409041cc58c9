//! The replica side of replication: one task that keeps this server attached to the master
//! `REPLICAOF` named (see [`oxidis_core::replication`] for the state it keeps).
//!
//! The task polls the order every 100 ms. For an order it connects, runs the handshake (PING,
//! AUTH with `masterauth`, `REPLCONF listening-port` and `capa eof psync2`, then `PSYNC replid
//! offset`), and either loads the snapshot of a `+FULLRESYNC` (size-prefixed or delimited by
//! an EOF mark, written to `dbfilename` first as Redis does) or continues from its offset on
//! `+CONTINUE`. Then it applies the master's stream through the normal execute path as the
//! master client, whose replies are dropped; `REPLCONF GETACK` is answered with `REPLCONF ACK
//! offset`, which is also sent every second. A broken link is retried every second; a new
//! REPLICAOF (a new generation) ends the old link at once.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use oxidis_core::client::{Client, Peer};
use oxidis_core::replication::{self as repl, LinkState};
use oxidis_protocol::{RequestLimits, RequestParser};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::{info, warn};

use crate::shared::{ConnectionSignals, Shared};

/// Runs for the life of the process.
pub async fn run(shared: Arc<Shared>) {
    loop {
        let target = repl::target(&mut *shared.lock_async().await);
        let Some((host, port, generation)) = target else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        info!("Connecting to MASTER {host}:{port}");
        if let Err(err) = link(&shared, &host, port, generation).await {
            warn!("Replication link with MASTER {host}:{port}: {err}");
        }
        repl::set_link(
            &mut *shared.lock_async().await,
            generation,
            LinkState::Connect,
        );
        // Retry once a second, sooner when a new REPLICAOF arrives.
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !repl::is_current(&mut *shared.lock_async().await, generation) {
                break;
            }
        }
    }
}

/// Settings read once per link.
struct Settings {
    timeout: Duration,
    masteruser: Option<String>,
    masterauth: Option<String>,
    listening_port: u16,
    /// `bind-source-addr`: the local address the link to the master leaves from.
    source: Option<std::net::IpAddr>,
}

fn settings(server: &oxidis_core::Server) -> Settings {
    let text = |name: &str| {
        server
            .config
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    };
    let timeout = text("repl-timeout")
        .and_then(|t| t.parse().ok())
        .unwrap_or(60);
    let announced = text("replica-announce-port")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    Settings {
        timeout: Duration::from_secs(timeout),
        masteruser: text("masteruser"),
        masterauth: text("masterauth"),
        listening_port: if announced == 0 {
            server.config.port
        } else {
            announced
        },
        source: text("bind-source-addr").and_then(|a| a.parse().ok()),
    }
}

/// Connects to the master, from `source` when `bind-source-addr` names one.
async fn connect(
    host: &str,
    port: u16,
    source: Option<std::net::IpAddr>,
) -> std::io::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect((host, port)).await;
    };
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        let socket = if addr.is_ipv6() {
            tokio::net::TcpSocket::new_v6()?
        } else {
            tokio::net::TcpSocket::new_v4()?
        };
        if addr.is_ipv6() != source.is_ipv6() {
            continue;
        }
        socket.bind(std::net::SocketAddr::new(source, 0))?;
        match socket.connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| std::io::ErrorKind::AddrNotAvailable.into()))
}

/// One link: connect, handshake, sync, stream until it breaks or a new order replaces it.
async fn link(shared: &Arc<Shared>, host: &str, port: u16, generation: u64) -> Result<(), String> {
    let settings = {
        let mut server = shared.lock_async().await;
        repl::set_link(&mut server, generation, LinkState::Connecting);
        settings(&server)
    };
    let stream = tokio::time::timeout(settings.timeout, connect(host, port, settings.source))
        .await
        .map_err(|_| "Timeout connecting to the MASTER...".to_string())?
        .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
    let _ = stream.set_nodelay(true);
    info!("MASTER <-> REPLICA sync started");
    let peer = match (stream.peer_addr(), stream.local_addr()) {
        (Ok(peer), Ok(local)) => Peer::Tcp { peer, local },
        _ => Peer::Internal,
    };
    repl::set_link(
        &mut *shared.lock_async().await,
        generation,
        LinkState::Handshake,
    );
    let (mut reader, mut writer) = stream.into_split();
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut io = Io {
        reader: &mut reader,
        input: &mut input,
        timeout: settings.timeout,
        timeout_message: "Timeout connecting to the MASTER...",
    };
    send(&mut writer, &[b"PING"]).await?;
    let pong = io.line().await?;
    // An error about authentication is fine here: AUTH comes next.
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    if let Some(pass) = &settings.masterauth {
        match &settings.masteruser {
            Some(user) => send(&mut writer, &[b"AUTH", user.as_bytes(), pass.as_bytes()]).await?,
            None => send(&mut writer, &[b"AUTH", pass.as_bytes()]).await?,
        }
        let reply = io.line().await?;
        if reply.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {reply}"));
        }
    }
    let port_text = settings.listening_port.to_string();
    send(
        &mut writer,
        &[b"REPLCONF", b"listening-port", port_text.as_bytes()],
    )
    .await?;
    let _ = io.line().await?;
    send(
        &mut writer,
        &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"],
    )
    .await?;
    let _ = io.line().await?;
    let (replid, offset) = repl::psync_request(&mut *shared.lock_async().await);
    let offset_text = offset.to_string();
    send(
        &mut writer,
        &[b"PSYNC", replid.as_bytes(), offset_text.as_bytes()],
    )
    .await?;
    let reply = io.line().await?;
    let (signals, _mailbox) = ConnectionSignals::new();
    let signals = Arc::new(signals);
    let master_id;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC") {
        let mut parts = rest.split_whitespace();
        let new_id = parts.next().unwrap_or_default().to_string();
        let new_offset: u64 = parts.next().and_then(|o| o.parse().ok()).unwrap_or(0);
        info!("Full resync from master: {new_id}:{new_offset}");
        repl::set_link(
            &mut *shared.lock_async().await,
            generation,
            LinkState::Transfer,
        );
        io.timeout_message = "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.";
        let payload = io.snapshot().await?;
        info!(
            "MASTER <-> REPLICA sync: receiving {} bytes from master to disk",
            payload.len()
        );
        let mut server = shared.lock_async().await;
        if !repl::is_current(&mut server, generation) {
            return Ok(());
        }
        load_snapshot(&mut server, &payload)?;
        master_id = register_master(&mut server, peer, &signals);
        repl::full_sync_done(&mut server, new_id, new_offset, master_id);
        info!("MASTER <-> REPLICA sync: Finished with success");
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.split_whitespace().next().map(str::to_string);
        info!("Successful partial resynchronization with master.");
        let mut server = shared.lock_async().await;
        if !repl::is_current(&mut server, generation) {
            return Ok(());
        }
        master_id = register_master(&mut server, peer, &signals);
        repl::partial_sync_done(&mut server, new_id, master_id);
        info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    }
    let result = tokio::select! {
        result = stream_commands(shared, &mut io, &mut writer, generation, master_id) => result,
        () = signals.closed() => Ok(()),
    };
    repl::link_lost(&mut *shared.lock_async().await, generation, Some(master_id));
    if result.is_err() {
        info!("Connection with master lost.");
    }
    result
}

/// Adds the client the master's commands run as.
fn register_master(
    server: &mut oxidis_core::Server,
    peer: Peer,
    signals: &Arc<ConnectionSignals>,
) -> u64 {
    let now = server.now_ms();
    let handle = signals.clone();
    server.connect_client(|id| {
        let mut client = Client::new(id, peer, true, now);
        client.handle = Some(handle);
        client
    })
}

/// Replaces the dataset with the master's snapshot: written to `dbfilename` (through a
/// temporary file), then loaded by the persistence crate.
fn load_snapshot(server: &mut oxidis_core::Server, payload: &[u8]) -> Result<(), String> {
    let Some(hooks) = server.persistence else {
        return Err("this build has no persistence to load the master's snapshot".into());
    };
    let target = server.config.dbfilename.clone();
    let temp = format!("temp-{}.{}.rdb", server.now_ms() / 1000, std::process::id());
    std::fs::write(&temp, payload)
        .and_then(|()| std::fs::rename(&temp, &target))
        .map_err(|e| format!("Failed trying to write the DB received from the master: {e}"))?;
    info!("MASTER <-> REPLICA sync: Flushing old data");
    repl::clear_dataset(server);
    info!("MASTER <-> REPLICA sync: Loading DB in memory");
    (hooks.load)(server, false)
        .map_err(|e| format!("Failed trying to load the MASTER synchronization DB from disk: {e}"))
}

/// Applies the master's stream until the link breaks or the order changes.
async fn stream_commands<W: AsyncWriteExt + Unpin>(
    shared: &Arc<Shared>,
    io: &mut Io<'_, impl AsyncRead + Unpin>,
    writer: &mut W,
    generation: u64,
    master_id: u64,
) -> Result<(), String> {
    let mut parser = RequestParser::new();
    let limits = RequestLimits {
        proto_max_bulk_len: u64::MAX,
        authenticated: true,
    };
    let mut ack = tokio::time::interval(Duration::from_secs(1));
    let mut commands: Vec<(Vec<Bytes>, usize)> = Vec::new();
    let mut carry = BytesMut::new();
    // What came with the PSYNC reply (the backlog of a `+CONTINUE`) is applied first.
    let mut first = !io.input.is_empty();
    loop {
        if std::mem::take(&mut first) {
            // Already buffered: nothing to read.
        } else {
            tokio::select! {
            read = tokio::time::timeout(io.timeout, io.reader.read_buf(io.input)) => {
                match read {
                    Err(_) => return Err("MASTER timeout: no data nor PING received...".into()),
                    Ok(Err(e)) => return Err(e.to_string()),
                    Ok(Ok(0)) => return Err("connection closed by master".into()),
                    Ok(Ok(_)) => {}
                }
            }
            _ = ack.tick() => {
                let offset = repl::processed_offset(&mut *shared.lock_async().await);
                send_ack(writer, offset).await?;
                continue;
            }
            }
        }
        let raw = Bytes::copy_from_slice(io.input);
        let before = io.input.len();
        loop {
            let len = io.input.len();
            let mut argv = Vec::new();
            match parser.parse(io.input, &limits, &mut argv) {
                Ok(true) => commands.push((argv, len - io.input.len())),
                Ok(false) => break,
                Err(err) => return Err(format!("protocol error from master: {err}")),
            }
        }
        let consumed = before - io.input.len();
        if consumed == 0 {
            continue;
        }
        let mut acks = Vec::new();
        // The bytes executed but not applied yet: an open transaction of the master counts
        // only once its EXEC ran (a broken link discards it, and the master resends it all).
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(&raw[..consumed]);
        {
            let mut server = shared.lock_async().await;
            if !repl::is_current(&mut server, generation) {
                return Ok(());
            }
            let base = repl::processed_offset(&mut server);
            let mut position = chunk.len() - consumed;
            let mut applied = 0;
            server.begin_batch();
            for (argv, size) in commands.drain(..) {
                if is_getack(&argv) {
                    acks.push(base + applied as u64);
                } else if !argv.is_empty() {
                    // The master's commands see keys as they are: nothing expires under them
                    // (the master sends the DELs), as while loading.
                    server.loading = true;
                    let outcome = oxidis_core::execute(&mut server, master_id, &argv);
                    server.loading = false;
                    if let oxidis_core::Outcome::Reply(oxidis_protocol::Frame::Error(text)) =
                        outcome
                    {
                        report_error(&server, master_id, &text);
                    }
                }
                position += size;
                let in_multi = server
                    .clients
                    .get(master_id)
                    .is_some_and(|c| c.transaction.is_some());
                if !in_multi {
                    applied = position;
                }
            }
            server.end_batch();
            let applied_bytes = chunk.split_to(applied).freeze();
            carry = chunk;
            repl::applied_from_master(&mut server, &applied_bytes);
            // What the master's commands changed goes to our AOF.
            drop(crate::extensions::after_batch(&mut server));
        }
        for offset in acks {
            send_ack(writer, offset).await?;
        }
    }
}

/// An error a command of the master's stream met: never sent back, but logged as Redis does
/// (the datasets may have diverged).
fn report_error(server: &oxidis_core::Server, master_id: u64, text: &[u8]) {
    let command = server
        .clients
        .get(master_id)
        .map(|c| c.last_command)
        .filter(|name| !name.is_empty())
        .unwrap_or("<unknown>");
    let text = String::from_utf8_lossy(&text[..text.len().min(4096)]);
    warn!(
        "== CRITICAL == This replica is sending an error to its master: '{text}' after processing the command '{command}'"
    );
}

/// Whether `argv` is `REPLCONF GETACK ...`.
fn is_getack(argv: &[Bytes]) -> bool {
    argv.len() >= 2
        && argv[0].eq_ignore_ascii_case(b"replconf")
        && argv[1].eq_ignore_ascii_case(b"getack")
}

async fn send_ack<W: AsyncWriteExt + Unpin>(writer: &mut W, offset: u64) -> Result<(), String> {
    let offset = offset.to_string();
    send(writer, &[b"REPLCONF", b"ACK", offset.as_bytes()]).await
}

/// Writes one command.
async fn send<W: AsyncWriteExt + Unpin>(writer: &mut W, argv: &[&[u8]]) -> Result<(), String> {
    let mut out = BytesMut::new();
    oxidis_core::propagation::encode_command(&mut out, argv);
    writer
        .write_all(&out)
        .await
        .map_err(|e| format!("error writing to MASTER: {e}"))
}

/// The reading half and its buffer.
struct Io<'a, R> {
    reader: &'a mut R,
    input: &'a mut BytesMut,
    timeout: Duration,
    /// What a timeout is logged as (Redis words it by the link's state).
    timeout_message: &'static str,
}

impl<R: AsyncRead + Unpin> Io<'_, R> {
    async fn fill(&mut self) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, self.reader.read_buf(self.input)).await {
            Err(_) => Err(self.timeout_message.into()),
            Ok(Err(e)) => Err(format!("Error reading from MASTER: {e}")),
            Ok(Ok(0)) => Err("MASTER closed the connection".into()),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// One reply line without its CRLF; empty lines (the master's keep-alive newlines while it
    /// prepares a snapshot) are skipped.
    async fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(end) = self.input.iter().position(|&b| b == b'\n') {
                let line = self.input.split_to(end + 1);
                let text = String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                if text.is_empty() {
                    continue;
                }
                return Ok(text);
            }
            self.fill().await?;
        }
    }

    /// The snapshot after `+FULLRESYNC`: `$<len>\r\n` and that many bytes, or `$EOF:<mark>\r\n`
    /// and bytes up to the 40-byte mark.
    async fn snapshot(&mut self) -> Result<Vec<u8>, String> {
        let header = self.line().await?;
        let Some(spec) = header.strip_prefix('$') else {
            return Err(format!(
                "Bad protocol from MASTER, the first byte is not '$': {header}"
            ));
        };
        if let Some(mark) = spec.strip_prefix("EOF:") {
            let mark = mark.as_bytes().to_vec();
            loop {
                if self.input.len() >= mark.len() && self.input.ends_with(&mark) {
                    let len = self.input.len() - mark.len();
                    let payload = self.input.split_to(len).to_vec();
                    self.input.advance(mark.len());
                    return Ok(payload);
                }
                self.fill().await?;
            }
        }
        let len: usize = spec
            .parse()
            .map_err(|_| format!("Bad snapshot size from MASTER: {spec}"))?;
        while self.input.len() < len {
            self.input.reserve(len - self.input.len());
            self.fill().await?;
        }
        Ok(self.input.split_to(len).to_vec())
    }
}
