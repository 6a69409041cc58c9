//! `oxidis-server`: a drop-in for `redis-server`. It takes the same command line
//! (`oxidis-server [/path/to/redis.conf] [--port 7777] [--save ""] ...`), logs in Redis's
//! format, listens on TCP and optionally a unix socket, and serves until SIGTERM, SIGINT or
//! SHUTDOWN.

mod connection;
mod cron;
mod extensions;
mod listener;
mod logging;
#[cfg(test)]
mod module_blocking_tests;
mod replica;
mod shared;
mod workers;

use std::io::Write;
use std::sync::Arc;

use oxidis_core::config::{CommandLine, Config};
use oxidis_core::{CommandTable, REDIS_VERSION, Server};
use tracing::{info, warn};

use crate::shared::Shared;

/// Counts allocated bytes for INFO's `used_memory` and for `maxmemory`.
#[global_allocator]
static ALLOCATOR: oxidis_core::memory::CountingAllocator<std::alloc::System> =
    oxidis_core::memory::CountingAllocator(std::alloc::System);

fn main() {
    ALLOCATOR.activate();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match CommandLine::parse(&args) {
        CommandLine::Version => {
            println!(
                "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=libc bits=64 build=oxidis-{}",
                env!("CARGO_PKG_VERSION")
            );
            return;
        }
        CommandLine::Help => {
            print_usage();
            std::process::exit(1);
        }
        CommandLine::TestMemory(_) | CommandLine::CheckSystem => {
            eprintln!("Oxidis has no memory test or system check; run the server instead.");
            std::process::exit(1);
        }
        CommandLine::Run(_) => {}
    }
    let config = match Config::from_args(&args) {
        Ok((config, _file)) => config,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    if let Err(message) = logging::init(&config.loglevel, &config.logfile) {
        eprintln!("{message}");
        std::process::exit(1);
    }
    let code = match run(config) {
        Ok(()) => 0,
        Err(err) => {
            warn!("{err}");
            1
        }
    };
    std::process::exit(code);
}

fn print_usage() {
    let mut out = std::io::stderr();
    let _ = writeln!(
        out,
        "Usage: ./oxidis-server [/path/to/redis.conf] [options] [-]\n       \
         ./oxidis-server - (read config from stdin)\n       \
         ./oxidis-server -v or --version\n       \
         ./oxidis-server -h or --help\n\n\
         Examples:\n       \
         ./oxidis-server (run the server with default conf)\n       \
         ./oxidis-server /etc/redis/6379.conf\n       \
         ./oxidis-server --port 7777\n       \
         ./oxidis-server /etc/myredis.conf --loglevel verbose -"
    );
}

/// Starts everything and serves until shutdown.
fn run(config: Config) -> anyhow::Result<()> {
    info!("oO0OoO0OoO0Oo Oxidis is starting oO0OoO0OoO0Oo");
    info!(
        "Oxidis version={}, Redis version={REDIS_VERSION}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    info!("Configuration loaded");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_stack_size(crate::SCRIPT_THREAD_STACK)
        .build()?;
    runtime.block_on(serve(config))
}

/// Stack of the threads scripts run on (tokio's blocking pool): the Lua libraries and the
/// reply conversion recurse once per nesting level (up to cjson's 1000 and Lua's own limits),
/// which a debug build's frames would not fit in the default 2 MiB. Only touched pages cost.
pub const SCRIPT_THREAD_STACK: usize = 64 * 1024 * 1024;

async fn serve(config: Config) -> anyhow::Result<()> {
    let mut table = CommandTable::with_builtins();
    extensions::register_extensions(&mut table)?;
    if !config.dir.is_empty() {
        std::env::set_current_dir(&config.dir)
            .map_err(|err| anyhow::anyhow!("Can't chdir to '{}': {err}", config.dir))?;
    }
    let tcp = if config.port == 0 {
        Vec::new()
    } else {
        listener::bind_tcp(&config.bind, config.port, config.tcp_backlog)?
    };
    #[cfg(unix)]
    let unix = match &config.unixsocket {
        Some(path) => Some((
            listener::bind_unix(path, config.unixsocketperm)?,
            path.clone(),
        )),
        None => None,
    };
    write_pidfile(&config.pidfile);
    let mut server = Server::with_table(config, table);
    extensions::install_hooks(&mut server);
    // A failure is logged; Redis starts anyway.
    let class = if server.config.replicaof.is_some() {
        oxidis_core::oom_score::ProcessClass::Replica
    } else {
        oxidis_core::oom_score::ProcessClass::Master
    };
    let _ = server.oom_score.apply(&server.config, class);
    server.process = oxidis_core::server::ProcessInfo {
        run_id: oxidis_core::server::random_hex_id(&mut rand::rng()),
        pid: std::process::id(),
        tcp_port: server.config.port,
        executable: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        config_file: server
            .config
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    };
    let rebind = listener::install_rebind(&mut server);
    let pidfile = server.config.pidfile.clone();
    let port = server.config.port;
    let shared = Shared::new(server);
    info!(
        "Running mode=standalone, port={port}. Oxidis PID: {}",
        std::process::id()
    );
    info!("Server initialized");
    // As Redis: the PID line and "Server initialized" first, then the dataset, and only then
    // "Ready to accept connections" (the test suite waits for each in turn).
    let pending = extensions::load_dataset(&mut shared.server.lock());
    let pending = match pending {
        Ok(pending) => pending,
        Err(err) => anyhow::bail!(err),
    };
    let workers = workers::Workers::start(io_threads(&shared))?;
    tokio::spawn(listener::serve_tcp(
        shared.clone(),
        tcp,
        workers.clone(),
        rebind,
    ));
    #[cfg(unix)]
    if let Some((listener, path)) = unix {
        info!("The server is now ready to accept connections at {path}");
        tokio::spawn(listener::accept_unix(shared.clone(), listener, path));
    }
    // An RDB file loads while clients connect and get `-LOADING` (INFO, CLIENT... answer).
    if let Some(load) = pending {
        load_while_serving(&shared, load, &pidfile).await?;
    }
    tokio::spawn(cron::run(shared.clone()));
    tokio::spawn(replica::run(shared.clone()));
    info!("Ready to accept connections");
    loop {
        wait_for_shutdown(&shared).await;
        if shutdown(&shared, &pidfile) {
            return Ok(());
        }
    }
}

/// Waits for the startup load, serving clients meanwhile. A signal or SHUTDOWN meanwhile ends
/// the process without saving (Redis forces NOSAVE while loading: the dataset is partial).
async fn load_while_serving(
    shared: &Arc<Shared>,
    load: extensions::PendingLoad,
    pidfile: &str,
) -> anyhow::Result<()> {
    let loading = extensions::finish_loading(shared, load);
    #[cfg(unix)]
    let result = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            result = loading => result,
            _ = term.recv() => exit_while_loading("SIGTERM", pidfile),
            _ = int.recv() => exit_while_loading("SIGINT", pidfile),
            () = shared.shutdown.notified() => exit_while_loading("SHUTDOWN", pidfile),
        }
    };
    #[cfg(not(unix))]
    let result = tokio::select! {
        result = loading => result,
        () = shared.shutdown.notified() => exit_while_loading("SHUTDOWN", pidfile),
    };
    result.map_err(|err| anyhow::anyhow!(err))
}

