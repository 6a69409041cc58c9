//! Listening sockets: TCP on every `bind` address and, optionally, a unix socket. Each accepted
//! connection gets its own task; `maxclients` is enforced here, as Redis does, with an error
//! line and a close.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use oxidis_core::Server;
use oxidis_core::client::Peer;
use oxidis_core::server::ListenerHooks;
use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

use crate::connection;
use crate::shared::Shared;
use crate::workers::Workers;

const MAX_CLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";

/// The refusal of protected mode, word for word as Redis sends it (clients match on it).
const PROTECTED_MODE_DENIED: &[u8] =
    b"-DENIED Redis is running in protected mode because protected \
mode is enabled and no password is set for the default user. In this mode connections are only \
accepted from the loopback interface. If you want to connect from external computers to Redis you \
may adopt one of the following solutions: 1) Just disable protected mode sending the command \
'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same \
host the server is running, however MAKE SURE Redis is not publicly accessible from internet if \
you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable \
the protected mode by editing the Redis configuration file, and setting the protected mode option \
to 'no', and then restarting the server. 3) If you started the server manually just for testing, \
restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the \
default user. NOTE: You only need to do one of the above things in order for the server to start \
accepting connections from the outside.\r\n";

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
    bind_std(bind, port, backlog)
        .and_then(|listeners| listeners.into_iter().map(TcpListener::from_std).collect())
        .map_err(|_| ListenError::Tcp { port })
}

/// [`bind_tcp`]'s work, as std sockets (which need no runtime, so CONFIG SET can bind from a
/// command and fail synchronously); the error is the last address's.
fn bind_std(
    bind: &[String],
    port: u16,
    backlog: u32,
) -> std::io::Result<Vec<std::net::TcpListener>> {
    let mut listeners = Vec::new();
    let mut failure = None;
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
                    let err = std::io::Error::new(ErrorKind::InvalidInput, "Invalid argument");
                    if optional {
                        failure = Some(err);
                        continue;
                    }
                    return Err(err);
                }
            },
        };
        match listen_on(SocketAddr::new(ip, port), backlog) {
            Ok(listener) => listeners.push(listener),
            Err(err) => {
                warn!(
                    "Warning: Could not create server TCP listening socket {host}:{port}: bind: {}",
                    strerror(&err)
                );
                if !optional {
                    return Err(err);
                }
                failure = Some(err);
            }
        }
    }
    // An empty `bind` is allowed: the server then takes no TCP clients (the unix socket, if
    // any, still works), as in Redis.
    match failure {
        Some(err) if listeners.is_empty() => Err(err),
        _ => Ok(listeners),
    }
}

/// An I/O error as C's `strerror` words it.
fn strerror(err: &std::io::Error) -> String {
    oxidis_core::config::value::io_error_text(err)
}

fn listen_on(addr: SocketAddr, backlog: u32) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(511))?;
    Ok(socket.into())
}

/// Where CONFIG SET hands the listeners of a new `port` to [`serve_tcp`]; kept in the
/// server's extensions.
struct Rebind(tokio::sync::mpsc::UnboundedSender<Vec<std::net::TcpListener>>);

/// Installs the hook CONFIG SET calls when `port` changes.
pub fn install_rebind(server: &mut Server) -> RebindReceiver {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    server.extensions.insert(Rebind(sender));
    server.listener_hooks = Some(ListenerHooks { rebind_tcp });
    RebindReceiver(receiver)
}

/// The accept loops' side of [`install_rebind`].
pub struct RebindReceiver(tokio::sync::mpsc::UnboundedReceiver<Vec<std::net::TcpListener>>);

