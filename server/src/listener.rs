//! Listening sockets: TCP on every `bind` address and, optionally, a unix socket. Each accepted
//! connection gets its own task; `maxclients` is enforced here, as Redis does, with an error
//! line and a close.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use oxidis_core::client::Peer;
use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

use crate::connection;
use crate::shared::Shared;
use crate::workers::Workers;

const MAX_CLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";

/// Why the server could not listen.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// No `bind` address could be used.
    #[error("Failed listening on port {port} (tcp), aborting.")]
    Tcp {
        /// The port.
        port: u16,
    },
    /// The unix socket could not be created.
    #[error("Failed opening Unix socket: {0}")]
    Unix(std::io::Error),
}

/// Binds every address of `bind` on `port`. An address with a leading `-` is optional, as in
/// Redis (the default `* -::*` works on machines without IPv6).
///
/// # Errors
/// [`ListenError::Tcp`] when a required address cannot be bound.
pub fn bind_tcp(bind: &[String], port: u16, backlog: u32) -> Result<Vec<TcpListener>, ListenError> {
    let mut listeners = Vec::new();
    for spec in bind {
        let (optional, host) = match spec.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, spec.as_str()),
        };
        let ip: IpAddr = match host {
            "*" => IpAddr::from([0u8; 4]),
            "::*" => IpAddr::from([0u16; 8]),
            other => match other.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    warn!(
                        "Could not create server TCP listening socket {host}:{port}: invalid address"
                    );
                    if optional {
                        continue;
                    }
                    return Err(ListenError::Tcp { port });
                }
            },
        };
        match listen_on(SocketAddr::new(ip, port), backlog) {
            Ok(listener) => listeners.push(listener),
            Err(err) => {
                warn!(
                    "Warning: Could not create server TCP listening socket {host}:{port}: bind: {err}"
                );
                if !optional {
                    return Err(ListenError::Tcp { port });
                }
            }
        }
    }
    if listeners.is_empty() {
        return Err(ListenError::Tcp { port });
    }
    Ok(listeners)
}

fn listen_on(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(511))?;
    TcpListener::from_std(socket.into())
}

/// Accepts TCP connections forever.
pub async fn accept_tcp(shared: Arc<Shared>, listener: TcpListener, workers: Arc<Workers>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                warn!(error = %err, "Accepting client connection failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(local) = stream.local_addr() else {
            continue;
        };
        if let Err(err) = configure(&stream, &shared).await {
            debug!(error = %err, "could not configure the client socket");
        }
        if admit(&shared).await {
            workers.serve_tcp(shared.clone(), stream, Peer::Tcp { peer, local });
        } else {
            refuse(stream);
        }
    }
}

/// TCP_NODELAY and `tcp-keepalive`.
async fn configure(stream: &TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let keepalive = shared.lock_async().await.config.tcp_keepalive;
    if keepalive > 0 {
        let params = TcpKeepalive::new()
            .with_time(Duration::from_secs(keepalive))
            .with_interval(Duration::from_secs((keepalive / 3).max(1)));
        SockRef::from(stream).set_tcp_keepalive(&params)?;
    }
    Ok(())
}

/// Whether another client fits under `maxclients`; counts the refusal when not.
async fn admit(shared: &Shared) -> bool {
    let mut server = shared.lock_async().await;
    let full = server.clients.len() >= server.config.maxclients;
    if full {
        server.stats.rejected_connections += 1;
    }
    !full
}

/// Tells a client over `maxclients` why it is refused, then closes the connection.
fn refuse<S: tokio::io::AsyncWrite + Unpin + Send + 'static>(mut stream: S) {
    tokio::spawn(async move {
        // Best effort: the client may already be gone.
        let _ = stream.write_all(MAX_CLIENTS_REACHED).await;
    });
}

/// Accepts unix-socket connections forever.
#[cfg(unix)]
pub async fn accept_unix(shared: Arc<Shared>, listener: tokio::net::UnixListener, path: String) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                warn!(error = %err, "Accepting client connection failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if admit(&shared).await {
            tokio::spawn(connection::serve(
                shared.clone(),
                stream,
                Peer::Unix(path.clone()),
            ));
        } else {
            refuse(stream);
        }
    }
}

/// Creates the unix socket at `path` with permissions `perm` (0 keeps the default).
///
/// # Errors
/// [`ListenError::Unix`] when the socket cannot be created.
#[cfg(unix)]
pub fn bind_unix(path: &str, perm: u32) -> Result<tokio::net::UnixListener, ListenError> {
    use std::os::unix::fs::PermissionsExt;
    // A stale socket file from an earlier run would make bind fail.
    let _ = std::fs::remove_file(path);
    let listener = tokio::net::UnixListener::bind(path).map_err(ListenError::Unix)?;
    if perm != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
            .map_err(ListenError::Unix)?;
    }
    Ok(listener)
}