/// Redis's shutdown during a load: no save, the pid file removed, exit.
fn exit_while_loading(what: &str, pidfile: &str) -> ! {
    warn!("Received {what} during loading, shutting down without saving.");
    warn!("User requested shutdown...");
    if !pidfile.is_empty() {
        info!("Removing the pid file.");
        let _ = std::fs::remove_file(pidfile);
    }
    warn!("Oxidis is now ready to exit, bye bye...");
    std::process::exit(0);
}

/// How many I/O threads to run: `io-threads`, as in Redis (default 1).
fn io_threads(shared: &Shared) -> usize {
    let server = shared.server.lock();
    server
        .config
        .get("io-threads")
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
        .unwrap_or(1)
}

/// Waits for SIGTERM, SIGINT or a SHUTDOWN command.
async fn wait_for_shutdown(shared: &Arc<Shared>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            shared.shutdown.notified().await;
            return;
        };
        // A signal only schedules the shutdown: the cron carries it out (so SHUTDOWN ABORT
        // can still call it off), as Redis's `shutdown_asap`.
        loop {
            tokio::select! {
                _ = term.recv() => warn!("Received SIGTERM scheduling shutdown..."),
                _ = int.recv() => warn!("Received SIGINT scheduling shutdown..."),
                () = shared.shutdown.notified() => return,
            }
            shared.lock_async().await.shutdown_asap = true;
        }
    }
    #[cfg(not(unix))]
    shared.shutdown.notified().await;
}

/// Redis's shutdown sequence: the final save when configured, minus what later crates add
/// (AOF fsync). False when the save failed without FORCE: the server keeps running, as Redis's.
fn shutdown(shared: &Shared, pidfile: &str) -> bool {
    warn!("User requested shutdown...");
    // Hold the lock to the end, so no command runs after the final state is decided.
    let mut server = shared.server.lock();
    let force = server.shutdown_request.is_some_and(|r| r.force);
    extensions::flush_aof_on_shutdown(&mut server);
    if extensions::save_on_shutdown(&mut server).is_err() && !force {
        warn!("Error trying to save the DB, can't exit.");
        server.shutdown_request = None;
        return false;
    }
    oxidis_core::modules::events::fire(&mut server, &oxidis_core::modules::ServerEvent::Shutdown);
    if !pidfile.is_empty() {
        info!("Removing the pid file.");
        let _ = std::fs::remove_file(pidfile);
    }
    warn!("Oxidis is now ready to exit, bye bye...");
    true
}

fn write_pidfile(path: &str) {
    if path.is_empty() {
        return;
    }
    if let Err(err) = std::fs::write(path, format!("{}\n", std::process::id())) {
        warn!("Failed to write PID file: {err}");
    }
}