/// CONFIG SET port or bind: binds the new port on every `bind` address before anything
/// changes (so a port in use fails the command, which then rolls back), then swaps the accept
/// loops.
fn rebind_tcp(server: &mut Server, port: u16) -> Result<(), String> {
    let listeners = if port == 0 {
        Vec::new()
    } else {
        bind_std(&server.config.bind, port, server.config.tcp_backlog)
            .map_err(|err| format!("Unable to listen on this port: {}", strerror(&err)))?
    };
    let Some(Rebind(sender)) = server.extensions.get::<Rebind>() else {
        return Err("Unable to listen on this port: the server is not accepting yet".into());
    };
    sender
        .send(listeners)
        .map_err(|_| "Unable to listen on this port: the server is shutting down".to_string())?;
    server.process.tcp_port = port;
    Ok(())
}

/// Runs the accept loops on `listeners`, replacing them whenever CONFIG SET changes the port.
pub async fn serve_tcp(
    shared: Arc<Shared>,
    listeners: Vec<TcpListener>,
    workers: Arc<Workers>,
    mut rebind: RebindReceiver,
) {
    let spawn_all = |listeners: Vec<TcpListener>| -> Vec<tokio::task::JoinHandle<()>> {
        listeners
            .into_iter()
            .map(|l| tokio::spawn(accept_tcp(shared.clone(), l, workers.clone())))
            .collect()
    };
    let mut loops = spawn_all(listeners);
    while let Some(new) = rebind.0.recv().await {
        // Dropping the old listeners (with their tasks) closes the old port, as Redis does.
        for task in loops.drain(..) {
            task.abort();
        }
        let converted: std::io::Result<Vec<TcpListener>> =
            new.into_iter().map(TcpListener::from_std).collect();
        match converted {
            Ok(listeners) => loops = spawn_all(listeners),
            Err(err) => warn!("Can't serve the new port: {}", strerror(&err)),
        }
    }
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
        match admit(&shared, Some(peer.ip())).await {
            Ok(()) => workers.serve_tcp(shared.clone(), stream, Peer::Tcp { peer, local }),
            Err(reason) => refuse(stream, reason),
        }
    }
}

/// TCP_NODELAY and `tcp-keepalive`.
async fn configure(stream: &TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    // While a script is busy the new connection is not kept waiting: Redis's default then.
    let keepalive = shared
        .lock_unless_busy()
        .await
        .map_or(300, |server| server.config.tcp_keepalive);
    if keepalive > 0 {
        let params = TcpKeepalive::new()
            .with_time(Duration::from_secs(keepalive))
            .with_interval(Duration::from_secs((keepalive / 3).max(1)));
        SockRef::from(stream).set_tcp_keepalive(&params)?;
    }
    Ok(())
}

/// Whether a new client from `remote` (`None`: the unix socket) is served: it must fit under
/// `maxclients` and, in protected mode without a password, come from the loopback interface.
/// A refusal is counted and comes with the line to send before closing.
/// While a script holds the keyspace the client is let in unchecked (it is answered BUSY).
async fn admit(shared: &Shared, remote: Option<IpAddr>) -> Result<(), &'static [u8]> {
    let Some(mut server) = shared.lock_unless_busy().await else {
        return Ok(());
    };
    let refusal = if server.clients.len() >= server.config.maxclients {
        Some(MAX_CLIENTS_REACHED)
    } else if server.config.protected_mode
        && server.config.requirepass.is_none()
        && remote.is_some_and(|ip| !ip.to_canonical().is_loopback())
    {
        Some(PROTECTED_MODE_DENIED)
    } else {
        None
    };
    match refusal {
        Some(line) => {
            server.stats.rejected_connections += 1;
            Err(line)
        }
        None => Ok(()),
    }
}

/// Tells a refused client why (see [`admit`]), then closes the connection.
fn refuse<S: tokio::io::AsyncWrite + Unpin + Send + 'static>(mut stream: S, line: &'static [u8]) {
    tokio::spawn(async move {
        // Best effort: the client may already be gone.
        let _ = stream.write_all(line).await;
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
        match admit(&shared, None).await {
            Ok(()) => {
                tokio::spawn(connection::serve(
                    shared.clone(),
                    stream,
                    Peer::Unix(path.clone()),
                ));
            }
            Err(reason) => refuse(stream, reason),
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
